/**
 * A snapshot record (one key, or one chunk of a big key) as typed Redis writes. Replace semantics:
 * chunk 0 deletes the key first, later chunks append (APPEND for byte values, more elements for
 * containers). Containers go out in commands of at most ELEMENTS_PER_COMMAND elements. The absolute
 * expiry is set with PEXPIREAT after every chunk's writes (through the late-expiry op); a key whose
 * expiry had passed when the master sent it is deleted and not written. Per-member/field TTLs: HPEXPIREAT where the target has it (hashes on
 * Redis >= 7.4), else the degrade.memberTtl policy (set members never have TTLs in Redis).
 */
import type { EventValue, EventValueOf, SnapshotRecord } from '../../events/model';
import {
  command,
  ELEMENTS_PER_COMMAND,
  SCRIPT_OPS,
  scoreText,
  type Arg,
  type RedisCommand,
} from '../commands';
import type { Translation, TranslateContext } from './context';
import { lateExpiryCommand } from './late-expiry';
import { streamCommands, type StreamChunkState } from './stream';

export type SnapshotWrite = Pick<SnapshotRecord, 'db' | 'key' | 'expireAtMs' | 'value' | 'chunk'>;

function inGroups<T>(items: T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}

function elementCommands<T>(
  db: number,
  name: string,
  key: Buffer,
  items: T[],
  argsOf: (item: T) => Arg[],
): RedisCommand[] {
  return inGroups(items, ELEMENTS_PER_COMMAND).map((group) =>
    command(db, name, key, ...group.flatMap(argsOf)),
  );
}

function live(expireAtMs: number | null | undefined, nowMs: number): boolean {
  return expireAtMs === null || expireAtMs === undefined || expireAtMs > nowMs;
}

interface Element<T> {
  item: T;
  expireAtMs: number | null;
}

/** Members with a TTL of their own: the passed ones go, the rest by capability or policy. */
function withMemberTtls<T>(
  items: T[],
  expiries: (number | null)[] | null,
  ctx: TranslateContext,
  targetHasTtls: boolean,
): { write: Element<T>[]; degraded: boolean } {
  const all = items.map((item, i) => ({ item, expireAtMs: expiries?.[i] ?? null }));
  const alive = all.filter((e) => live(e.expireAtMs, ctx.nowMs));
  const withTtl = alive.some((e) => e.expireAtMs !== null);
  if (!withTtl || targetHasTtls) return { write: alive, degraded: false };
  if (ctx.degrade.memberTtl === 'skip')
    return { write: alive.filter((e) => e.expireAtMs === null), degraded: true };
  return { write: alive.map((e) => ({ ...e, expireAtMs: null })), degraded: true };
}

/** HPEXPIREAT for every field with a TTL, one command per distinct expiry. */
function fieldExpiries(db: number, key: Buffer, fields: Element<{ field: Buffer }>[]): RedisCommand[] {
  const byTime = new Map<number, Buffer[]>();
  for (const f of fields) {
    if (f.expireAtMs === null) continue;
    const list = byTime.get(f.expireAtMs) ?? [];
    list.push(f.item.field);
    byTime.set(f.expireAtMs, list);
  }
  return [...byTime].flatMap(([at, names]) =>
    inGroups(names, ELEMENTS_PER_COMMAND).map((group) =>
      command(db, 'HPEXPIREAT', key, at, 'FIELDS', group.length, ...group),
    ),
  );
}

interface ValueWrites {
  commands: RedisCommand[];
  exact: boolean;
  row: string;
}

function valueWrites(
  db: number,
  key: Buffer,
  value: EventValue,
  write: SnapshotWrite,
  ctx: TranslateContext,
  stream: StreamChunkState,
): ValueWrites {
  const first = write.chunk.index === 0;
  switch (value.type) {
    case 'StringValue':
      return {
        row: 'string',
        exact: true,
        commands: [command(db, first ? 'SET' : 'APPEND', key, value.value)],
      };
    case 'ListValue':
      return {
        row: 'list',
        exact: true,
        commands: elementCommands(db, 'RPUSH', key, value.items, (i) => [i]),
      };
    case 'ZSetValue':
      return {
        row: 'zset',
        exact: true,
        commands: elementCommands(db, 'ZADD', key, value.entries, (e) => [scoreText(e.score), e.member]),
      };
    case 'SetValue': {
      const { write: members, degraded } = withMemberTtls(value.members, value.memberExpireAtMs, ctx, false);
      return {
        row: degraded ? 'set-member-ttl' : 'set',
        exact: !degraded,
        commands: elementCommands(db, 'SADD', key, members, (m) => [m.item]),
      };
    }
    case 'HashValue':
      return hashWrites(db, key, value, ctx);
    case 'StreamValue':
      return {
        row: 'stream',
        exact: true,
        commands: streamCommands(db, key, value, write.chunk, stream, ctx.capabilities.streamIdOptions),
      };
    case 'JsonValue':
      return jsonWrites(db, key, value, write.chunk, ctx);
    case 'SketchValue':
      return { row: 'sketch', exact: false, commands: [] };
  }
}

function hashWrites(
  db: number,
  key: Buffer,
  value: EventValueOf<'HashValue'>,
  ctx: TranslateContext,
): ValueWrites {
  const { write: fields, degraded } = withMemberTtls(
    value.fields,
    value.fieldExpireAtMs,
    ctx,
    ctx.capabilities.hashFieldTtl,
  );
  const commands = elementCommands(db, 'HSET', key, fields, (f) => [f.item.field, f.item.value]);
  commands.push(...fieldExpiries(db, key, fields));
  return { row: degraded ? 'hash-field-ttl' : 'hash', exact: !degraded, commands };
}

/**
 * JSON documents: JSON.SET where RedisJSON is loaded, else the text as a string or nothing (policy).
 * A split document is only valid JSON once whole: its text accumulates in the key as a string and
 * the last chunk turns it into a document (__JSON_FROM_STRING).
 */
function jsonWrites(
  db: number,
  key: Buffer,
  value: EventValueOf<'JsonValue'>,
  chunk: SnapshotWrite['chunk'],
  ctx: TranslateContext,
): ValueWrites {
  const text = command(db, chunk.index === 0 ? 'SET' : 'APPEND', key, value.json);
  if (ctx.capabilities.json) {
    if (chunk.count === 1)
      return { row: 'json', exact: true, commands: [command(db, 'JSON.SET', key, '$', value.json)] };
    const last = chunk.index === chunk.count - 1 ? [command(db, SCRIPT_OPS.jsonFromString, key)] : [];
    return { row: 'json', exact: true, commands: [text, ...last] };
  }
  if (ctx.degrade.json === 'skip') return { row: 'json-skipped', exact: false, commands: [] };
  return { row: 'json-as-string', exact: false, commands: [text] };
}

/**
 * The commands for one snapshot record (a whole key or one chunk). Sketches cannot be written to a
 * stock Redis: they follow degrade.sketch (skip, or dead-letter).
 */
export function snapshotTranslation(
  write: SnapshotWrite,
  ctx: TranslateContext,
  stream: StreamChunkState,
): Translation {
  const db = ctx.keys.db(write.db);
  const key = ctx.keys.key(write.db, write.key);
  const first = write.chunk.index === 0;
  const replace = first ? [command(db, 'DEL', key)] : [];
  // expired when the master sent it: gone there at once. Passed since: kept with a late expiry.
  if (!live(write.expireAtMs, ctx.eventTimeMs)) {
    return { kind: 'commands', row: 'expired-key', exact: true, commands: replace };
  }
  if (write.value.type === 'SketchValue' && ctx.degrade.sketch === 'dlq') {
    // Dragonfly's sketch layout loads into nothing else (RedisBloom has its own format)
    return {
      kind: 'deadLetter',
      row: 'sketch',
      reason: `${write.value.kind} sketch: not writable to this target`,
    };
  }
  const writes = valueWrites(db, key, write.value, write, ctx, stream);
  const commands = [...replace, ...writes.commands];
  if (writes.commands.length > 0 && write.expireAtMs !== null) {
    commands.push(lateExpiryCommand(command(db, 'PEXPIREAT', key, write.expireAtMs), 2));
  }
  return { kind: 'commands', row: writes.row, exact: writes.exact, commands };
}
