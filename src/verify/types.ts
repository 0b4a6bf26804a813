/**
 * What verify reads about a key and what it concludes: the shared vocabulary of src/verify/.
 */

/** One key on one server, as TYPE, PEXPIRETIME and the type's length command report it. */
export interface KeyMeta {
  /** TYPE's answer; "none" when the key does not exist */
  type: string;
  /** absolute expiry in Unix ms; null = no expiry */
  expireAtMs: number | null;
  /** elements (bytes for a string); null for types without a length command (JSON, sketches) */
  length: number | null;
}

export const ABSENT: KeyMeta = { type: 'none', expireAtMs: null, length: null };

export const DIFFERENCE_KINDS = ['missing', 'extra', 'type', 'ttl', 'length', 'value'] as const;
/** missing = on the source only, extra = on the target only; the others: on both, unlike */
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

/**
 * Where the sink stores a Dragonfly type in a Redis without it, by its translation table
 * (docs/sink.md): not a difference, listed apart.
 */
export const DEGRADATIONS = ['json-as-string', 'json-skipped', 'sketch-skipped'] as const;
export type Degradation = (typeof DEGRADATIONS)[number];

/** A key that differs: `detail` says where (field, index, TTLs) in words. */
export interface Difference {
  db: number;
  /** the key as UTF-8 text, or "b64:<base64>" when it is not valid UTF-8 */
  key: string;
  kind: DifferenceKind;
  source: KeyMeta;
  target: KeyMeta;
  detail: string;
}

export interface DegradedKey {
  db: number;
  key: string;
  degradation: Degradation;
  sourceType: string;
  targetType: string;
}

/** The outcome of comparing one key once. */
export type KeyVerdict =
  | { outcome: 'equal' }
  | { outcome: 'degraded'; degradation: Degradation }
  | { outcome: 'different'; kind: DifferenceKind; detail: string };

export const EQUAL: KeyVerdict = { outcome: 'equal' };

export function different(kind: DifferenceKind, detail: string): KeyVerdict {
  return { outcome: 'different', kind, detail };
}
