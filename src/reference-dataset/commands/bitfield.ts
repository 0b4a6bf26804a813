import { CommandContext, CommandHandler } from './context';

/**
 * BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset incr]
 * [OVERFLOW WRAP|SAT|FAIL] ..., journaled verbatim (GET sub-commands included). Follows Dragonfly's
 * arithmetic where it differs from Redis: an unsigned value that goes below 0 saturates to the
 * maximum under SAT, and SET/INCRBY grow the string even when OVERFLOW FAIL refuses the write.
 */

type Policy = 'WRAP' | 'SAT' | 'FAIL';

interface Field {
  signed: boolean;
  bits: number;
  offset: number;
}

function parseField(ctx: CommandContext, typeArg: Buffer | undefined, offsetArg: Buffer | undefined): Field {
  const type = typeArg?.toString('latin1') ?? '';
  const m = /^([iu])(\d+)$/.exec(type);
  const bits = m ? Number(m[2]) : 0;
  if (!m || bits < 1 || bits > 64 || (m[1] === 'u' && bits === 64)) ctx.fail(`invalid bitfield type ${type}`);
  const offsetText = offsetArg?.toString('latin1') ?? '';
  const byFields = offsetText.startsWith('#');
  const offset = ctx.int(Buffer.from(byFields ? offsetText.slice(1) : offsetText, 'latin1'), 'offset');
  if (offset < 0) ctx.fail(`offset ${offsetText} is negative`);
  return { signed: m[1] === 'i', bits, offset: byFields ? offset * bits : offset };
}

function grow(bytes: Buffer, field: Field): Buffer {
  const need = Math.floor((field.offset + field.bits - 1) / 8) + 1;
  if (bytes.length >= need) return bytes;
  const out = Buffer.alloc(need);
  bytes.copy(out);
  return out;
}

function read(bytes: Buffer, field: Field): bigint {
  let raw = 0n;
  for (let i = 0; i < field.bits; i++) {
    const bit = field.offset + i;
    const byte = bytes[bit >> 3] ?? 0;
    raw = (raw << 1n) | BigInt((byte >> (7 - (bit & 7))) & 1);
  }
  return field.signed ? BigInt.asIntN(field.bits, raw) : raw;
}

function write(bytes: Buffer, field: Field, value: bigint): void {
  const raw = BigInt.asUintN(field.bits, value);
  for (let i = 0; i < field.bits; i++) {
    const bit = field.offset + i;
    const on = (raw >> BigInt(field.bits - 1 - i)) & 1n;
    const mask = 0x80 >> (bit & 7);
    bytes[bit >> 3] = on ? bytes[bit >> 3]! | mask : bytes[bit >> 3]! & ~mask;
  }
}

/** `value + incr` under the overflow policy; null when FAIL refuses it. */
function settle(field: Field, value: bigint, incr: bigint, policy: Policy): bigint | null {
  if (!field.signed) {
    const max = (1n << BigInt(field.bits)) - 1n;
    const sum = BigInt.asUintN(64, BigInt.asUintN(64, incr) + BigInt.asUintN(64, value));
    if (sum <= max) return sum;
    return policy === 'WRAP' ? sum & max : policy === 'SAT' ? max : null;
  }
  const max = (1n << BigInt(field.bits - 1)) - 1n;
  const min = -max - 1n;
  const sum = value + incr;
  if (sum >= min && sum <= max) return sum;
  if (policy === 'WRAP') return BigInt.asIntN(field.bits, sum);
  return policy === 'SAT' ? (sum > max ? max : min) : null;
}

export const bitfield: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const rec = ctx.record(key);
  const current = rec ? ctx.lookup(key, 'string')!.value : undefined;
  let bytes: Buffer = Buffer.from(current ?? Buffer.alloc(0));
  let policy: Policy = 'WRAP';
  let writes = false;
  for (let i = 1; i < args.length;) {
    const op = ctx.upper(args[i]);
    if (op === 'OVERFLOW') {
      const p = ctx.upper(args[i + 1]);
      if (p !== 'WRAP' && p !== 'SAT' && p !== 'FAIL') return ctx.fail(`unknown OVERFLOW policy ${p}`);
      policy = p;
      i += 2;
      continue;
    }
    const field = parseField(ctx, args[i + 1], args[i + 2]);
    if (op === 'GET') {
      i += 3;
      continue;
    }
    if (op !== 'SET' && op !== 'INCRBY') ctx.fail(`unknown sub-command ${op}`);
    const given = ctx.bigint(args[i + 3], op === 'SET' ? 'value' : 'increment');
    writes = true;
    bytes = grow(bytes, field);
    const next =
      op === 'SET' ? settle(field, given, 0n, policy) : settle(field, read(bytes, field), given, policy);
    if (next !== null) write(bytes, field, next);
    i += 4;
  }
  if (!writes) return;
  if (rec) rec.value = { type: 'string', value: bytes };
  else ctx.put(key, { type: 'string', value: bytes });
};
