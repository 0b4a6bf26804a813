import { CommandContext, CommandHandler, formatFloat } from './context';

/** String commands as journaled by v1.40.1 (spec 5.5: SET always with absolute PXAT, INCR* verbatim). */

function stringValue(ctx: CommandContext, key: Buffer): Buffer | undefined {
  return ctx.lookup(key, 'string')?.value;
}

/** Replaces the string value, keeping the key's TTL and flags (INCR, APPEND, SETRANGE, SETBIT...). */
function updateString(ctx: CommandContext, key: Buffer, value: Buffer): void {
  const rec = ctx.record(key);
  if (rec && rec.value.type === 'string') rec.value = { type: 'string', value };
  else ctx.put(key, { type: 'string', value });
}

const set: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const value = ctx.arg(args, 1, 'value');
  const old = ctx.record(key);
  let expireAtMs: number | null = null;
  let keepTtl = false;
  let sticky = false;
  let mcFlags: number | null = null;
  let condition: 'NX' | 'XX' | null = null;
  for (let i = 2; i < args.length; i++) {
    const opt = ctx.upper(args[i]);
    if (opt === 'PXAT') expireAtMs = ctx.int(args[++i], 'PXAT');
    else if (opt === 'EXAT') expireAtMs = ctx.int(args[++i], 'EXAT') * 1000;
    else if (opt === 'PX') expireAtMs = ctx.nowMs + ctx.int(args[++i], 'PX');
    else if (opt === 'EX') expireAtMs = ctx.nowMs + ctx.int(args[++i], 'EX') * 1000;
    else if (opt === 'KEEPTTL') keepTtl = true;
    else if (opt === 'STICK') sticky = true;
    else if (opt === '_MCFLAGS') mcFlags = ctx.int(args[++i], '_MCFLAGS');
    else if (opt === 'NX' || opt === 'XX') condition = opt;
    else if (opt !== 'GET') ctx.fail(`unsupported option ${opt}`);
  }
  if ((condition === 'NX' && old) || (condition === 'XX' && !old)) return;
  ctx.dataset.set(ctx.db, {
    key,
    value: { type: 'string', value },
    expireAtMs: keepTtl ? (old?.expireAtMs ?? null) : expireAtMs,
    sticky: sticky || (old?.sticky ?? false),
    mcFlags,
  });
};

function incrBy(ctx: CommandContext, key: Buffer, delta: bigint): void {
  const current = stringValue(ctx, key);
  const base = current === undefined ? 0n : ctx.bigint(current, 'value');
  const next = base + delta;
  if (next > 2n ** 63n - 1n || next < -(2n ** 63n)) ctx.fail('increment or decrement would overflow');
  updateString(ctx, key, Buffer.from(next.toString(), 'latin1'));
}

const setRange: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const offset = ctx.int(args[1], 'offset');
  const patch = ctx.arg(args, 2, 'value');
  const current = stringValue(ctx, key) ?? Buffer.alloc(0);
  if (patch.length === 0) return;
  const out = Buffer.alloc(Math.max(current.length, offset + patch.length));
  current.copy(out);
  patch.copy(out, offset);
  updateString(ctx, key, out);
};

const setBit: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const offset = ctx.int(args[1], 'offset');
  const bit = ctx.int(args[2], 'bit');
  const current = stringValue(ctx, key) ?? Buffer.alloc(0);
  const byte = offset >> 3;
  const out = Buffer.alloc(Math.max(current.length, byte + 1));
  current.copy(out);
  const mask = 0x80 >> (offset & 7);
  out[byte] = bit ? out[byte]! | mask : out[byte]! & ~mask;
  updateString(ctx, key, out);
};

export const STRING_COMMANDS: Record<string, CommandHandler> = {
  SET: set,
  SETNX: (ctx, args) => set(ctx, [...args, Buffer.from('NX')]),
  GETSET: (ctx, args) => set(ctx, args.slice(0, 2)),
  MSET: (ctx, args) => {
    if (args.length % 2 !== 0) ctx.fail('wrong number of arguments');
    for (let i = 0; i < args.length; i += 2) set(ctx, [args[i]!, args[i + 1]!]);
  },
  GETDEL: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    if (stringValue(ctx, key) !== undefined) ctx.delete(key);
  },
  INCR: (ctx, args) => incrBy(ctx, ctx.arg(args, 0, 'key'), 1n),
  DECR: (ctx, args) => incrBy(ctx, ctx.arg(args, 0, 'key'), -1n),
  INCRBY: (ctx, args) => incrBy(ctx, ctx.arg(args, 0, 'key'), ctx.bigint(args[1], 'increment')),
  DECRBY: (ctx, args) => incrBy(ctx, ctx.arg(args, 0, 'key'), -ctx.bigint(args[1], 'decrement')),
  INCRBYFLOAT: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const current = stringValue(ctx, key);
    const next = (current === undefined ? 0 : ctx.float(current, 'value')) + ctx.float(args[1], 'increment');
    if (!Number.isFinite(next)) ctx.fail('increment would produce NaN or Infinity');
    updateString(ctx, key, formatFloat(next));
  },
  APPEND: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    updateString(
      ctx,
      key,
      Buffer.concat([stringValue(ctx, key) ?? Buffer.alloc(0), ctx.arg(args, 1, 'value')]),
    );
  },
  PREPEND: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    updateString(
      ctx,
      key,
      Buffer.concat([ctx.arg(args, 1, 'value'), stringValue(ctx, key) ?? Buffer.alloc(0)]),
    );
  },
  SETRANGE: setRange,
  SETBIT: setBit,
};
