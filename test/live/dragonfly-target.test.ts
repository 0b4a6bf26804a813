/**
 * Live acceptance 7: the sink replays into a second Dragonfly, started with Dragonfly's default
 * flags (scripts must declare their keys unless they say otherwise): the mixed dataset's full sync,
 * writes during it and commands across dbs in the stream; the target ends equal to the master,
 * except for sketches (bloom ...), which the sink does not write to any target (degrade.sketch).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startWriteLoad, writeMixedDataset } from '../support/live-dataset';
import { dragonflies, liveSkip } from '../support/live-dragonfly';
import { startPipeline, waitUntilEqual } from '../support/live-pipeline';

const SHARDS = 4;
const SMALL_KEYS = 1000;

describe('live: a Dragonfly as the sink target', { skip: liveSkip }, () => {
  const servers = dragonflies();

  test(
    'full sync, writes during it, FLUSHDB and MULTI/EXEC in the stream',
    { timeout: 180_000 },
    async () => {
      const master = await servers.start({ shards: SHARDS });
      const target = await servers.start({ shards: 2 });
      const m = master.client();
      const t = target.client();
      const writes = master.client();
      await writeMixedDataset(m, SMALL_KEYS);
      const load = startWriteLoad(writes, SMALL_KEYS);
      const pipeline = await startPipeline({ masterUrl: master.url, flows: SHARDS, targetUrl: target.url });
      const parts = [pipeline.source, pipeline.sink];
      try {
        await pipeline.source.log.waitFor(/^stable sync on all/, 60_000);
        await load.stop();
        await waitUntilEqual(m, t, 90_000, { parts, sketchesMissing: true });

        const tx = m.multi();
        for (let i = 0; i < 20; i++) tx.set(`tx:${i}`, String(i));
        tx.select(1);
        tx.hset('db1:hash', 'in-tx', '1');
        tx.select(0);
        await tx.exec();
        await m.select(5);
        await m.flushdb();
        await m.set('db5:after-flushdb', '1');
        await m.select(0);
        await m.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, 'lua:n', '7');
        await waitUntilEqual(m, t, 60_000, { parts, sketchesMissing: true });
        assert.equal(await t.exists('db0:json'), 1);
      } finally {
        await load.stop();
        m.disconnect();
        t.disconnect();
        writes.disconnect();
        await pipeline.stop();
      }
    },
  );
});
