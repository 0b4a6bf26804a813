/**
 * RDB versions this package reads. Dragonfly always writes 9 (header `REDIS0009`, DUMP payloads
 * with version 9). Versions 10-12 (Redis 7.x) share every item and type id Dragonfly uses; the one
 * difference that matters is type 20 (JSON before 10, SET_LISTPACK from 10). Older and newer versions
 * are refused: their layouts were never checked against this parser.
 */
export const MIN_RDB_VERSION = 9;
export const MAX_RDB_VERSION = 12;

export function isSupportedRdbVersion(v: number): boolean {
  return Number.isInteger(v) && v >= MIN_RDB_VERSION && v <= MAX_RDB_VERSION;
}
