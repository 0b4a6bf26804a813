import { HashField, mapKey } from '../values';
import { CommandContext, CommandHandler, formatFloat } from './context';

/** Hash commands; HSETEX keeps its relative TTL in the journal (spec 5.5), evaluated at record time. */

function fields(ctx: CommandContext, key: Buffer): Map<string, HashField> {
  return ctx.lookupOrCreate(key, 'hash', () => ({ type: 'hash', fields: new Map() })).fields;
}

function setPairs(ctx: CommandContext, key: Buffer, pairs: Buffer[], onlyNew: boolean): void {
  if (pairs.length === 0 || pairs.length % 2 !== 0) ctx.fail('wrong number of field/value arguments');
  const hash = fields(ctx, key);
  for (let i = 0; i < pairs.length; i += 2) {
    const field = pairs[i]!;
    if (onlyNew && hash.has(mapKey(field))) continue;
    hash.set(mapKey(field), { field, value: pairs[i + 1]!, expireAtMs: null });
  }
}

/**
 * Both forms v1.40.1 accepts: `HSETEX key [NX] [KEEPTTL] <sec> f v ...` (Dragonfly) and
 * `HSETEX key [FNX|FXX] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] FIELDS n f v ...` (Redis 8).
 */
const hsetex: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  let onlyNew = false;
  let onlyExisting = false;
  let keepTtl = false;
  let expireAtMs: number | null = null;
  let i = 1;
  for (; i < args.length; i++) {
    const opt = ctx.upper(args[i]);
    if (opt === 'NX' || opt === 'FNX') onlyNew = true;
    else if (opt === 'FXX') onlyExisting = true;
    else if (opt === 'KEEPTTL') keepTtl = true;
    else if (opt === 'EX') expireAtMs = ctx.nowMs + ctx.int(args[++i], 'EX') * 1000;
    else if (opt === 'PX') expireAtMs = ctx.nowMs + ctx.int(args[++i], 'PX');
    else if (opt === 'EXAT') expireAtMs = ctx.int(args[++i], 'EXAT') * 1000;
    else if (opt === 'PXAT') expireAtMs = ctx.int(args[++i], 'PXAT');
    else if (opt === 'FIELDS') {
      const n = ctx.int(args[++i], 'FIELDS count');
      if (args.length !== i + 1 + 2 * n) ctx.fail('FIELDS count does not match the field/value pairs');
      i++;
      break;
    } else {
      expireAtMs = ctx.nowMs + ctx.int(args[i], 'seconds') * 1000;
      i++;
      break;
    }
  }
  const pairs = args.slice(i);
  if (pairs.length === 0 || pairs.length % 2 !== 0) ctx.fail('wrong number of field/value arguments');
  const hash = fields(ctx, key);
  for (let p = 0; p < pairs.length; p += 2) {
    const field = pairs[p]!;
    const old = hash.get(mapKey(field));
    if ((onlyNew && old) || (onlyExisting && !old)) continue;
    hash.set(mapKey(field), {
      field,
      value: pairs[p + 1]!,
      expireAtMs: keepTtl && old ? old.expireAtMs : expireAtMs,
    });
  }
  ctx.deleteIfEmpty(key, hash.size);
};

function updateField(ctx: CommandContext, args: Buffer[], next: (old: Buffer | undefined) => Buffer): void {
  const field = ctx.arg(args, 1, 'field');
  const hash = fields(ctx, ctx.arg(args, 0, 'key'));
  const old = hash.get(mapKey(field));
  hash.set(mapKey(field), { field, value: next(old?.value), expireAtMs: old?.expireAtMs ?? null });
}

export const HASH_COMMANDS: Record<string, CommandHandler> = {
  HSET: (ctx, args) => setPairs(ctx, ctx.arg(args, 0, 'key'), args.slice(1), false),
  HMSET: (ctx, args) => setPairs(ctx, ctx.arg(args, 0, 'key'), args.slice(1), false),
  HSETNX: (ctx, args) => setPairs(ctx, ctx.arg(args, 0, 'key'), args.slice(1), true),
  HSETEX: hsetex,
  HDEL: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const hash = ctx.lookup(key, 'hash')?.fields;
    if (!hash) return;
    for (const f of args.slice(1)) hash.delete(mapKey(f));
    ctx.deleteIfEmpty(key, hash.size);
  },
  HINCRBY: (ctx, args) =>
    updateField(ctx, args, (old) => {
      const next =
        (old === undefined ? 0n : ctx.bigint(old, 'field value')) + ctx.bigint(args[2], 'increment');
      return Buffer.from(next.toString(), 'latin1');
    }),
  HINCRBYFLOAT: (ctx, args) =>
    updateField(ctx, args, (old) =>
      formatFloat((old === undefined ? 0 : ctx.float(old, 'field value')) + ctx.float(args[2], 'increment')),
    ),
};
