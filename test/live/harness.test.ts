/**
 * The live harness itself: a real Dragonfly master and its native replica, and the key-by-key
 * comparison every live acceptance test ends with — which must name each planted difference.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareServers, dragonflies, liveSkip, replicate } from '../support/live-dragonfly';

describe('live Dragonfly harness', { skip: liveSkip }, () => {
  const servers = dragonflies();

  test('a native replica equals its master key by key; planted differences are named', async () => {
    const master = await servers.start({ shards: 2 });
    const replica = await servers.start({ shards: 2 });
    const m = master.client();
    try {
      await m.call('DEBUG', 'POPULATE', '2000', 'key', '20');
      await m.set('plain', 'v', 'PX', 600_000);
      await m.hset('hash', 'f1', 'a', 'f2', 'b');
      await m.rpush('list', 'x', 'y', 'z');
      await m.zadd('zset', 1, 'one', 2, 'two');
      await m.sadd('set', 'm1', 'm2');
      await m.xadd('stream', '1-1', 'f', 'v');
      await m.select(2);
      await m.set('db2-key', 'in db 2');
      await m.set('db2-other', 'also db 2');
      await m.select(0);
      await replicate(master, replica);
      const r = replica.client();
      try {
        assert.deepEqual(await compareServers(m, r), []);

        await r.call('REPLICAOF', 'NO', 'ONE');
        await r.set('key:7', 'changed');
        await r.pexpire('plain', 60_000);
        await r.select(2);
        await r.del('db2-key');
        await r.select(0);
        const diffs = await compareServers(m, r);
        assert.equal(diffs.length, 3, diffs.join('\n'));
        assert.match(diffs.find((d) => d.includes('"key:7"')) ?? '', /db 0 key "key:7": .*expected/);
        assert.match(diffs.find((d) => d.includes('"plain"')) ?? '', /db 0 key "plain": expireAtMs/);
        assert.match(diffs.find((d) => d.includes('"db2-key"')) ?? '', /db 2 key "db2-key": missing/);
      } finally {
        r.disconnect();
      }
    } finally {
      m.disconnect();
    }
  });
});
