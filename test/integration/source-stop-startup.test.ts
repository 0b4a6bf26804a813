import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSource } from '../../src/source/run';
import { startScriptedMaster } from '../support/test-master';
import { quietLogger, sourceConfig, uniqueName } from './source-helpers';

/** A stop asked while the source starts up against an unreachable Kafka ends within the grace period. */
test(
  'stop during start-up with Kafka unreachable: ends within replica.stopTimeoutMs',
  { timeout: 60_000 },
  async () => {
    const master = await startScriptedMaster({ flowCount: 1 });
    const stop = new AbortController();
    const running = runSource(
      sourceConfig({
        'dragonfly-url': master.url,
        'kafka-brokers': '127.0.0.1:1',
        topic: uniqueName('startup'),
        'source-id': uniqueName('src'),
        'replica-stop-timeout-ms': 2000,
      }),
      quietLogger(),
      stop.signal,
    );
    const outcome = running.then(
      () => 'stopped',
      (e: Error) => `failed: ${e.message}`,
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const askedAt = Date.now();
      stop.abort();
      const result = await Promise.race([
        outcome,
        new Promise((r) => setTimeout(() => r('still running'), 10_000)),
      ]);
      const tookMs = Date.now() - askedAt;
      assert.ok(tookMs <= 2000, `the stop took ${tookMs} ms (${String(result)})`);
    } finally {
      await master.stop();
    }
  },
);
