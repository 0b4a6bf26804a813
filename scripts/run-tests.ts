/**
 * The test entry point (`npm test` runs it after typecheck, lint and format checks).
 * Finds test files, and runs them with node's own test runner through tsx.
 * Arguments narrow the run: `npm test -- test/unit` or a single file.
 *
 * When the run includes anything under test/integration/ or test/live/, a real Kafka broker and redis-server are
 * started once for the whole run (src/localstack) and their addresses passed to the tests in
 * KAFKA_BROKERS and REDIS_URL (read them with test/support/env.ts). Set both variables beforehand to
 * use servers you started yourself, e.g. with `dragonfly-cdc stack --print-env`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { startLocalStack, type LocalStack } from '../src/localstack/local-stack';

/** No single test may hang the run (CI has a hard time limit): a test running longer fails. */
const TEST_TIMEOUT_MS = Number(process.env.TEST_TIMEOUT_MS ?? 600_000);
const root = join(__dirname, '..');
/** Test folders whose files need the local Kafka + Redis stack. */
const stackDirs = [join(root, 'test', 'integration') + sep, join(root, 'test', 'live') + sep];

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

async function startStackFor(env: NodeJS.ProcessEnv): Promise<LocalStack> {
  const started = Date.now();
  console.error('starting the local stack (Kafka + Redis) for the integration and live tests');
  const stack = await startLocalStack({
    log: (message) => console.error(`  ${message}`),
    stopOnSignals: false,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.error(
    `local stack ready in ${seconds} s: Kafka ${stack.kafkaVersion} at ${stack.kafkaBrokers}, ` +
      `Redis ${stack.redisVersion} at ${stack.redisUrl}`,
  );
  env.KAFKA_BROKERS = stack.kafkaBrokers;
  env.REDIS_URL = stack.redisUrl;
  env.KAFKA_VERSION = stack.kafkaVersion;
  env.KAFKA_LIBS_DIR = stack.kafkaLibsDir;
  env.REDIS_SERVER_BIN = stack.redisServerBin;
  return stack;
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).map((p) => join(root, p));
  const roots = wanted.length > 0 ? wanted : [join(root, 'test')];
  const files = roots.flatMap((p) => (statSync(p).isDirectory() ? findTests(p) : [p]));
  if (files.length === 0) {
    console.error(`no test files under ${roots.map((r) => relative(root, r)).join(', ')}`);
    return 1;
  }

  // Ctrl+C reaches the test runner and the servers directly (same process group); a SIGTERM sent to
  // this script alone is passed on to the runner. Either way the stack is stopped before exiting.
  let signalled: NodeJS.Signals | undefined;
  const testRunner: { process?: ChildProcess } = {};
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled = signal;
    testRunner.process?.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const exitCodeForSignal = (signal: NodeJS.Signals): number => 128 + (signal === 'SIGINT' ? 2 : 15);

  // kafkajs warns once per process about its v2 partitioner change, which says nothing about our code
  const env: NodeJS.ProcessEnv = { KAFKAJS_NO_PARTITIONER_WARNING: '1', ...process.env };
  const needsStack = files.some((file) => stackDirs.some((dir) => file.startsWith(dir)));
  const stack = needsStack && !(env.KAFKA_BROKERS && env.REDIS_URL) ? await startStackFor(env) : undefined;
  if (signalled) {
    await stack?.stop();
    return exitCodeForSignal(signalled);
  }

  const runner = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      '--test-concurrency=1',
      `--test-timeout=${TEST_TIMEOUT_MS}`,
      ...files,
    ],
    { stdio: 'inherit', cwd: root, env },
  );
  testRunner.process = runner;
  const code = await new Promise<number>((resolve) => {
    runner.once('exit', (status) => resolve(status ?? 1));
    runner.once('error', (err) => {
      console.error(`cannot start node's test runner: ${err.message}`);
      resolve(1);
    });
  });
  await stack?.stop();
  return signalled ? exitCodeForSignal(signalled) : code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
