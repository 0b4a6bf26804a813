/**
 * A full sync larger than the source's buffer, from a real Dragonfly: the source reads at Kafka's pace
 * (pausing its flow sockets) instead of letting go of the master, so the snapshot completes in exactly
 * one epoch, with no detach, while the master lists the replica the whole time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareDatasets } from '../../src/reference-dataset/expected-json';
import { sourceMetrics } from '../../src/source/metrics';
import { runSource } from '../../src/source/run';
import { kafkaBrokers } from '../support/env';
import { dragonflies, dumpServer, liveSkip } from '../support/live-dragonfly';
import {
  datasetFromTopic,
  payloadCounts,
  quietLogger,
  readTopic,
  sourceConfig,
  uniqueName,
} from '../integration/source-helpers';

const SHARDS = 2;
/** ~100k events of ~250 bytes: three times the buffer */
const KEYS = 100_000;
const BUFFER_BYTES = 8 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function metricValue(get: () => Promise<{ values: { value: number; labels: object }[] }>, labels = {}) {
  const { values } = await get();
  const wanted = Object.entries(labels);
  return (
    values.find((v) => wanted.every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))?.value ?? 0
  );
}

describe('live: a full sync larger than the buffer', { skip: liveSkip }, () => {
  const servers = dragonflies();

  test(
    'completes in exactly one epoch, without a detach, the replica listed throughout',
    { timeout: 240_000 },
    async () => {
      const master = await servers.start({ shards: SHARDS });
      const m = master.client();
      try {
        const metrics = sourceMetrics();
        const detachesBefore = await metricValue(() => metrics.detaches.get());
        const fullSyncsBefore = await metricValue(() => metrics.syncs.get(), { mode: 'full' });
        const topic = uniqueName('live-fullsync');
        const stop = new AbortController();
        let running: Promise<void> | null = null;
        const replicaCounts: number[] = [];
        let watching = true;
        try {
          await m.call('DEBUG', 'POPULATE', String(KEYS), 'key', '100');
          running = runSource(
            sourceConfig({
              'dragonfly-url': master.url,
              'kafka-brokers': kafkaBrokers(),
              topic,
              'source-id': uniqueName('live-fullsync-src'),
              'buffer-max-bytes': BUFFER_BYTES,
            }),
            quietLogger(),
            stop.signal,
          );
          running.catch(() => undefined);
          const watcher = (async () => {
            while (watching) {
              const info = await m.info('replication');
              replicaCounts.push(Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0));
              await sleep(250);
            }
          })();
          const deadline = Date.now() + 180_000;
          for (;;) {
            const committed = await Promise.all(
              Array.from({ length: SHARDS }, (_, flow) =>
                metricValue(() => metrics.committedLsn.get(), { flow: String(flow) }),
              ),
            );
            if (committed.every((lsn) => lsn > 0)) break;
            const detaches = (await metricValue(() => metrics.detaches.get())) - detachesBefore;
            assert.equal(detaches, 0, 'the source let go of the master during the full sync');
            assert.ok(Date.now() < deadline, 'the full sync did not complete within 180 s');
            await sleep(200);
          }
          watching = false;
          await watcher;
        } finally {
          watching = false;
          stop.abort();
          await running?.catch(() => undefined);
        }
        await running;
        assert.equal((await metricValue(() => metrics.detaches.get())) - detachesBefore, 0, 'detaches');
        assert.equal(
          (await metricValue(() => metrics.syncs.get(), { mode: 'full' })) - fullSyncsBefore,
          1,
          'full syncs',
        );
        // the first samples may precede the master's registration of the replica
        assert.deepEqual(
          replicaCounts.slice(replicaCounts.indexOf(1)).filter((n) => n !== 1),
          [],
          'the master listed the replica throughout',
        );
        const partitions = await readTopic(kafkaBrokers(), topic);
        const counts = payloadCounts(partitions);
        assert.equal(counts.SnapshotStarted, SHARDS, 'one epoch');
        assert.equal(counts.SnapshotRecord, KEYS, 'every key once');
        const nowMs = Date.now();
        const diffs = compareDatasets(
          datasetFromTopic(partitions, () => nowMs, nowMs),
          await dumpServer(m),
          nowMs,
        );
        assert.deepEqual(diffs.slice(0, 10), [], `${diffs.length} differences`);
      } finally {
        m.disconnect();
      }
    },
  );
});
