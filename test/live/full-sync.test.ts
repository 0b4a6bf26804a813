/**
 * Live acceptance 1: full sync of a mixed dataset (every type, several dbs, values above the 64 KiB
 * chunk size, TTLs) with writes running during the full sync, on 1, 4 and 8 shards, the compression
 * modes 0-3 cycled across them; the Redis 7.0 target ends equal to the master key by key (Dragonfly
 * types Redis 7.0 holds degraded are compared as docs/sink.md documents them).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freshRedisForFile } from '../integration/sink-harness';
import { startWriteLoad, writeMixedDataset } from '../support/live-dataset';
import { dragonflies, liveSkip, REDIS_70_DEGRADED } from '../support/live-dragonfly';
import { startPipeline, waitUntilEqual } from '../support/live-pipeline';

const SMALL_KEYS = 1500;
const RUNS: { shards: number; compressionMode: 0 | 1 | 2 | 3 }[] = [
  { shards: 1, compressionMode: 0 },
  { shards: 4, compressionMode: 1 },
  { shards: 8, compressionMode: 2 },
  { shards: 4, compressionMode: 3 },
];

describe('live: full sync of a mixed dataset with writes during it', { skip: liveSkip }, () => {
  const servers = dragonflies();
  const target = freshRedisForFile();

  for (const { shards, compressionMode } of RUNS) {
    test(`${shards} shard(s), compression mode ${compressionMode}`, { timeout: 180_000 }, async () => {
      await target.client.flushall();
      const master = await servers.start({ shards, compressionMode });
      const m = master.client();
      const writes = master.client();
      await writeMixedDataset(m, SMALL_KEYS);
      const load = startWriteLoad(writes, SMALL_KEYS);
      const pipeline = await startPipeline({ masterUrl: master.url, flows: shards, targetUrl: target.url });
      try {
        const started = await pipeline.source.log.waitFor(/^full sync of/, 60_000);
        assert.match(started, /\(Dragonfly v1\.40\.1\)/, 'the release from INFO server');
        const atSyncStart = load.count();
        await pipeline.source.log.waitFor(/^stable sync on all/, 60_000);
        const duringSync = load.count() - atSyncStart;
        await load.stop();
        assert.ok(duringSync > 0, 'writes ran during the full sync');
        await waitUntilEqual(m, target.client, 90_000, {
          ...REDIS_70_DEGRADED,
          parts: [pipeline.source, pipeline.sink],
        });
        assert.ok((await target.client.dbsize()) > SMALL_KEYS);
      } finally {
        await load.stop();
        m.disconnect();
        writes.disconnect();
        await pipeline.stop();
        await master.stop();
      }
    });
  }
});
