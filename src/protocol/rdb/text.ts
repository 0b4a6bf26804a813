import { ProtocolError } from '../errors';

/**
 * Numbers that RDB containers carry as text: zset scores inside listpacks/ziplists, member TTLs of
 * HASH_WITH_EXPIRY / SET_WITH_EXPIRY, and the integer fields of stream node listpacks (compact
 * decoders hand integers out as canonical decimal text).
 */

/** Member/field TTLs are seconds since this Unix time (Dragonfly's kMemberExpiryBase, 2023-02-01). */
export const MEMBER_EXPIRY_BASE_S = 1675209600;

const INTEGER = /^-?\d{1,20}$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

type Where = { offset: number; item: string };

function fail(where: Where, expected: string): ProtocolError {
  return new ProtocolError({ offset: where.offset, item: where.item, expected });
}

/** A zset score written as text: a decimal number or inf / +inf / -inf (any case). Never NaN. */
export function parseScore(text: Buffer, where: Where): number {
  const s = text.toString('latin1');
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (!DECIMAL.test(s)) throw fail(where, `a score (decimal number or inf/-inf), got "${s}"`);
  return Number(s);
}

/** A decimal integer (as text) that must fit a JS number exactly. */
export function parseSafeInt(text: Buffer, where: Where): number {
  const s = text.toString('latin1');
  if (!INTEGER.test(s)) throw fail(where, `a decimal integer, got "${s}"`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw fail(where, `an integer up to 2^53, got ${s}`);
  return n;
}

/** A decimal integer (as text) of the full 64-bit range (stream id deltas). */
export function parseBigInt(text: Buffer, where: Where): bigint {
  const s = text.toString('latin1');
  if (!INTEGER.test(s)) throw fail(where, `a decimal integer, got "${s}"`);
  return BigInt(s);
}

/** A member TTL string: -1 = none, else seconds since MEMBER_EXPIRY_BASE_S → absolute Unix ms. */
export function memberExpireAtMs(text: Buffer, where: Where): number | null {
  const ttl = parseSafeInt(text, where);
  if (ttl === -1) return null;
  if (ttl < 0) throw fail(where, `a member TTL of -1 (none) or >= 0 seconds, got ${ttl}`);
  return (ttl + MEMBER_EXPIRY_BASE_S) * 1000;
}
