import type { ExpectedDataset } from '../../src/reference-dataset/expected-json';

/** Dragonfly's probabilistic types: a stock Redis without RedisBloom has none of them (docs/sink.md). */
export const SKETCH_TYPES = new Set(['MBbloom--', 'MBbloomCF', 'CMSk-TYPE', 'TopK-TYPE']);

/**
 * The start of a comparison line ("db N key "k":") for every key whose difference is a documented
 * Redis 7.0 degradation (docs/sink.md): JSON, sketches, member TTLs.
 */
export function degradedKeys(expected: ExpectedDataset): string[] {
  const out: string[] = [];
  for (const [db, keys] of Object.entries(expected)) {
    for (const [key, value] of Object.entries(keys)) {
      if (value.type === 'ReJSON-RL' || SKETCH_TYPES.has(value.type) || value.memberExpireAtMs)
        out.push(`db ${db} key ${JSON.stringify(key)}:`);
    }
  }
  return out;
}
