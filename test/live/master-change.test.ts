/**
 * Live acceptance 4: the master's history changes under the source. A master restarted on the same
 * address (a new replication id, an empty dataset) and a takeover of the master by its native
 * replica (REPLTAKEOVER: the old master exits; the new one has its own replication id) each give a
 * full sync with a new epoch, and the target is rebuilt equal to the new master: keys of the old
 * history never remain.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freshRedisForFile } from '../integration/sink-harness';
import { startWriteLoad, writeMixedDataset } from '../support/live-dataset';
import { dragonflies, liveSkip, REDIS_70_DEGRADED, replicate } from '../support/live-dragonfly';
import { startPipeline, startSource, waitUntilEqual } from '../support/live-pipeline';

const SHARDS = 2;
const SMALL_KEYS = 500;

describe('live: a restarted master and a takeover', { skip: liveSkip }, () => {
  const servers = dragonflies();
  const target = freshRedisForFile();

  test(
    'master restarted on its address: new epoch, target equal to the new master',
    { timeout: 180_000 },
    async () => {
      await target.client.flushall();
      const first = await servers.start({ shards: SHARDS });
      const m1 = first.client();
      await writeMixedDataset(m1, SMALL_KEYS);
      const pipeline = await startPipeline({ masterUrl: first.url, flows: SHARDS, targetUrl: target.url });
      const parts = [pipeline.source, pipeline.sink];
      try {
        await waitUntilEqual(m1, target.client, 60_000, { ...REDIS_70_DEGRADED, parts });
        m1.disconnect();
        const logged = pipeline.source.log.messages.length;
        await first.stop();
        const second = await servers.start(first.options);
        const m2 = second.client();
        try {
          await m2.set('only-on-the-new-master', '1');
          await m2.select(3);
          await m2.hset('db3:hash', 'f', 'v');
          await m2.select(0);
          const sync = await pipeline.source.log.waitFor(/^(full|partial) sync of/, 60_000, logged);
          assert.match(sync, /^full sync of .*epoch 2 \(MASTER_RESTARTED\)/);
          await waitUntilEqual(m2, target.client, 60_000, { ...REDIS_70_DEGRADED, parts });
          assert.equal(await target.client.exists('db0:k1'), 0, 'keys of the old master are gone');
        } finally {
          m2.disconnect();
        }
      } finally {
        m1.disconnect();
        await pipeline.stop();
      }
    },
  );

  test(
    'REPLTAKEOVER by the native replica: the source, pointed at the new master, re-snapshots',
    { timeout: 180_000 },
    async () => {
      await target.client.flushall();
      const master = await servers.start({ shards: SHARDS });
      const replica = await servers.start({ shards: SHARDS });
      const m = master.client();
      await writeMixedDataset(m, SMALL_KEYS);
      await replicate(master, replica);
      const pipeline = await startPipeline({ masterUrl: master.url, flows: SHARDS, targetUrl: target.url });
      let follower: ReturnType<typeof startSource> | undefined;
      const r = replica.client();
      try {
        await waitUntilEqual(m, target.client, 60_000, {
          ...REDIS_70_DEGRADED,
          parts: [pipeline.source, pipeline.sink],
        });
        const load = startWriteLoad(m, SMALL_KEYS, 2);
        await new Promise((resolve) => setTimeout(resolve, 500));
        await r.call('REPLTAKEOVER', '10');
        await load.stop().catch(() => undefined);
        m.disconnect();
        // the old master exits; the source keeps trying its address, logging why it cannot replicate
        const logged = pipeline.source.log.messages.length;
        await pipeline.source.log.waitFor(/replication interrupted/, 30_000, logged);
        await pipeline.source.stop();

        await r.del('db0:k2', 'db0:k3');
        await r.set('written-after-takeover', '1');
        follower = startSource(replica.url, pipeline.topic);
        const sync = await follower.log.waitFor(/^(full|partial) sync of/, 60_000);
        assert.match(sync, /^full sync of .*epoch 2 \(MASTER_RESTARTED\)/);
        await waitUntilEqual(r, target.client, 60_000, {
          ...REDIS_70_DEGRADED,
          parts: [follower, pipeline.sink],
        });
      } finally {
        m.disconnect();
        r.disconnect();
        await follower?.stop();
        await pipeline.stop();
      }
    },
  );
});
