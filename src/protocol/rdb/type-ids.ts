/** RDB object type ids a Dragonfly master emits (spec 4.3), plus the legacy ids it still accepts. */
export const RDB_TYPE = {
  STRING: 0,
  SET: 2,
  HASH: 4,
  ZSET_2: 5,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  /** JSON in RDB version < 10 (pre-v1.14 Dragonfly), SET_LISTPACK from version 10 on */
  SET_LISTPACK_OR_OLD_JSON: 20,
  STREAM_LISTPACKS_3: 21,
  JSON: 30,
  HASH_WITH_EXPIRY: 31,
  SET_WITH_EXPIRY: 32,
  SBF: 33,
  SBF2: 34,
  CMS: 35,
  TOPK: 36,
  CUCKOO: 37,
} as const;

const TYPE_IDS = new Set<number>(Object.values(RDB_TYPE));

/** True for every type id createValueReader understands (used to recognise a key entry's start). */
export function isRdbTypeId(b: number): boolean {
  return TYPE_IDS.has(b);
}
