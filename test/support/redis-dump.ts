/**
 * Reads a Redis back into the fixtures' expected.json format (shared/fixtures/README.md), so a
 * sink's result can be compared with compareDatasets. TTLs are read absolute (PEXPIRETIME, Redis
 * >= 7.0); keys the sink keeps for itself (the checkpoint prefix) are left out. Type, expiry and
 * string values come from one script call per few thousand keys; other values' reads are pipelined.
 */
import type Redis from 'ioredis';
import {
  byteText,
  keyText,
  type ExpectedDataset,
  type ExpectedKey,
} from '../../src/reference-dataset/expected-json';

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

/** The read of a key's whole value, as one command (streams need two: read apart). */
function valueRead(type: string, key: Buffer): [string, ...(Buffer | string | number)[]] | null {
  switch (type) {
    case 'string':
      return ['GET', key];
    case 'list':
      return ['LRANGE', key, 0, -1];
    case 'set':
      return ['SMEMBERS', key];
    case 'zset':
      return ['ZRANGE', key, 0, -1, 'WITHSCORES'];
    case 'hash':
      return ['HGETALL', key];
    default:
      return null;
  }
}

function valueFrom(type: string, reply: unknown): unknown {
  switch (type) {
    case 'string':
      return byteText(reply as Buffer);
    case 'list':
      return (reply as Buffer[]).map(byteText);
    case 'set':
      return (reply as Buffer[]).sort(Buffer.compare).map(byteText);
    case 'zset':
      return zsetPairs(reply as unknown[]).map(([m, s]) => [byteText(m), score(s)]);
    case 'hash':
      return pairs(reply as Buffer[])
        .sort((a, b) => Buffer.compare(a[0], b[0]))
        .map(([f, v]) => [byteText(f), byteText(v)]);
    default:
      return { unsupportedType: type };
  }
}

async function otherValue(redis: Redis, key: Buffer, type: string): Promise<unknown> {
  // a target being written to (a sink wiping it for a new epoch) may delete the key between its
  // TYPE and these reads: the dump then shows the key as changed, so a comparison differs and repeats
  if (type === 'stream')
    return streamValue(redis, key).catch((e: Error) => ({ changedWhileRead: e.message }));
  if (type === 'ReJSON-RL') return JSON.parse(String(await redis.call('JSON.GET', key, '$'))) as unknown;
  return { unsupportedType: type };
}

const PIPELINE_KEYS = 5000;

/**
 * Per key: type, absolute expiry (PEXPIRETIME) and, for strings, the value ('' otherwise). The keys
 * are declared (KEYS), so a stock Dragonfly runs it too.
 */
const META_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local t = redis.call('TYPE', key).ok
  out[3 * i - 2] = t
  out[3 * i - 1] = redis.call('PEXPIRETIME', key)
  out[3 * i] = t == 'string' and redis.call('GET', key) or ''
end
return out
`;

async function dumpKeys(redis: Redis, keys: Buffer[], into: Record<string, ExpectedKey>): Promise<void> {
  const meta = (await redis.callBuffer('EVAL', META_SCRIPT, keys.length, ...keys)) as (Buffer | number)[];
  const types = keys.map((_, i) => String(meta[3 * i]));
  const expiries = keys.map((_, i) => Number(meta[3 * i + 1]));
  const reads = redis.pipeline();
  keys.forEach((key, i) => {
    const type = types[i] as string;
    const read = type === 'string' ? null : valueRead(type, key);
    if (read) reads.callBuffer(...read);
  });
  const readReplies = (await reads.exec()) ?? [];
  let next = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as Buffer;
    const type = types[i] as string;
    if (type === 'none') continue;
    const value =
      type === 'string'
        ? valueFrom(type, meta[3 * i + 2])
        : valueRead(type, key)
          ? valueFrom(type, readReplies[next++]?.[1])
          : await otherValue(redis, key, type);
    const at = expiries[i] as number;
    into[keyText(key)] = { type, expireAtMs: at > 0 ? at : null, value };
  }
}

/** Every key of every database, except keys starting with `ownPrefix`. */
export async function dumpRedis(redis: Redis, ownPrefix: string): Promise<ExpectedDataset> {
  const info = await redis.info('keyspace');
  const dbs = [...info.matchAll(/^db(\d+):/gm)].map((m) => Number(m[1]));
  const out: ExpectedDataset = {};
  for (const db of dbs) {
    await redis.select(db);
    const keys: Buffer[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scanBuffer(cursor, 'COUNT', 10_000);
      cursor = next.toString();
      keys.push(...batch);
    } while (cursor !== '0');
    const entries: Record<string, ExpectedKey> = {};
    const own = keys.filter((k) => !k.toString('latin1').startsWith(ownPrefix)).sort(Buffer.compare);
    for (let at = 0; at < own.length; at += PIPELINE_KEYS) {
      await dumpKeys(redis, own.slice(at, at + PIPELINE_KEYS), entries);
    }
    if (Object.keys(entries).length > 0) out[String(db)] = entries;
  }
  await redis.select(0);
  return out;
}
