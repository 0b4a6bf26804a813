/**
 * Live acceptance 6: FLUSHALL, FLUSHDB, SELECT across databases, MULTI/EXEC across shards and Lua
 * scripts on a real Dragonfly during the stable stream; the Redis target ends equal to the master.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type Redis from 'ioredis';
import { freshRedisForFile } from '../integration/sink-harness';
import { dragonflies, liveSkip } from '../support/live-dragonfly';
import { startPipeline, waitUntilEqual } from '../support/live-pipeline';

const SHARDS = 4;

describe('live: commands across dbs and shards during the stream', { skip: liveSkip }, () => {
  const servers = dragonflies();
  const target = freshRedisForFile();

  test(
    'FLUSHALL/FLUSHDB/SELECT/MULTI-EXEC/Lua: target equal after each step',
    { timeout: 180_000 },
    async () => {
      const master = await servers.start({ shards: SHARDS });
      const m = master.client();
      const pipeline = await startPipeline({ masterUrl: master.url, flows: SHARDS, targetUrl: target.url });
      const equal = (what: string): Promise<void> =>
        waitUntilEqual(m, target.client, 60_000, { parts: [pipeline.source, pipeline.sink] }).catch(
          (e: Error) => {
            throw new Error(`after ${what}: ${e.message}`);
          },
        );
      try {
        for (const db of [0, 1, 3]) {
          await m.select(db);
          for (let i = 0; i < 200; i++) await m.set(`db${db}:k${i}`, `v${i}`);
          await m.hset(`db${db}:hash`, 'a', '1', 'b', '2');
          await m.rpush(`db${db}:list`, 'x', 'y');
        }
        await m.select(0);
        await pipeline.source.log.waitFor(/^stable sync on all/, 60_000);
        await equal('writes in dbs 0, 1 and 3');

        // MULTI/EXEC whose keys live on every shard, switching databases inside the transaction
        const tx = m.multi();
        for (let i = 0; i < 40; i++) tx.set(`tx:${i}`, `t${i}`);
        tx.incrby('db0:counter', 5);
        tx.select(1);
        tx.del('db1:k1', 'db1:k2', 'db1:k3');
        tx.mset('tx1:a', '1', 'tx1:b', '2', 'tx1:c', '3', 'tx1:d', '4');
        tx.select(0);
        tx.lpush('db0:list', 'in-tx');
        await tx.exec();
        await m.mset(...Array.from({ length: 30 }, (_, i) => [`mset:${i}`, String(i)]).flat());
        await equal('MULTI/EXEC across shards and dbs, MSET');

        // Lua scripts: single- and multi-key, with db switches made by the calling connection
        await m.eval(
          "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])",
          2,
          'lua:a',
          'lua:n',
          'x',
        );
        const keys = Array.from({ length: 12 }, (_, i) => `lua:multi:${i}`);
        await m.eval(
          "for i, k in ipairs(KEYS) do redis.call('HSET', k, 'i', i); redis.call('PEXPIRE', k, 600000) end return #KEYS",
          keys.length,
          ...keys,
        );
        const sha = String(await m.script('LOAD', "return redis.call('RPUSH', KEYS[1], ARGV[1])"));
        await m.select(3);
        await m.evalsha(sha, 1, 'db3:list', 'by-evalsha');
        await m.select(0);
        await equal('Lua scripts (EVAL, EVALSHA, in db 3)');

        // FLUSHDB of one db while others keep their keys, then writes right after it
        await m.select(1);
        await m.flushdb();
        await m.set('db1:after-flushdb', 'yes');
        await m.select(0);
        await m.set('db0:after-flushdb', 'yes');
        await equal('FLUSHDB of db 1');

        // FLUSHALL, then new keys in several dbs
        await m.flushall();
        await m.set('after-flushall', '1');
        await m.select(2);
        await m.set('db2:after-flushall', '2');
        await m.select(0);
        await equal('FLUSHALL');
        const size = await target.client.dbsize();
        assert.ok(size >= 1, `target has ${size} keys in db 0`);
      } finally {
        m.disconnect();
        await pipeline.stop();
      }
    },
  );

  test(
    'the same commands from concurrent clients, interleaved with FLUSHDB/FLUSHALL',
    { timeout: 180_000 },
    async () => {
      const master = await servers.start({ shards: SHARDS });
      const pipeline = await startPipeline({ masterUrl: master.url, flows: SHARDS, targetUrl: target.url });
      const clients = Array.from({ length: 4 }, () => master.client());
      const m = master.client();
      try {
        await pipeline.source.log.waitFor(/^stable sync on all/, 60_000);
        const rounds = 30;
        const writer = async (c: Redis, id: number): Promise<void> => {
          for (let r = 0; r < rounds; r++) {
            const db = (id + r) % 4;
            await c.select(db);
            const tx = c.multi();
            for (let i = 0; i < 10; i++) tx.set(`w${id}:${i}`, `${r}`);
            tx.incr(`w${id}:n`);
            tx.select((db + 1) % 4);
            tx.rpush(`w${id}:list`, `${r}`);
            await tx.exec();
            await c.eval(
              "redis.call('HINCRBY', KEYS[1], 'r', 1); redis.call('SADD', KEYS[2], ARGV[1]); return 1",
              2,
              `w${id}:h`,
              `w${id}:s`,
              String(r),
            );
            await c.mset(`w${id}:a`, String(r), `w${id}:b`, String(r), `w${id}:c`, String(r));
          }
        };
        const flusher = async (): Promise<void> => {
          for (let r = 0; r < 6; r++) {
            await new Promise((resolve) => setTimeout(resolve, 40));
            await m.select(r % 4);
            if (r === 3) await m.flushall();
            else await m.flushdb();
          }
          await m.select(0);
        };
        await Promise.all([...clients.map((c, id) => writer(c, id)), flusher()]);
        await waitUntilEqual(m, target.client, 60_000, { parts: [pipeline.source, pipeline.sink] });
      } finally {
        for (const c of clients) c.disconnect();
        m.disconnect();
        await pipeline.stop();
      }
    },
  );
});
