/**
 * Reads and compares values of keys whose quick checks passed. Values of at most `pieceElements`
 * elements are read whole, a batch at a time, pipelined on both sides; longer ones are compared one
 * key at a time in windows (LRANGE, HSCAN + HMGET, SSCAN + SMISMEMBER, ZSCAN + ZMSCORE, XRANGE,
 * GETRANGE), so memory stays bounded by the window, not by the biggest collection.
 */
import type Redis from 'ioredis';
import {
  byteKey,
  groupsDifference,
  hashDifference,
  jsonDifference,
  listDifference,
  setDifference,
  streamEntriesDifference,
  stringDifference,
  zsetDifference,
  type StreamEntry,
  type StreamGroup,
} from './elements';
import { JSON_TYPE } from './meta-compare';
import type { VerifyServer } from './server';

type Command = [string, ...(string | Buffer | number)[]];

/** A value to compare: the key, its type on each side (JSON may be a string on the target) and length. */
export interface ValueTask {
  key: Buffer;
  sourceType: string;
  targetType: string;
  length: number | null;
}

/** Bytes per GETRANGE window = pieceElements times this. */
const BYTES_PER_ELEMENT = 1024;

function wholeReads(type: string, key: Buffer): Command[] {
  switch (type) {
    case 'string':
      return [['GET', key]];
    case 'list':
      return [['LRANGE', key, 0, -1]];
    case 'set':
      return [['SMEMBERS', key]];
    case 'zset':
      return [['ZRANGE', key, 0, -1, 'WITHSCORES']];
    case 'hash':
      return [['HGETALL', key]];
    case 'stream':
      return [
        ['XRANGE', key, '-', '+'],
        ['XINFO', 'GROUPS', key],
      ];
    case JSON_TYPE:
      return [['JSON.GET', key]];
    default:
      return [];
  }
}

function pairs(flat: Buffer[]): [Buffer, Buffer][] {
  const out: [Buffer, Buffer][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** Map-like replies: flat [k, v, k, v] (RESP2) or [[k, v], ...] (RESP3 WITHSCORES). */
function pairsOf(reply: unknown): [Buffer, Buffer][] {
  const items = reply as unknown[];
  if (items.length > 0 && items.every((item) => Array.isArray(item))) {
    return (items as unknown[][]).map(([k, v]) => [
      k as Buffer,
      Buffer.isBuffer(v) ? v : Buffer.from(String(v)),
    ]);
  }
  return pairs(items as Buffer[]);
}

function groupsOf(reply: unknown): StreamGroup[] {
  return (reply as Buffer[][]).map((flat) => {
    const info = new Map(pairs(flat).map(([k, v]) => [k.toString(), v]));
    return {
      name: String(info.get('name') ?? ''),
      lastDeliveredId: String(info.get('last-delivered-id') ?? ''),
      pending: Number(info.get('pending') ?? 0),
    };
  });
}

/** The first difference of two whole values read by wholeReads, or null. */
function wholeDifference(task: ValueTask, source: unknown[], target: unknown[]): string | null {
  // deleted between the metadata and the value read (a live source): both gone is equal, else re-checked
  if (source[0] === null || target[0] === null) {
    return source[0] === target[0]
      ? null
      : `deleted on the ${source[0] === null ? 'source' : 'target'} while read`;
  }
  if (task.sourceType === JSON_TYPE) {
    return jsonDifference(String(source[0] ?? ''), String(target[0] ?? ''));
  }
  switch (task.sourceType) {
    case 'string':
      return stringDifference(source[0] as Buffer, target[0] as Buffer);
    case 'list':
      return listDifference(source[0] as Buffer[], target[0] as Buffer[]);
    case 'set': {
      const members = new Set((target[0] as Buffer[]).map(byteKey));
      const sourceMembers = source[0] as Buffer[];
      return setDifference(
        sourceMembers,
        sourceMembers.map((m) => members.has(byteKey(m))),
      );
    }
    case 'hash':
    case 'zset': {
      const targetMap = new Map(pairsOf(target[0]).map(([k, v]) => [byteKey(k), v]));
      const sourcePairs = pairsOf(source[0]);
      const aligned = sourcePairs.map(([k]) => targetMap.get(byteKey(k)) ?? null);
      return task.sourceType === 'hash'
        ? hashDifference(sourcePairs, aligned)
        : zsetDifference(sourcePairs, aligned);
    }
    case 'stream':
      return (
        streamEntriesDifference(source[0] as StreamEntry[], target[0] as StreamEntry[]) ??
        groupsDifference(groupsOf(source[1]), groupsOf(target[1]))
      );
    default:
      return null;
  }
}

/** Sends every task's reads as one pipeline; per task its replies, or the error of one of them. */
async function readWhole(redis: Redis, reads: Command[][]): Promise<(unknown[] | Error)[]> {
  const pipeline = redis.pipeline();
  for (const commands of reads) for (const [name, ...args] of commands) pipeline.callBuffer(name, ...args);
  const replies = (await pipeline.exec()) ?? [];
  let next = 0;
  return reads.map((commands) => {
    const mine = replies.slice(next, next + commands.length);
    next += commands.length;
    const failed = mine.find(([error]) => error !== null);
    if (failed || mine.length < commands.length) return failed?.[0] ?? new Error('connection closed');
    return mine.map(([, value]) => value);
  });
}

export class ValueComparer {
  constructor(
    private readonly source: VerifyServer,
    private readonly target: VerifyServer,
    private readonly pieceElements: number,
  ) {}

  /** Whether the value is compared in windows rather than read whole. */
  isBig(task: ValueTask): boolean {
    if (task.length === null) return false;
    const limit = task.sourceType === 'string' ? this.pieceElements * BYTES_PER_ELEMENT : this.pieceElements;
    return task.length > limit;
  }

  /** The first difference of each task's value (null = equal). A read that fails (the key changed type) is a difference. */
  async compare(tasks: ValueTask[]): Promise<(string | null)[]> {
    const small = tasks.filter((task) => !this.isBig(task));
    const [sourceReplies, targetReplies] = await Promise.all([
      readWhole(
        this.source.redis,
        small.map((task) => wholeReads(task.sourceType, task.key)),
      ),
      readWhole(
        this.target.redis,
        small.map((task) => wholeReads(task.targetType, task.key)),
      ),
    ]);
    const results = new Map<ValueTask, string | null>();
    small.forEach((task, i) => {
      const [a, b] = [sourceReplies[i]!, targetReplies[i]!];
      if (a instanceof Error || b instanceof Error) {
        results.set(task, `the value could not be read (${(a instanceof Error ? a : (b as Error)).message})`);
      } else {
        results.set(task, wholeDifference(task, a, b));
      }
    });
    for (const task of tasks) {
      if (this.isBig(task)) results.set(task, await this.compareInWindows(task));
    }
    return tasks.map((task) => results.get(task) ?? null);
  }

  private async compareInWindows(task: ValueTask): Promise<string | null> {
    try {
      switch (task.sourceType) {
        case 'string':
          return await this.stringWindows(task.key, task.length ?? 0);
        case 'list':
          return await this.listWindows(task.key, task.length ?? 0);
        case 'hash':
          return await this.hashWindows(task.key);
        case 'set':
          return await this.setWindows(task.key);
        case 'zset':
          return await this.zsetWindows(task.key);
        case 'stream':
          return await this.streamWindows(task.key);
        default:
          return null;
      }
    } catch (error) {
      return `the value could not be read (${(error as Error).message})`;
    }
  }

  private both<T>(read: (redis: Redis) => Promise<T>): Promise<[T, T]> {
    return Promise.all([read(this.source.redis), read(this.target.redis)]);
  }

  private async stringWindows(key: Buffer, length: number): Promise<string | null> {
    const size = this.pieceElements * BYTES_PER_ELEMENT;
    for (let at = 0; at < length; at += size) {
      const [a, b] = await this.both((r) => r.getrangeBuffer(key, at, at + size - 1));
      const difference = stringDifference(a, b, at);
      if (difference !== null) return difference;
    }
    return null;
  }

  private async listWindows(key: Buffer, length: number): Promise<string | null> {
    const size = this.pieceElements;
    for (let at = 0; at < length; at += size) {
      const [a, b] = await this.both((r) => r.lrangeBuffer(key, at, at + size - 1));
      const difference = listDifference(a, b, at);
      if (difference !== null) return difference;
    }
    return null;
  }

  /** Every window of a SCAN-family command over the source's value, handed to `check`. */
  private async scanSource(
    command: 'HSCAN' | 'SSCAN' | 'ZSCAN',
    key: Buffer,
    check: (items: Buffer[]) => Promise<string | null>,
  ): Promise<string | null> {
    let cursor = '0';
    do {
      const [next, items] = (await this.source.redis.callBuffer(
        command,
        key,
        cursor,
        'COUNT',
        this.pieceElements,
      )) as [Buffer, Buffer[]];
      cursor = next.toString();
      const difference = items.length > 0 ? await check(items) : null;
      if (difference !== null) return difference;
    } while (cursor !== '0');
    return null;
  }

  private hashWindows(key: Buffer): Promise<string | null> {
    return this.scanSource('HSCAN', key, async (items) => {
      const fieldValues = pairs(items);
      const values = (await this.target.redis.hmgetBuffer(
        key,
        ...fieldValues.map(([f]) => f),
      )) as (Buffer | null)[];
      return hashDifference(fieldValues, values);
    });
  }

  private setWindows(key: Buffer): Promise<string | null> {
    return this.scanSource('SSCAN', key, async (members) => {
      const flags = (await this.target.redis.call('SMISMEMBER', key, ...members)) as number[];
      return setDifference(
        members,
        flags.map((flag) => Number(flag) === 1),
      );
    });
  }

  private zsetWindows(key: Buffer): Promise<string | null> {
    return this.scanSource('ZSCAN', key, async (items) => {
      const memberScores = pairs(items);
      const scores = (await this.target.redis.callBuffer(
        'ZMSCORE',
        key,
        ...memberScores.map(([m]) => m),
      )) as (Buffer | null)[];
      return zsetDifference(memberScores, scores);
    });
  }

  private async streamWindows(key: Buffer): Promise<string | null> {
    let start = '-';
    for (;;) {
      const [a, b] = (await this.both((r) =>
        r.callBuffer('XRANGE', key, start, '+', 'COUNT', this.pieceElements),
      )) as [StreamEntry[], StreamEntry[]];
      const difference = streamEntriesDifference(a, b);
      if (difference !== null) return difference;
      const last = a[a.length - 1];
      if (a.length < this.pieceElements || last === undefined) break;
      start = idAfter(last[0].toString());
    }
    const [groupsA, groupsB] = await this.both((r) => r.callBuffer('XINFO', 'GROUPS', key));
    return groupsDifference(groupsOf(groupsA), groupsOf(groupsB));
  }
}

/** The smallest stream id after `id` (an exclusive "(" range needs Redis 6.2). */
export function idAfter(id: string): string {
  const [ms, seq] = id.split('-').map((part) => BigInt(part)) as [bigint, bigint];
  return seq === 18446744073709551615n ? `${ms + 1n}-0` : `${ms}-${seq + 1n}`;
}
