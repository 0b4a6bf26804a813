/**
 * Kafka stalls in the middle of a live full sync (a broker of its own, frozen with SIGSTOP while the
 * source has paused reading for it): a short freeze only slows the full sync down — it completes in
 * one epoch without a detach, the master keeping the replica; a freeze beyond
 * replica.kafkaStallDetachMs makes the source let go once and come back with a new full sync.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startKafkaBroker, type KafkaBroker } from '../../src/localstack/kafka-broker';
import { sourceMetrics } from '../../src/source/metrics';
import { runSource } from '../../src/source/run';
import { kafkaLibsDir } from '../support/env';
import { dragonflies, liveSkip } from '../support/live-dragonfly';
import {
  payloadCounts,
  quietLogger,
  readTopic,
  sourceConfig,
  uniqueName,
} from '../integration/source-helpers';

const SHARDS = 2;
const KEYS = 100_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type MetricGetter = () => Promise<{ values: { value: number; labels: Record<string, unknown> }[] }>;

async function sum(get: MetricGetter, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await get();
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((n, v) => n + v.value, 0);
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('live: Kafka stalls during a full sync', { skip: liveSkip }, () => {
  const servers = dragonflies();

  /**
   * transactionTimeoutMs: the short freeze runs with the default (60 s), as a user would; the long
   * one with 10 s, so that the broker has aborted the open transaction when it wakes up.
   */
  async function fullSyncWithFreeze(broker: KafkaBroker, freezeMs: number, transactionTimeoutMs?: number) {
    const master = await servers.start({ shards: SHARDS });
    const m = master.client();
    const metrics = sourceMetrics();
    const before = {
      detaches: await sum(() => metrics.detaches.get()),
      full: await sum(() => metrics.syncs.get(), { mode: 'full' }),
    };
    // positions of an earlier run in this process must not count as this run's
    metrics.committedLsn.reset();
    const topic = uniqueName('live-stall');
    const stop = new AbortController();
    let running: Promise<void> | null = null;
    let frozen = false;
    try {
      await m.call('DEBUG', 'POPULATE', String(KEYS), 'key', '100');
      running = runSource(
        sourceConfig({
          'dragonfly-url': master.url,
          'kafka-brokers': broker.brokers,
          topic,
          'source-id': uniqueName('live-stall-src'),
          'buffer-max-bytes': 8 * 1024 * 1024,
          ...(transactionTimeoutMs === undefined
            ? {}
            : { 'kafka-transaction-timeout-ms': transactionTimeoutMs }),
        }),
        quietLogger(),
        stop.signal,
      );
      running.catch(() => undefined);
      await waitFor(
        'reading paused for Kafka',
        async () => (await sum(() => metrics.readingPaused.get())) === 1,
        60_000,
      );
      process.kill(broker.pid, 'SIGSTOP');
      frozen = true;
      await sleep(freezeMs);
      const listedWhileFrozen = /connected_slaves:1/.test(await m.info('replication'));
      process.kill(broker.pid, 'SIGCONT');
      frozen = false;
      await waitFor(
        'the snapshot committed on every flow',
        async () => {
          for (let flow = 0; flow < SHARDS; flow++) {
            if ((await sum(() => metrics.committedLsn.get(), { flow: String(flow) })) <= 0) return false;
          }
          return (
            (await sum(() => metrics.syncs.get(), { mode: 'full' })) > before.full &&
            (await sum(() => metrics.attached.get())) === 1
          );
        },
        120_000,
      );
      return {
        listedWhileFrozen,
        detaches: (await sum(() => metrics.detaches.get())) - before.detaches,
        fullSyncs: (await sum(() => metrics.syncs.get(), { mode: 'full' })) - before.full,
        topic,
      };
    } finally {
      if (frozen) process.kill(broker.pid, 'SIGCONT');
      stop.abort();
      await running?.catch(() => undefined);
      m.disconnect();
      await master.stop();
    }
  }

  test(
    'a 10 s freeze: the full sync completes in one epoch, no detach; 25 s: one detach, then a new epoch completes',
    { timeout: 400_000 },
    async () => {
      const broker = await startKafkaBroker({ libsDir: kafkaLibsDir() });
      try {
        const short = await fullSyncWithFreeze(broker, 10_000);
        assert.equal(short.listedWhileFrozen, true, 'the master kept the replica during the freeze');
        assert.equal(short.detaches, 0, 'detaches after a 10 s freeze');
        assert.equal(short.fullSyncs, 1, 'full syncs after a 10 s freeze');
        const counts = payloadCounts(await readTopic(broker.brokers, short.topic));
        assert.equal(counts.SnapshotRecord, KEYS, 'every key once');

        const long = await fullSyncWithFreeze(broker, 25_000, 10_000);
        assert.equal(long.detaches, 1, 'detaches after a 25 s freeze');
        assert.equal(long.fullSyncs, 2, 'full syncs after a 25 s freeze (the snapshot was incomplete)');
      } finally {
        await broker.stop();
      }
    },
  );
});
