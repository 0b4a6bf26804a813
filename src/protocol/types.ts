/**
 * Domain types produced by the protocol layer. Everything a Dragonfly master sends on a flow becomes
 * one of the FlowItem variants below, in stream order. Byte strings stay Buffers (keys and values are
 * binary-safe); LSNs, txids and expiry times are JS numbers (checked to be below 2^53 when read);
 * stream ids use bigint because their sequence part spans the full 64-bit range.
 */

export type FlowId = number;
export type Lsn = number;

/** Absolute Unix time in milliseconds, or null for "no expiry". */
export type ExpireAtMs = number | null;

export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export interface StreamEntry {
  id: StreamId;
  /** field, value, field, value ... */
  fields: Buffer[];
}

export interface StreamPendingEntry {
  id: StreamId;
  deliveryTimeMs: number;
  deliveryCount: number;
}

export interface StreamConsumer {
  name: Buffer;
  seenTimeMs: number;
  /** Only in STREAM_LISTPACKS_3 (type 21); null for older encodings. */
  activeTimeMs: number | null;
  pending: StreamId[];
}

export interface StreamGroup {
  name: Buffer;
  lastDeliveredId: StreamId;
  /** Only in type 21; null for older encodings. */
  entriesRead: number | null;
  pending: StreamPendingEntry[];
  consumers: StreamConsumer[];
}

export interface StreamValue {
  type: 'stream';
  entries: StreamEntry[];
  length: number;
  lastId: StreamId;
  /** type 21 only, else null */
  firstId: StreamId | null;
  maxDeletedId: StreamId | null;
  entriesAdded: number | null;
  groups: StreamGroup[];
}

/** Probabilistic structures are kept in their RDB layout (so a Dragonfly target can RESTORE them). */
export interface SketchValue {
  type: 'sketch';
  /** SBF = 33, SBF2 = 34, CMS = 35, TOPK = 36, CUCKOO = 37 */
  kind: 'SBF' | 'SBF2' | 'CMS' | 'TOPK' | 'CUCKOO';
  rdbType: number;
  /** The value bytes exactly as on the wire (after the key), for RESTORE into Dragonfly. */
  raw: Buffer;
}

export type RdbValue =
  | { type: 'string'; value: Buffer }
  | { type: 'list'; items: Buffer[] }
  /** memberExpireAtMs is present only for SET_WITH_EXPIRY (type 32): one entry per member. */
  | { type: 'set'; members: Buffer[]; memberExpireAtMs?: ExpireAtMs[] }
  | { type: 'zset'; entries: { member: Buffer; score: number }[] }
  /** expireAtMs per field is present only for HASH_WITH_EXPIRY (type 31). */
  | { type: 'hash'; fields: { field: Buffer; value: Buffer; expireAtMs?: ExpireAtMs }[] }
  | StreamValue
  | { type: 'json'; json: Buffer }
  | SketchValue;

export interface KeyFlags {
  sticky: boolean;
  /** memcached client flags, when the DF_MASK said they are present */
  mcFlags: number | null;
}

export interface SnapshotEntry {
  db: number;
  key: Buffer;
  expireAtMs: ExpireAtMs;
  flags: KeyFlags;
  /** the RDB type id the value was encoded with (0, 2, 4, 5, 11-18, 21, 30-37) */
  rdbType: number;
  value: RdbValue;
}

/** A journal record (spec section 5). `db` is the SELECT prefix in force for this record. */
export type JournalRecord =
  | {
      op: 'command' | 'expired' | 'multi_command';
      db: number;
      txid: number;
      shardCount: number;
      /** command name first, then arguments, all raw bytes */
      args: Buffer[];
    }
  | { op: 'exec'; db: number; txid: number; shardCount: number }
  | { op: 'ping' }
  | { op: 'noop' }
  | { op: 'fin' };

/** Everything a flow carries, in stream order. */
export type FlowItem =
  | { kind: 'aux'; key: string; value: Buffer }
  | { kind: 'entry'; entry: SnapshotEntry }
  /** journal record; inSnapshot = it came inside a JOURNAL_BLOB during full sync (no LSN of its own) */
  | { kind: 'journal'; record: JournalRecord; inSnapshot: boolean }
  /** LSN entry (opcode 15) of the stable stream: the LSN of the record just before it */
  | { kind: 'lsn'; lsn: Lsn }
  | { kind: 'fullSyncEnd' }
  | { kind: 'journalOffset'; lsn: Lsn }
  /** RDB EOF read and the 40-byte token after it checked; the journal stream follows */
  | { kind: 'rdbEnd' }
  /** items that are parsed but not carried further (search index metadata), counted for metrics */
  | { kind: 'skipped'; what: string; bytes: number };
