/**
 * RDB opcodes a Dragonfly master writes on a flow (spec 3.3, 3.10, 4.1): the items that are not key
 * entries, and the prefixes that apply to the next key entry only (EXPIRETIME_MS, DF_MASK).
 */
export const RDB_OPCODE = {
  FULLSYNC_END: 0xc8,
  COMPRESSED_ZSTD_BLOB: 0xc9,
  COMPRESSED_LZ4_BLOB: 0xca,
  JOURNAL_BLOB: 0xd2,
  JOURNAL_OFFSET: 0xd3,
  DF_MASK: 0xdc,
  VECTOR_INDEX: 0xde,
  SHARD_DOC_INDEX: 0xdf,
  TAGGED_CHUNK: 0xe0,
  AUX: 0xfa,
  EXPIRETIME_MS: 0xfc,
  SELECTDB: 0xfe,
  EOF: 0xff,
} as const;
