/**
 * Reads a Redis back into the fixtures' expected.json format (shared/fixtures/README.md), so a
 * sink's result can be compared with compareDatasets. TTLs become absolute (now + PTTL); keys the
 * sink keeps for itself (the checkpoint prefix) are left out.
 */
import type Redis from 'ioredis';
import { byteText, keyText, type ExpectedDataset, type ExpectedKey } from '../../src/model/expected-json';

function pairs(flat: Buffer[]): [Buffer, Buffer][] {
  const out: [Buffer, Buffer][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as Buffer, flat[i + 1] as Buffer]);
  return out;
}

/** WITHSCORES replies come flat (RESP2) or as [member, score] pairs (RESP3). */
function zsetPairs(reply: unknown[]): [Buffer, Buffer][] {
  if (reply.every((r) => Array.isArray(r))) return reply as [Buffer, Buffer][];
  return pairs(reply as Buffer[]);
}

function score(text: Buffer): number | null {
  const s = text.toString('latin1');
  const n = s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s);
  return Number.isFinite(n) ? n : null;
}

async function streamValue(redis: Redis, key: Buffer): Promise<unknown> {
  const entries = (await redis.callBuffer('XRANGE', key, '-', '+')) as [Buffer, Buffer[]][];
  const groups = (await redis.callBuffer('XINFO', 'GROUPS', key)) as Buffer[][];
  return {
    entries: entries.map(([id, fields]) => [id.toString('latin1'), fields.map(byteText)]),
    groups: groups
      .map((flat) => {
        const info = new Map(pairs(flat).map(([k, v]) => [k.toString('latin1'), v as unknown]));
        return {
          name: info.get('name') as Buffer,
          lastDeliveredId: String(info.get('last-delivered-id')),
          pending: Number(info.get('pending')),
        };
      })
      .sort((a, b) => Buffer.compare(a.name, b.name))
      .map((g) => ({ ...g, name: byteText(g.name) })),
  };
}

async function keyValue(redis: Redis, key: Buffer, type: string): Promise<unknown> {
  switch (type) {
    case 'string':
      return byteText((await redis.getBuffer(key)) as Buffer);
    case 'list':
      return (await redis.lrangeBuffer(key, 0, -1)).map(byteText);
    case 'set':
      return (await redis.smembersBuffer(key)).sort(Buffer.compare).map(byteText);
    case 'zset':
      return zsetPairs((await redis.callBuffer('ZRANGE', key, 0, -1, 'WITHSCORES')) as unknown[]).map(
        ([m, s]) => [byteText(m), score(s)],
      );
    case 'hash':
      return pairs((await redis.callBuffer('HGETALL', key)) as Buffer[])
        .sort((a, b) => Buffer.compare(a[0], b[0]))
        .map(([f, v]) => [byteText(f), byteText(v)]);
    case 'stream':
      return streamValue(redis, key);
    case 'ReJSON-RL':
      return JSON.parse(String(await redis.call('JSON.GET', key, '$'))) as unknown;
    default:
      return { unsupportedType: type };
  }
}

/** Every key of every database, except keys starting with `ownPrefix`. */
export async function dumpRedis(redis: Redis, ownPrefix: string): Promise<ExpectedDataset> {
  const info = await redis.info('keyspace');
  const dbs = [...info.matchAll(/^db(\d+):/gm)].map((m) => Number(m[1]));
  const out: ExpectedDataset = {};
  const nowMs = Date.now();
  for (const db of dbs) {
    await redis.select(db);
    const keys: Buffer[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scanBuffer(cursor, 'COUNT', 1000);
      cursor = next.toString();
      keys.push(...batch);
    } while (cursor !== '0');
    const entries: Record<string, ExpectedKey> = {};
    for (const key of keys.sort(Buffer.compare)) {
      if (key.toString('latin1').startsWith(ownPrefix)) continue;
      const type = await redis.type(key);
      if (type === 'none') continue;
      const pttl = await redis.pttl(key);
      entries[keyText(key)] = {
        type,
        expireAtMs: pttl > 0 ? nowMs + pttl : null,
        value: await keyValue(redis, key, type),
      };
    }
    if (Object.keys(entries).length > 0) out[String(db)] = entries;
  }
  await redis.select(0);
  return out;
}
