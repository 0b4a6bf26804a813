import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { sinkConfig } from '../../../src/config/sink';
import { sourceConfig } from '../../../src/config/source';
import type { OptionInfo } from '../../../src/config/define';
import { REPEAT_WINDOW_MS } from '../../../src/cli/signals';

const root = join(__dirname, '..', '..', '..');
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !/^(DRAGONFLY_|KAFKA_|REDIS_|TOPIC|LOG_|METRICS_)/.test(name),
  ),
);

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    env: { ...cleanEnv, ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--version prints the version of package.json', () => {
  const { code, stdout } = cli(['--version']);
  assert.equal(code, 0);
  assert.equal(stdout.trim(), (require('../../../package.json') as { version: string }).version);
});

test('--help lists the commands; no command at all is a usage error', () => {
  const help = cli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^ {2}source +replicate a Dragonfly master/m);
  assert.match(help.stdout, /^ {2}sink +replay the change events/m);
  const none = cli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: dragonfly-cdc <command>/);
});

test('an unknown command exits with 2 and says how to list the commands', () => {
  const { code, stderr } = cli(['replicate']);
  assert.equal(code, 2);
  assert.match(stderr, /unknown command "replicate"/);
  assert.match(stderr, /dragonfly-cdc --help/);
});

function assertListsEveryOption(help: string, options: OptionInfo[]): void {
  for (const option of options) {
    const block = new RegExp(
      `^ {2}${option.flag}\\b.*\\n {6}${option.path.replace(/\./g, '\\.')} / ${option.env} / default `,
      'm',
    );
    assert.match(help, block, `help lacks ${option.flag}`);
    assert.ok(help.includes(option.doc), `help lacks the doc of ${option.path}`);
  }
}

test('source --help lists every option with flag, env var, default and doc', () => {
  const { code, stdout } = cli(['source', '--help']);
  assert.equal(code, 0);
  assertListsEveryOption(stdout, sourceConfig.options);
  assert.match(
    stdout,
    /--dragonfly-url <url>\n {6}dragonfly\.url \/ DRAGONFLY_URL \/ default redis:\/\/127\.0\.0\.1:6379/,
  );
});

test('sink --help lists every option with flag, env var, default and doc', () => {
  const { code, stdout } = cli(['sink', '--help']);
  assert.equal(code, 0);
  assertListsEveryOption(stdout, sinkConfig.options);
});

test('--print-config prints the effective configuration with secrets redacted', () => {
  const { code, stdout } = cli(
    [
      'sink',
      '--print-config',
      '--redis-url',
      'redis://app:url-secret@redis:6379',
      '--redis-password',
      'flag-secret',
    ],
    { KAFKA_SASL_PASSWORD: 'env-secret', KAFKA_BROKERS: 'kafka:9092' },
  );
  assert.equal(code, 0);
  assert.doesNotMatch(stdout, /url-secret|flag-secret|env-secret/);
  const printed = JSON.parse(stdout) as {
    redis: { url: string; password: string };
    kafka: { brokers: string[]; sasl: { password: string } };
  };
  assert.equal(printed.redis.url, 'redis://app:[redacted]@redis:6379');
  assert.equal(printed.redis.password, '[redacted]');
  assert.equal(printed.kafka.sasl.password, '[redacted]');
  assert.deepEqual(printed.kafka.brokers, ['kafka:9092']);
});

test('a configuration error exits with 2 and names the option', () => {
  const { code, stderr, stdout } = cli(['source', '--kafka-brokers', 'kafka'], {});
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.match(
    stderr,
    /kafka\.brokers: \["kafka"\] \(from flag --kafka-brokers\) is not accepted; expected a list of host:port/,
  );
  assert.match(stderr, /dragonfly-cdc source --help/);
});

/** Starts the fake-runner CLI and resolves once its runner is running. */
async function startFakeSource(mode: 'graceful' | 'stubborn') {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/unit/cli/fixtures/fake-runner-cli.ts', 'source', '--log-format', 'json'],
    { cwd: root, env: { ...cleanEnv, FAKE_RUNNER: mode }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => output.stdout.includes('runner started'), 'the runner to start', output);
  return { child, output, exited };
}

async function waitFor(condition: () => boolean, what: string, output: object): Promise<void> {
  const deadline = Date.now() + 15000;
  while (!condition()) {
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}; output: ${JSON.stringify(output)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  assert.ok(child.kill(signal), `could not send ${signal}`);
}

test('one Ctrl+C delivered twice at once (process group + a relaying wrapper) stops gracefully', async () => {
  const { child, output, exited } = await startFakeSource('graceful');
  kill(child, 'SIGINT');
  await waitFor(() => output.stdout.includes('stop hook ran (SIGINT)'), 'the stop hook', output);
  // npm's relayed copy arrived 33 ms after the terminal's in a real `npm start`
  kill(child, 'SIGINT');
  assert.equal(await exited, 0);
  assert.match(output.stdout, /stop hook ran \(SIGINT\)\nrunner finished\n/);
  assert.doesNotMatch(output.stderr, /exiting now/);
});

test('SIGHUP is ignored; SIGTERM runs the stop hook and the command exits with 0', async () => {
  const { child, output, exited } = await startFakeSource('graceful');
  kill(child, 'SIGHUP');
  await waitFor(() => output.stderr.includes('SIGHUP'), 'the SIGHUP log line', output);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(child.exitCode, null, 'the process must survive SIGHUP');
  assert.doesNotMatch(output.stdout, /stop hook ran/);
  kill(child, 'SIGTERM');
  assert.equal(await exited, 0);
  assert.match(output.stdout, /stop hook ran \(SIGTERM\)\nrunner finished\n/);
  assert.match(output.stderr, /"role":"source".*"msg":"received SIGTERM: stopping gracefully/);
  assert.match(output.stderr, /"msg":"source stopped"/);
});

test('a second SIGINT forces the exit with 1 when the graceful stop hangs', async () => {
  const { child, output, exited } = await startFakeSource('stubborn');
  kill(child, 'SIGINT');
  await waitFor(() => output.stdout.includes('stop hook ran (SIGINT)'), 'the stop hook', output);
  await new Promise((resolve) => setTimeout(resolve, REPEAT_WINDOW_MS + 100));
  kill(child, 'SIGINT');
  assert.equal(await exited, 1);
  assert.match(output.stderr, /received SIGINT again: exiting now, without a clean stop/);
});
