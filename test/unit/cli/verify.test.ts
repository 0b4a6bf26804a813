/**
 * `dragonfly-cdc verify` as a command: --help lists every option with flag, env var and default and
 * the exit codes; bad input is a usage error (2) naming the option; an unreachable server is exit
 * code 3 with the URL and what to check.
 */
import assert from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../../src/cli/dispatch';
import { createVerifyCommand } from '../../../src/cli/commands/verify';
import { optionTable } from '../../../src/config/reference';
import { freeLoopbackPort } from '../../../src/localstack/ports';
import { systemClock } from '../../../src/verify/rate-limit';
import { verifyConfig } from '../../../src/verify/config';

async function verify(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const io = {
    env,
    stdout: (text: string) => void (stdout += text),
    stderr: (text: string) => void (stderr += text),
    clock: systemClock,
  };
  const code = await runCli(['verify', ...args], [createVerifyCommand(io)], io);
  return { code, stdout, stderr };
}

test('--help lists every option with its flag, env var and default, and the exit codes', async () => {
  const { code, stdout } = await verify(['--help']);
  assert.equal(code, 0);
  for (const option of verifyConfig.options) {
    assert.ok(stdout.includes(option.flag), `${option.flag} in --help`);
    assert.ok(stdout.includes(`${option.path} / ${option.env} /`), `${option.env} in --help`);
  }
  assert.match(
    stdout,
    /0 = equal, 1 = differences found, 2 = usage or configuration error,\n3 = cannot connect/,
  );
});

test('docs/verify.md lists every option as the schema defines them', () => {
  const docs = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'verify.md'), 'utf8');
  assert.ok(
    docs.includes(`<!-- options:verify -->\n${optionTable(verifyConfig.options)}\n<!-- end -->`),
    'docs/verify.md is out of date: replace its option table with optionTable(verifyConfig.options) (src/config/reference.ts)',
  );
});

test('missing URLs, an unknown flag or a bad value are usage errors (exit 2) naming the option', async () => {
  const none = await verify([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /source\.url is empty/);
  assert.match(none.stderr, /target\.url is empty/);
  const unknown = await verify([
    '--source-url',
    'redis://a:1',
    '--target-url',
    'redis://b:2',
    '--sampel-percent',
    '5',
  ]);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /unknown option --sampel-percent for verify \(did you mean --sample-percent\?\)/,
  );
  const bad = await verify([
    '--source-url',
    'redis://a:1',
    '--target-url',
    'redis://b:2',
    '--sample-percent',
    '0',
  ]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /sample\.percent: 0 \(from flag --sample-percent\) is not accepted; expected a whole number from 1 to 100/,
  );
  const cut = await verify([
    '--source-url',
    'redis://a:1',
    '--target-url',
    'redis://b:2',
    '--cut-mode',
    'master',
  ]);
  assert.equal(cut.code, 2);
  assert.match(cut.stderr, /cut\.mode is "master": set kafka\.brokers and topic/);
});

test('settings come from env vars too; --print-config shows them with the password hidden', async () => {
  const { code, stdout } = await verify(['--print-config'], {
    SOURCE_URL: 'redis://user:secret@127.0.0.1:1',
    TARGET_URL: 'redis://127.0.0.1:2',
    MODE: 'quick',
  });
  assert.equal(code, 0);
  const printed = JSON.parse(stdout) as { source: { url: string }; mode: string };
  assert.equal(printed.mode, 'quick');
  assert.doesNotMatch(printed.source.url, /secret/);
});

test('an unreachable source or target is exit code 3 naming it and what to check', async () => {
  const [a, b] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const { code, stderr, stdout } = await verify([
    '--source-url',
    `redis://127.0.0.1:${a}`,
    '--target-url',
    `redis://127.0.0.1:${b}`,
  ]);
  assert.equal(code, 3);
  assert.equal(stdout, '');
  assert.match(
    stderr,
    new RegExp(`cannot connect to the source at redis://127.0.0.1:${a}: .*ECONNREFUSED.*check --source-url`),
  );
  assert.match(
    stderr,
    new RegExp(`cannot connect to the target at redis://127.0.0.1:${b}: .*check --target-url`),
  );
});
