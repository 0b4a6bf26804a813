import type { StreamEntry, StreamId } from '../../protocol/types';
import { compareStreamIds, ConsumerGroup, mapKey, StreamModel, streamIdText } from '../values';
import { CommandContext, CommandHandler } from './context';

/**
 * Stream commands in their journaled form (spec 5.5): XADD with an explicit id and exact MINID or
 * MAXLEN 0 trimming, XTRIM MINID, and XREADGROUP rewritten to XGROUP CREATECONSUMER + XCLAIM ... FORCE
 * JUSTID LASTID + XGROUP SETID; XACK, XDEL, XCLAIM, XAUTOCLAIM, XSETID and XGROUP verbatim.
 */

const ZERO_ID: StreamId = { ms: 0n, seq: 0n };

/** `ms-seq` or `ms` (seq 0); `$` is the stream's last id when `last` is given. */
function parseId(ctx: CommandContext, arg: Buffer | undefined, last: StreamId | null = null): StreamId {
  const s = arg?.toString('latin1') ?? '';
  if (s === '$' && last) return last;
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return ctx.fail(`bad stream id "${s}"`);
  return { ms: BigInt(m[1]!), seq: BigInt(m[2] ?? 0) };
}

/** The id of a new entry: explicit, or `ms`/`ms-*` with the next free sequence number. */
function newEntryId(ctx: CommandContext, arg: Buffer | undefined, last: StreamId): StreamId {
  const m = /^(\d+)(?:-\*)?$/.exec(arg?.toString('latin1') ?? '');
  if (!m) return parseId(ctx, arg);
  const ms = BigInt(m[1]!);
  return { ms, seq: last.ms === ms ? last.seq + 1n : 0n };
}

function stream(ctx: CommandContext, key: Buffer): StreamModel | undefined {
  return ctx.lookup(key, 'stream');
}

function group(ctx: CommandContext, s: StreamModel, name: Buffer): ConsumerGroup {
  const g = s.groups.get(mapKey(name));
  if (!g) return ctx.fail(`NOGROUP no consumer group ${name.toString('latin1')}`);
  return g;
}

/** Trimming as journaled: `MAXLEN [=|~] n` or `MINID [=|~] id`; returns the index after the clause. */
function parseTrim(
  ctx: CommandContext,
  args: Buffer[],
  i: number,
): { at: number; trim: (s: StreamModel) => void } {
  const strategy = ctx.upper(args[i]);
  let j = i + 1;
  if (['=', '~'].includes(args[j]?.toString('latin1') ?? '')) j++;
  const threshold = args[j];
  j++;
  if (ctx.upper(args[j]) === 'LIMIT') j += 2;
  if (strategy === 'MAXLEN') {
    const n = ctx.int(threshold, 'MAXLEN');
    return { at: j, trim: (s) => void s.entries.splice(0, Math.max(0, s.entries.length - n)) };
  }
  const minId = parseId(ctx, threshold);
  return {
    at: j,
    trim: (s) => {
      const keepFrom = s.entries.findIndex((e) => compareStreamIds(e.id, minId) >= 0);
      s.entries.splice(0, keepFrom < 0 ? s.entries.length : keepFrom);
    },
  };
}

const xadd: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  let noMkStream = false;
  let trim: ((s: StreamModel) => void) | null = null;
  let i = 1;
  for (;;) {
    const opt = ctx.upper(args[i]);
    if (opt === 'NOMKSTREAM') {
      noMkStream = true;
      i++;
    } else if (opt === 'MAXLEN' || opt === 'MINID') {
      const parsed = parseTrim(ctx, args, i);
      trim = parsed.trim;
      i = parsed.at;
    } else break;
  }
  if (noMkStream && !stream(ctx, key)) return;
  const s = ctx.lookupOrCreate(key, 'stream', () => ({
    type: 'stream',
    entries: [],
    lastId: ZERO_ID,
    groups: new Map(),
  }));
  const id = newEntryId(ctx, args[i], s.lastId);
  const fields = args.slice(i + 1);
  if (fields.length === 0 || fields.length % 2 !== 0) ctx.fail('wrong number of field/value arguments');
  if (compareStreamIds(id, s.lastId) <= 0) {
    ctx.fail(`id ${streamIdText(id)} is not greater than the stream's last id ${streamIdText(s.lastId)}`);
  }
  const entry: StreamEntry = { id, fields };
  s.entries.push(entry);
  s.lastId = id;
  trim?.(s);
};

const xtrim: CommandHandler = (ctx, args) => {
  const s = stream(ctx, ctx.arg(args, 0, 'key'));
  if (s) parseTrim(ctx, args, 1).trim(s);
};

const xdel: CommandHandler = (ctx, args) => {
  const s = stream(ctx, ctx.arg(args, 0, 'key'));
  if (!s) return;
  const gone = new Set(args.slice(1).map((a) => streamIdText(parseId(ctx, a))));
  s.entries = s.entries.filter((e) => !gone.has(streamIdText(e.id)));
};

const xgroup: CommandHandler = (ctx, args) => {
  const sub = ctx.upper(args[0]);
  const key = ctx.arg(args, 1, 'key');
  const name = ctx.arg(args, 2, 'group');
  let s = stream(ctx, key);
  if (sub === 'CREATE') {
    if (!s && args.slice(4).some((a) => ctx.upper(a) === 'MKSTREAM')) {
      s = { type: 'stream', entries: [], lastId: ZERO_ID, groups: new Map() };
      ctx.put(key, s);
    }
    if (!s) return ctx.fail('the key does not exist (and no MKSTREAM)');
    if (s.groups.has(mapKey(name))) ctx.fail('BUSYGROUP consumer group name already exists');
    s.groups.set(mapKey(name), {
      name,
      lastDeliveredId: parseId(ctx, args[3], s.lastId),
      pending: new Map(),
      consumers: new Set(),
    });
    return;
  }
  if (!s) return ctx.fail('the key does not exist');
  const g = group(ctx, s, name);
  if (sub === 'SETID') g.lastDeliveredId = parseId(ctx, args[3], s.lastId);
  else if (sub === 'CREATECONSUMER') g.consumers.add(mapKey(ctx.arg(args, 3, 'consumer')));
  else if (sub === 'DELCONSUMER') {
    const consumer = mapKey(ctx.arg(args, 3, 'consumer'));
    g.consumers.delete(consumer);
    for (const [k, p] of g.pending) if (p.consumer === consumer) g.pending.delete(k);
  } else if (sub === 'DESTROY') s.groups.delete(mapKey(name));
  else ctx.fail(`unsupported subcommand ${sub}`);
};

const XCLAIM_OPTIONS = new Set(['IDLE', 'TIME', 'RETRYCOUNT', 'FORCE', 'JUSTID', 'LASTID']);

function entryExists(s: StreamModel, id: StreamId): boolean {
  return s.entries.some((e) => compareStreamIds(e.id, id) === 0);
}

/**
 * XCLAIM key group consumer min-idle-time id ... [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID]
 * [LASTID id], as Dragonfly runs it: ids no longer in the stream leave the pending list; FORCE
 * creates missing pending entries; an entry idle for less than min-idle-time stays where it is.
 */
const xclaim: CommandHandler = (ctx, args) => {
  const s = stream(ctx, ctx.arg(args, 0, 'key'));
  if (!s) return ctx.fail('the key does not exist');
  const g = group(ctx, s, ctx.arg(args, 1, 'group'));
  const consumer = mapKey(ctx.arg(args, 2, 'consumer'));
  const minIdleMs = ctx.int(args[3], 'min-idle-time');
  let i = 4;
  const ids: StreamId[] = [];
  while (i < args.length && !XCLAIM_OPTIONS.has(ctx.upper(args[i]))) ids.push(parseId(ctx, args[i++]));
  let force = false;
  let lastId: StreamId | null = null;
  let deliveryTimeMs = ctx.nowMs;
  for (; i < args.length; i++) {
    const opt = ctx.upper(args[i]);
    if (opt === 'FORCE') force = true;
    else if (opt === 'LASTID') lastId = parseId(ctx, args[++i]);
    else if (opt === 'TIME') deliveryTimeMs = ctx.int(args[++i], 'TIME');
    else if (opt === 'IDLE') deliveryTimeMs = ctx.nowMs - ctx.int(args[++i], 'IDLE');
    else if (opt === 'RETRYCOUNT') i++;
    else if (opt !== 'JUSTID') ctx.fail(`unknown option ${opt}`);
  }
  if (lastId && compareStreamIds(lastId, g.lastDeliveredId) > 0) g.lastDeliveredId = lastId;
  g.consumers.add(consumer);
  for (const id of ids) {
    const k = streamIdText(id);
    if (!entryExists(s, id)) {
      g.pending.delete(k);
      continue;
    }
    const pending = g.pending.get(k);
    if (!pending) {
      if (force) g.pending.set(k, { id, consumer, deliveryTimeMs });
      continue;
    }
    if (minIdleMs > 0 && ctx.nowMs - pending.deliveryTimeMs < minIdleMs) continue;
    pending.consumer = consumer;
    pending.deliveryTimeMs = deliveryTimeMs;
  }
};

/**
 * XAUTOCLAIM key group consumer min-idle-time start [COUNT n] [JUSTID], as Dragonfly runs it: walks
 * the pending list from `start`, at most 10 × COUNT entries; ids no longer in the stream leave the
 * list (and count against COUNT), entries idle long enough move to `consumer`.
 */
const xautoclaim: CommandHandler = (ctx, args) => {
  const s = stream(ctx, ctx.arg(args, 0, 'key'));
  if (!s) return ctx.fail('the key does not exist');
  const g = group(ctx, s, ctx.arg(args, 1, 'group'));
  const consumer = mapKey(ctx.arg(args, 2, 'consumer'));
  const minIdleMs = ctx.int(args[3], 'min-idle-time');
  const start = args[4]?.toString('latin1') === '-' ? ZERO_ID : parseId(ctx, args[4]);
  let count = 100;
  for (let i = 5; i < args.length; i++) {
    const opt = ctx.upper(args[i]);
    if (opt === 'COUNT') count = ctx.int(args[++i], 'COUNT');
    else if (opt !== 'JUSTID') ctx.fail(`unknown option ${opt}`);
  }
  g.consumers.add(consumer);
  const walk = [...g.pending.values()]
    .filter((p) => compareStreamIds(p.id, start) >= 0)
    .sort((a, b) => compareStreamIds(a.id, b.id));
  let attempts = count * 10;
  for (const pending of walk) {
    if (attempts-- === 0 || count === 0) break;
    if (!entryExists(s, pending.id)) {
      g.pending.delete(streamIdText(pending.id));
      count--;
      continue;
    }
    if (minIdleMs > 0 && ctx.nowMs - pending.deliveryTimeMs < minIdleMs) continue;
    pending.consumer = consumer;
    pending.deliveryTimeMs = ctx.nowMs;
    count--;
  }
};

/** XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]: only the last id is modelled. */
const xsetid: CommandHandler = (ctx, args) => {
  const s = stream(ctx, ctx.arg(args, 0, 'key'));
  if (!s) return ctx.fail('the key does not exist');
  const id = parseId(ctx, args[1]);
  const top = s.entries[s.entries.length - 1];
  if (top && compareStreamIds(id, top.id) < 0) ctx.fail("the id is smaller than the stream's top item");
  s.lastId = id;
};

const xack: CommandHandler = (ctx, args) => {
  const s = stream(ctx, ctx.arg(args, 0, 'key'));
  if (!s) return;
  const g = group(ctx, s, ctx.arg(args, 1, 'group'));
  for (const a of args.slice(2)) g.pending.delete(streamIdText(parseId(ctx, a)));
};

export const STREAM_COMMANDS: Record<string, CommandHandler> = {
  XADD: xadd,
  XTRIM: xtrim,
  XDEL: xdel,
  XGROUP: xgroup,
  XCLAIM: xclaim,
  XAUTOCLAIM: xautoclaim,
  XSETID: xsetid,
  XACK: xack,
};
