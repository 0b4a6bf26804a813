import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { createSinkCommand } from '../../../src/cli/commands/sink';
import { createSourceCommand } from '../../../src/cli/commands/source';
import { lazyRunner } from '../../../src/cli/lazy-runner';
import type { SinkConfig } from '../../../src/config/sink';
import type { SourceConfig } from '../../../src/config/source';
import type { Logger } from '../../../src/observability/logger';

function capture() {
  const chunks: string[] = [];
  return { stdout: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

test('the command hands the loaded configuration, a logger and the stop signal to the runner', async () => {
  let seen: { config: SourceConfig; logger: Logger; stopSignal: AbortSignal } | undefined;
  const command = createSourceCommand(
    async (config, logger, stopSignal) => {
      seen = { config, logger, stopSignal };
    },
    { env: { KAFKA_BROKERS: 'kafka:9092', LOG_LEVEL: 'silent' }, stdout: capture().stdout },
  );
  assert.equal(await command.run(['--topic', 'orders']), 0);
  assert.equal(seen?.config.topic, 'orders');
  assert.deepEqual(seen?.config.kafka.brokers, ['kafka:9092']);
  assert.equal(seen?.stopSignal.aborted, false);
  assert.equal(typeof seen?.logger.info, 'function');
});

test('--print-config prints and exits without running the runner', async () => {
  const out = capture();
  let ran = false;
  const command = createSinkCommand(
    async () => {
      ran = true;
    },
    { env: { REDIS_PASSWORD: 'hunter2' }, stdout: out.stdout },
  );
  assert.equal(await command.run(['--print-config', '--group-id', 'g1']), 0);
  assert.equal(ran, false);
  const printed = JSON.parse(out.text()) as SinkConfig;
  assert.equal(printed.groupId, 'g1');
  assert.equal(printed.redis.password, '[redacted]');
});

test('a failing runner makes the command exit with 1', async () => {
  const command = createSinkCommand(
    async () => {
      throw new Error('redis went away');
    },
    { env: { LOG_LEVEL: 'silent' }, stdout: capture().stdout },
  );
  assert.equal(await command.run([]), 1);
});

test('a pipeline missing from the build fails with a clear message', async () => {
  const runner = lazyRunner<SinkConfig>('demo', '../../nowhere/run', () => require('../../nowhere/run'));
  await assert.rejects(
    runner({} as SinkConfig, {} as Logger, new AbortController().signal),
    /the demo pipeline is not part of this build \(module nowhere\/run not found\)/,
  );
  const deeper = Object.assign(
    new Error("Cannot find module 'kafkajs-x'\nRequire stack:\n- /app/nowhere/run.ts"),
    {
      code: 'MODULE_NOT_FOUND',
    },
  );
  const broken = lazyRunner<SinkConfig>('demo', '../../nowhere/run', () => {
    throw deeper;
  });
  await assert.rejects(
    broken({} as SinkConfig, {} as Logger, new AbortController().signal),
    (error) => error === deeper,
  );
  const notAFunction = lazyRunner<SinkConfig>('demo', 'x', () => ({}));
  await assert.rejects(
    notAFunction({} as SinkConfig, {} as Logger, new AbortController().signal),
    /does not export/,
  );
});
