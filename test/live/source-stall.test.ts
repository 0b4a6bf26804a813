/**
 * Live acceptance 5: a source that stops reading (SIGSTOP) under a write load. The master blocks the
 * writes of a shard whose replica output reached its limit, for at most --replication_timeout, then
 * drops the replica and writes at full speed again; resumed (SIGCONT), the source reconnects by
 * itself with a partial sync (the backlog still holds its positions) and the target ends equal.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type Redis from 'ioredis';
import { freshRedisForFile, waitFor } from '../integration/sink-harness';
import { createTopic, uniqueName } from '../integration/source-helpers';
import { kafkaBrokers } from '../support/env';
import { dragonflies, liveSkip } from '../support/live-dragonfly';
import { startSink, waitUntilEqual, within } from '../support/live-pipeline';
import { startSourceProcess, type SourceChild } from '../support/source-process';

const SHARDS = 2;
const REPLICATION_TIMEOUT_MS = 5000;
/** scheduling, the master's once-a-second check of stalled flows */
const SLACK_MS = 3000;
const VALUE = 'v'.repeat(4096);

/** Pipelined SETs of 4 KiB values until stopped, timing each round trip. */
function startTimedWrites(client: Redis): { stop(): Promise<void>; slowestSince(at: number): number } {
  const rounds: { at: number; ms: number }[] = [];
  let stopping = false;
  let n = 0;
  const run = async (): Promise<void> => {
    while (!stopping) {
      const started = Date.now();
      const batch = client.pipeline();
      for (let i = 0; i < 10; i++) batch.set(`stall:${n++ % 5000}`, VALUE);
      await batch.exec();
      rounds.push({ at: started, ms: Date.now() - started });
    }
  };
  const running = run();
  return {
    async stop() {
      stopping = true;
      await running;
    },
    slowestSince: (at) => Math.max(0, ...rounds.filter((r) => r.at >= at).map((r) => r.ms)),
  };
}

async function connectedReplicas(master: Redis): Promise<number> {
  const info = await master.info('replication');
  return Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? -1);
}

describe('live: a stalled source', { skip: liveSkip }, () => {
  const servers = dragonflies();
  const target = freshRedisForFile();

  test(
    'SIGSTOP: the master is slowed at most its timeout, drops the source, which recovers',
    { timeout: 180_000 },
    async (t) => {
      const master = await servers.start({
        shards: SHARDS,
        // a backlog that holds what is written during the stall: the source can resume partially
        extraArgs: [`--replication_timeout=${REPLICATION_TIMEOUT_MS}`, '--shard_repl_backlog_len=200000'],
      });
      const m = master.client();
      const writes = master.client();
      const topic = uniqueName('live-stall');
      await createTopic(kafkaBrokers(), topic, SHARDS);
      const sink = startSink(topic, target.url);
      const source: SourceChild = startSourceProcess(master.url, topic, `${topic}-source`);
      const load = startTimedWrites(writes);
      try {
        await within(source.logged('snapshot of epoch'), 60_000, 'the snapshot to be in Kafka');
        const stoppedAt = Date.now();
        source.child.kill('SIGSTOP');
        await waitFor(
          'the master to drop the stalled source',
          async () => (await connectedReplicas(m)) === 0,
          60_000,
        );
        const droppedAt = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const slowestWhileStalled = load.slowestSince(stoppedAt);
        const slowestAfterDrop = load.slowestSince(droppedAt + 500);
        assert.ok(
          slowestWhileStalled <= REPLICATION_TIMEOUT_MS + SLACK_MS,
          `a write waited ${slowestWhileStalled} ms (limit ${REPLICATION_TIMEOUT_MS} ms)`,
        );
        assert.ok(slowestAfterDrop < 1000, `after the drop a write still waited ${slowestAfterDrop} ms`);
        t.diagnostic(
          `dropped ${droppedAt - stoppedAt} ms after SIGSTOP; slowest write ${slowestWhileStalled} ms while stalled, ${slowestAfterDrop} ms after`,
        );

        await load.stop();
        source.child.kill('SIGCONT');
        const resumed = await within(
          source.logged('partial sync of', 'full sync of'),
          60_000,
          'the source to sync again',
        );
        await within(source.logged('stable sync on all'), 60_000, 'stable sync after the stall');
        await waitUntilEqual(m, target.client, 90_000, { parts: [sink] });
        assert.equal(resumed, 'partial sync of', 'the backlog still holds the positions');
      } finally {
        await load.stop();
        source.child.kill('SIGCONT');
        source.child.kill('SIGKILL');
        await source.exited;
        await sink.stop();
        m.disconnect();
        writes.disconnect();
      }
    },
  );
});
