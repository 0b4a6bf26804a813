/**
 * Live acceptance 3: the source killed with SIGKILL during stable sync, under writes, and restarted:
 * a partial sync continues the epoch (no new snapshot) and the target ends equal; killed again and
 * restarted after the master's backlog has moved past the stored positions: a new epoch, and the
 * target is rebuilt equal (keys deleted meanwhile are gone from it).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freshRedisForFile } from '../integration/sink-harness';
import { createTopic, keyProblems, readTopic, uniqueName } from '../integration/source-helpers';
import { kafkaBrokers } from '../support/env';
import { startWriteLoad, writeMixedDataset } from '../support/live-dataset';
import { dragonflies, liveSkip, REDIS_70_DEGRADED } from '../support/live-dragonfly';
import { startSink, waitUntilEqual, within } from '../support/live-pipeline';
import { startSourceProcess, type SourceChild } from '../support/source-process';

const SHARDS = 4;
const BACKLOG = 2048;
const SMALL_KEYS = 1000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function kill(source: SourceChild): Promise<void> {
  source.child.kill('SIGKILL');
  await source.exited;
}

describe('live: source kill -9 and restart', { skip: liveSkip }, () => {
  const servers = dragonflies();
  const target = freshRedisForFile();

  test(
    'partial sync while the backlog holds the positions, a new epoch after',
    { timeout: 240_000 },
    async () => {
      const master = await servers.start({
        shards: SHARDS,
        extraArgs: [`--shard_repl_backlog_len=${BACKLOG}`],
      });
      const m = master.client();
      const writes = master.client();
      await writeMixedDataset(m, SMALL_KEYS);
      const topic = uniqueName('live-restart');
      const sourceId = `${topic}-source`;
      await createTopic(kafkaBrokers(), topic, SHARDS);
      const sink = startSink(topic, target.url);
      const sources: SourceChild[] = [];
      const start = (): SourceChild => {
        const source = startSourceProcess(master.url, topic, sourceId);
        sources.push(source);
        return source;
      };
      // about 1,400 commands/s over 4 shards: a restart (a few seconds) stays well inside the backlog
      const load = startWriteLoad(writes, SMALL_KEYS, 5);
      try {
        const first = start();
        await within(first.logged('stable sync on all'), 60_000, 'the first stable sync');
        await sleep(1500);
        await kill(first);

        const second = start();
        const resumed = await within(second.logged('partial sync of', 'full sync of'), 60_000, 'a sync');
        assert.equal(resumed, 'partial sync of', 'a restart inside the backlog continues the epoch');
        await sleep(1500);
        await load.stop();
        await waitUntilEqual(m, target.client, 60_000, { ...REDIS_70_DEGRADED, parts: [sink] });

        await kill(second);
        // more than the backlog on every shard while the source is down, and keys deleted meanwhile
        for (let round = 0; round < 3; round++) {
          const batch = m.pipeline();
          for (let i = 0; i < BACKLOG * SHARDS; i++) batch.set(`overflow:${i}`, String(round));
          await batch.exec();
        }
        await m.del(...Array.from({ length: 200 }, (_, i) => `db0:k${i}`));
        const third = start();
        const rebuilt = await within(third.logged('partial sync of', 'full sync of'), 60_000, 'a sync');
        assert.equal(rebuilt, 'full sync of', 'positions the backlog no longer holds need a new epoch');
        await within(third.logged('stable sync on all'), 60_000, 'stable sync of the new epoch');
        await waitUntilEqual(m, target.client, 90_000, { ...REDIS_70_DEGRADED, parts: [sink] });
        await kill(third);

        const partitions = await readTopic(kafkaBrokers(), topic);
        assert.deepEqual(keyProblems(partitions, true).slice(0, 10), []);
        const epochs = partitions[0]!
          .filter((e) => e.event.payload.type === 'SnapshotStarted')
          .map((e) => e.event.payload);
        assert.deepEqual(
          epochs.map((p) => (p.type === 'SnapshotStarted' ? p.reason : '')),
          ['FIRST_SYNC', 'RESYNC_STALE_POSITION'],
        );
      } finally {
        await load.stop();
        for (const source of sources) await kill(source);
        await sink.stop();
        m.disconnect();
        writes.disconnect();
      }
    },
  );
});
