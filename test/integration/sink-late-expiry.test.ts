/**
 * Late replay of absolute expiries (docs/sink.md, "Replaying after the expiries"): events recorded a
 * minute ago whose expiries have passed since. Keys the master made live again stay; keys that were
 * still due to expire are deleted once the partition reached its end; in between, a key with a
 * passed expiry still takes the writes that follow it.
 */
import assert from 'node:assert';
import { test } from 'node:test';
import {
  createTopic,
  freshRedisForFile,
  kafka,
  produceFlows,
  runSinkToEnd,
  sinkConfig,
  uniqueName,
} from './sink-harness';
import { flowWriter } from './sink-events';

const redis = freshRedisForFile();

for (const mapping of ['keep', 'all-to-0-with-prefix'] as const) {
  test(`absolute expiries passed before the replay are exact (db.mapping=${mapping})`, async () => {
    const now = Date.now();
    const at = now - 60_000; // when the master ran the commands
    const passed = String(now - 30_000); // alive then, passed now
    const later = now + 600_000;
    const w = flowWriter(0, 1);
    const c = (name: string, args: string[], db = 0): void => void w.command(name, args, { db, at });
    c('SET', ['persisted', 'v', 'PXAT', passed]);
    c('PERSIST', ['persisted']);
    c('SET', ['due', 'v', 'PXAT', passed]);
    c('SET', ['overwritten', 'v']);
    c('PEXPIREAT', ['overwritten', passed]);
    c('SET', ['overwritten', 'w']);
    c('SET', ['appended', 'v']);
    c('PEXPIREAT', ['appended', passed]);
    c('APPEND', ['appended', 'x']);
    c('PERSIST', ['appended']);
    c('SET', ['appended-due', 'v']);
    c('PEXPIREAT', ['appended-due', passed]);
    c('APPEND', ['appended-due', 'x']);
    c('SET', ['re-expired', 'v', 'PXAT', passed], 3);
    c('PEXPIREAT', ['re-expired', String(later)], 3);
    c('SET', ['recreated', 'v', 'PXAT', passed], 3);
    c('DEL', ['recreated'], 3);
    c('SET', ['recreated', 'new'], 3);
    // a source catching up on a backlog reads these after the expiry passed: the events' times are
    // read times, yet on the master the key was alive and then persisted (spec 5.5: an expiry that
    // had passed would have been journaled as DEL)
    const readLate = now - 1000;
    w.command('SET', ['caught-up', 'v', 'PXAT', passed], { db: 0, at: readLate });
    w.command('PERSIST', ['caught-up'], { db: 0, at: readLate });
    const client = kafka();
    const topic = uniqueName(`sink-late-expiry-${mapping}`);
    await createTopic(client, topic, 1);
    const ends = await produceFlows(client, topic, [w.events]);
    await redis.client.flushall();
    await runSinkToEnd(sinkConfig(topic, redis.url, ['--db-mapping', mapping]), redis.client, ends, 60_000);

    const read = async (db: number, key: string): Promise<[string | null, number]> => {
      const target = mapping === 'keep' ? key : `db${db}:${key}`;
      await redis.client.select(mapping === 'keep' ? db : 0);
      const value = await redis.client.get(target);
      const expireAt = Number(await redis.client.call('PEXPIRETIME', target));
      await redis.client.select(0);
      return [value, expireAt];
    };
    assert.deepStrictEqual(await read(0, 'persisted'), ['v', -1]);
    assert.deepStrictEqual(await read(0, 'due'), [null, -2]);
    assert.deepStrictEqual(await read(0, 'overwritten'), ['w', -1]);
    assert.deepStrictEqual(await read(0, 'appended'), ['vx', -1]);
    assert.deepStrictEqual(await read(0, 'appended-due'), [null, -2]);
    assert.deepStrictEqual(await read(3, 're-expired'), ['v', later]);
    assert.deepStrictEqual(await read(3, 'recreated'), ['new', -1]);
    assert.deepStrictEqual(await read(0, 'caught-up'), ['v', -1]);
    const own = await redis.client.keys('dragonfly-cdc:checkpoint:late-expiries:*');
    assert.deepStrictEqual(own, [], 'the late-expiry hash is emptied at the end of the partition');
  });
}
