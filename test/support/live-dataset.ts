/**
 * Data for live tests: a mixed dataset of every type Dragonfly has, in several databases, with TTLs
 * and values larger than the master's 64 KiB serialization chunk; and a write load that keeps
 * changing it (for writes during a full sync).
 */
import type Redis from 'ioredis';
import { seededRandom } from './fuzz';

/** Databases the mixed dataset spreads over. */
export const MIXED_DBS = [0, 1, 5];
const TEN_MINUTES_MS = 600_000;

/** Values and members above 64 KiB in total, so the master streams them in several chunks. */
async function writeBigValues(client: Redis, prefix: string): Promise<void> {
  await client.set(`${prefix}big:string`, 'S'.repeat(200 * 1024));
  const pad = 'x'.repeat(90);
  const elements = Array.from({ length: 3000 }, (_, i) => `${i}:${pad}`);
  await client.rpush(`${prefix}big:list`, ...elements);
  await client.sadd(`${prefix}big:set`, ...elements);
  await client.zadd(`${prefix}big:zset`, ...elements.flatMap((e, i) => [i / 7, e]));
  await client.hset(`${prefix}big:hash`, ...elements.flatMap((e, i) => [e, `value-${i}`]));
  await client.pexpire(`${prefix}big:hash`, TEN_MINUTES_MS);
  for (let i = 0; i < 1500; i++) await client.xadd(`${prefix}big:stream`, '*', 'field', `${i}:${pad}`);
}

/** One key of every type and encoding (small ones are listpacks/intsets on the master). */
async function writeEveryType(client: Redis, prefix: string): Promise<void> {
  await client.set(`${prefix}string`, 'plain');
  await client.set(`${prefix}string:ttl`, 'expires', 'PX', TEN_MINUTES_MS);
  await client.set(`${prefix}int`, '12345');
  await client.set(`${prefix}binary`, Buffer.from([0, 1, 2, 255, 254, 0x80]));
  await client.rpush(`${prefix}list`, 'a', 'b', 'c');
  await client.sadd(`${prefix}intset`, 1, 2, 3, 1000000);
  await client.sadd(`${prefix}set`, 'm1', 'm2', 'm3');
  await client.zadd(`${prefix}zset`, 1.5, 'a', '-inf', 'low', 'inf', 'high', 2, 'b');
  await client.hset(`${prefix}hash`, 'f1', 'v1', 'f2', 'v2');
  await client.call('HSETEX', `${prefix}hash:field-ttl`, '600', 'f1', 'v1', 'f2', 'v2');
  await client.call('SADDEX', `${prefix}set:member-ttl`, '600', 'm1', 'm2');
  await client.pfadd(`${prefix}hll`, 'a', 'b', 'c', 'd');
  await client.geoadd(`${prefix}geo`, 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania');
  await client.call('JSON.SET', `${prefix}json`, '$', '{"a":1,"b":[true,null,"x"],"c":{"d":2.5}}');
  await client.call('BF.ADD', `${prefix}bloom`, 'item');
  await client.xadd(`${prefix}stream`, '1-1', 'f', 'v1');
  await client.xadd(`${prefix}stream`, '2-1', 'f', 'v2');
  await client.xadd(`${prefix}stream`, '3-1', 'f', 'v3');
  await client.xgroup('CREATE', `${prefix}stream`, 'group', '0');
  await client.xreadgroup('GROUP', 'group', 'consumer', 'COUNT', 2, 'STREAMS', `${prefix}stream`, '>');
  await client.xadd(`${prefix}stream:empty`, 'MAXLEN', '0', '*', 'f', 'v');
}

/**
 * The mixed dataset: in each of MIXED_DBS, `smallKeys` strings/hashes/lists (a tenth with TTLs),
 * one key of every type; big values (above 64 KiB) in db 0.
 */
export async function writeMixedDataset(client: Redis, smallKeys: number): Promise<void> {
  const random = seededRandom(18);
  for (const db of MIXED_DBS) {
    await client.select(db);
    const batch = client.pipeline();
    for (let i = 0; i < smallKeys; i++) {
      const key = `db${db}:k${i}`;
      const kind = i % 3;
      if (kind === 0) batch.set(key, `value-${i}-${'v'.repeat(Math.floor(random() * 200))}`);
      else if (kind === 1) batch.hset(key, 'a', String(i), 'b', 'x'.repeat(Math.floor(random() * 50)));
      else batch.rpush(key, String(i), 'y');
      if (i % 10 === 0) batch.pexpire(key, TEN_MINUTES_MS + Math.floor(random() * 60_000));
    }
    await batch.exec();
    await writeEveryType(client, `db${db}:`);
  }
  await client.select(0);
  await writeBigValues(client, 'db0:');
}

/** Writes that keep changing the mixed dataset until stopped. */
export interface WriteLoad {
  /** rounds of writes done so far */
  count(): number;
  /** stops after the round in flight; resolves with the rounds done */
  stop(): Promise<number>;
}

/**
 * Runs a stream of changes against `client` (overwrites, increments, appends to big values, deletes,
 * new keys with TTLs, writes to every db) until stop(), pausing `pauseMs` between rounds of 7
 * commands; every write awaits its reply, so stop() leaves the master at rest.
 */
export function startWriteLoad(client: Redis, smallKeys: number, pauseMs = 0): WriteLoad {
  const random = seededRandom(1818);
  let stopping = false;
  let count = 0;
  const run = async (): Promise<void> => {
    while (!stopping) {
      const db = MIXED_DBS[count % MIXED_DBS.length]!;
      const i = Math.floor(random() * smallKeys);
      const batch = client.pipeline();
      batch.select(db);
      batch.set(`db${db}:k${i}:new`, String(count), 'PX', TEN_MINUTES_MS);
      batch.incr(`db${db}:counter`);
      batch.hset(`db${db}:hash`, `f${count % 50}`, String(count));
      batch.rpush(`db${db}:big:list`, `appended-${count}`);
      if (count % 7 === 0) batch.del(`db${db}:k${i}`);
      if (count % 11 === 0) batch.sadd(`db${db}:big:set`, `added-${count}`);
      batch.select(0);
      await batch.exec();
      count++;
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  const running = run();
  return {
    count: () => count,
    async stop() {
      stopping = true;
      await running;
      return count;
    },
  };
}
