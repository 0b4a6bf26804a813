import { fromRdbValue, ModelValue } from '../values';
import { CommandContext, CommandHandler } from './context';
import { compareZsetMembers } from './zsets';

/** Keyspace commands: deletion, TTLs, MOVE, FLUSH*, RESTORE (RENAME/COPY across shards), SORT ... STORE. */

const restore: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const ttl = ctx.int(args[1], 'ttl');
  const payload = ctx.arg(args, 2, 'payload');
  const options = new Set(args.slice(3).map((a) => ctx.upper(a)));
  if (!ctx.dataset.decodeDump) return ctx.fail('this dataset was built without a DUMP payload decoder');
  if (ctx.record(key) && !options.has('REPLACE'))
    ctx.fail(`BUSYKEY ${key.toString('latin1')} already exists`);
  const { value } = ctx.dataset.decodeDump(payload);
  const expireAtMs = ttl === 0 ? null : options.has('ABSTTL') ? ttl : ctx.nowMs + ttl;
  ctx.dataset.set(ctx.db, {
    key,
    value: fromRdbValue(value),
    expireAtMs,
    sticky: options.has('STICK'),
    mcFlags: null,
  });
};

function rename(onlyIfAbsent: boolean): CommandHandler {
  return (ctx, args) => {
    const from = ctx.arg(args, 0, 'key');
    const to = ctx.arg(args, 1, 'newkey');
    const rec = ctx.record(from);
    if (!rec) return ctx.fail('no such key');
    if (onlyIfAbsent && ctx.record(to)) return;
    ctx.delete(from);
    ctx.dataset.set(ctx.db, { ...rec, key: to });
  };
}

function sortElements(ctx: CommandContext, value: ModelValue): Buffer[] {
  if (value.type === 'list') return [...value.items];
  if (value.type === 'set') return [...value.members.values()].map((m) => m.member);
  if (value.type === 'zset') return [...value.members.values()].sort(compareZsetMembers).map((m) => m.member);
  return ctx.fail(`WRONGTYPE SORT cannot sort a ${value.type}`);
}

/** SORT key [LIMIT offset count] [ASC|DESC] [ALPHA] [STORE dst]; without STORE it is read-only. */
const sort: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  let desc = false;
  let alpha = false;
  let limit: [number, number] | null = null;
  let store: Buffer | null = null;
  for (let i = 1; i < args.length; i++) {
    const opt = ctx.upper(args[i]);
    if (opt === 'ASC') desc = false;
    else if (opt === 'DESC') desc = true;
    else if (opt === 'ALPHA') alpha = true;
    else if (opt === 'LIMIT') limit = [ctx.int(args[++i], 'offset'), ctx.int(args[++i], 'count')];
    else if (opt === 'STORE') store = ctx.arg(args, ++i, 'destination');
    else ctx.fail(`unsupported option ${opt} (BY/GET patterns are not modelled)`);
  }
  if (!store) return;
  const rec = ctx.record(key);
  let items = rec ? sortElements(ctx, rec.value) : [];
  if (alpha) items.sort(Buffer.compare);
  else {
    const scored = items.map((item) => ({ item, n: ctx.float(item, 'element') }));
    scored.sort((a, b) => a.n - b.n || Buffer.compare(a.item, b.item));
    items = scored.map((s) => s.item);
  }
  if (desc) items.reverse();
  if (limit)
    items = items.slice(Math.max(0, limit[0]), limit[1] < 0 ? undefined : Math.max(0, limit[0]) + limit[1]);
  if (items.length === 0) ctx.delete(store);
  else ctx.put(store, { type: 'list', items });
};

/**
 * DELEX key [IFEQ value | IFNE value | IFDEQ digest | IFDNE digest] (Dragonfly): DEL, or deletes a
 * string only when its value (or its XXH3 digest) matches. Journaled verbatim, condition included.
 */
const delex: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  if (args.length === 1) {
    ctx.delete(key);
    return;
  }
  const condition = ctx.upper(args[1]);
  const compared = ctx.arg(args, 2, 'value');
  if (condition === 'IFDEQ' || condition === 'IFDNE') {
    return ctx.cannot('the XXH3-64 digest conditions (IFDEQ/IFDNE) are not modelled');
  }
  if (condition !== 'IFEQ' && condition !== 'IFNE') return ctx.fail(`unknown condition ${condition}`);
  const value = ctx.lookup(key, 'string')?.value;
  if (value !== undefined && value.equals(compared) === (condition === 'IFEQ')) ctx.delete(key);
};

export const KEY_COMMANDS: Record<string, CommandHandler> = {
  DEL: (ctx, args) => args.forEach((k) => ctx.delete(k)),
  UNLINK: (ctx, args) => args.forEach((k) => ctx.delete(k)),
  PEXPIREAT: (ctx, args) => {
    const rec = ctx.record(ctx.arg(args, 0, 'key'));
    if (rec) rec.expireAtMs = ctx.int(args[1], 'milliseconds timestamp');
  },
  /** Not journaled by v1.40.1 (EXPIREAT becomes PEXPIREAT) but translated by the sink. */
  EXPIREAT: (ctx, args) => {
    const rec = ctx.record(ctx.arg(args, 0, 'key'));
    if (rec) rec.expireAtMs = ctx.int(args[1], 'seconds timestamp') * 1000;
  },
  PERSIST: (ctx, args) => {
    const rec = ctx.record(ctx.arg(args, 0, 'key'));
    if (rec) rec.expireAtMs = null;
  },
  MOVE: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const target = ctx.int(args[1], 'db');
    const rec = ctx.record(key);
    if (!rec || target === ctx.db || ctx.dataset.get(target, key)) return;
    ctx.delete(key);
    ctx.dataset.set(target, rec);
  },
  FLUSHDB: (ctx) => ctx.dataset.flushDb(ctx.db),
  FLUSHALL: (ctx) => ctx.dataset.flushAll(),
  RESTORE: restore,
  RENAME: rename(false),
  RENAMENX: rename(true),
  SORT: sort,
  /** STICK key ...: pins existing keys against eviction (the sticky flag). */
  STICK: (ctx, args) => {
    for (const key of args) {
      const rec = ctx.record(key);
      if (rec) rec.sticky = true;
    }
  },
  DELEX: delex,
};
