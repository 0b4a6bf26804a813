/**
 * The quick checks of one key: existence, type (with the sink's degradations of Dragonfly-only
 * types), expiry within a tolerance, and length. Pure: the caller reads both sides.
 */
import { different, EQUAL, type KeyMeta, type KeyVerdict } from './types';

/** TYPE names of Dragonfly's sketches (RedisBloom's module type names); a stock Redis has none. */
export const SKETCH_TYPES: ReadonlySet<string> = new Set([
  'MBbloom--',
  'MBbloomCF',
  'CMSk-TYPE',
  'TopK-TYPE',
]);
export const JSON_TYPE = 'ReJSON-RL';

/** Types whose values verify reads and compares; the rest (sketches, modules) get the quick checks only. */
export const COMPARABLE_TYPES: ReadonlySet<string> = new Set([
  'string',
  'list',
  'set',
  'zset',
  'hash',
  'stream',
  JSON_TYPE,
]);

function expiryText(expireAtMs: number | null): string {
  return expireAtMs === null ? 'no expiry' : `expires ${new Date(expireAtMs).toISOString()}`;
}

/**
 * `needsValue` = the quick checks pass but only the values can tell (also a JSON document the sink
 * stored as a string: equal documents make it a degradation, not a difference).
 */
export function compareMeta(
  source: KeyMeta,
  target: KeyMeta,
  ttlToleranceMs: number,
): KeyVerdict | { outcome: 'needsValue' } {
  if (source.type === 'none' && target.type === 'none') return EQUAL;
  if (target.type === 'none') {
    if (SKETCH_TYPES.has(source.type)) return { outcome: 'degraded', degradation: 'sketch-skipped' };
    if (source.type === JSON_TYPE) return { outcome: 'degraded', degradation: 'json-skipped' };
    return different('missing', `${source.type} on the source only`);
  }
  if (source.type === 'none') return different('extra', `${target.type} on the target only`);
  const jsonAsString = source.type === JSON_TYPE && target.type === 'string';
  if (source.type !== target.type && !jsonAsString) {
    return different('type', `source ${source.type}, target ${target.type}`);
  }
  const ttlGap =
    source.expireAtMs === null || target.expireAtMs === null
      ? source.expireAtMs === target.expireAtMs
        ? 0
        : Infinity
      : Math.abs(source.expireAtMs - target.expireAtMs);
  if (ttlGap > ttlToleranceMs) {
    return different(
      'ttl',
      `source ${expiryText(source.expireAtMs)}, target ${expiryText(target.expireAtMs)}`,
    );
  }
  if (!jsonAsString && source.length !== target.length) {
    const unit = source.type === 'string' ? 'bytes' : 'elements';
    return different(
      'length',
      `source ${source.length ?? '?'} ${unit}, target ${target.length ?? '?'} ${unit}`,
    );
  }
  return { outcome: 'needsValue' };
}
