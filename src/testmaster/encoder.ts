import { JOURNAL_OPCODE } from '../protocol/journal';
import { RDB_OPCODE } from '../protocol/rdb/opcodes';
import { MEMBER_EXPIRY_BASE_S } from '../protocol/rdb/text';
import { RDB_TYPE } from '../protocol/rdb/type-ids';
import type { ExpireAtMs, JournalRecord, KeyFlags, RdbValue } from '../protocol/types';

/**
 * Writes what a Dragonfly v1.40 master writes on a flow (spec sections 3-5, 9): the RDB header and AUX
 * fields, SELECTDB, key entries of the common types, JOURNAL_BLOB, FULLSYNC_END, JOURNAL_OFFSET, EOF +
 * token, and journal entries. Encoding choices follow Dragonfly's (int-encoded strings, listpack
 * integers, shortest packed lengths), checked byte for byte against the recorded fixtures in
 * test/unit/testmaster/encoder-captures.test.ts. Compressed blobs and tagged chunks are not written.
 */

export const RDB_HEADER = Buffer.from('REDIS0009', 'latin1');

/** Redis/Dragonfly defaults deciding the compact encodings (set-max-intset-entries etc.). */
const INTSET_MAX_ENTRIES = 512;
const LISTPACK_MAX_ENTRIES = 128;
const LISTPACK_MAX_VALUE = 64;
/** quicklist fill -2: a node's listpack stays within 8 KiB (estimate: element bytes + 8 overhead). */
const QUICKLIST_NODE_BYTES = 8192;
const QUICKLIST_ESTIMATE_OVERHEAD = 8;

export class EncoderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncoderError';
  }
}

type Bytes = Buffer | string;

function bytes(v: Bytes): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** Packed length / packed uint (spec 0.2): shortest form, big-endian. */
export function packedUint(value: number | bigint): Buffer {
  const n = BigInt(value);
  if (n < 0n) throw new EncoderError(`packed uint must not be negative, got ${n}`);
  if (n < 64n) return Buffer.from([Number(n)]);
  if (n < 16384n) return Buffer.from([0x40 | Number(n >> 8n), Number(n & 0xffn)]);
  if (n <= 0xffffffffn) {
    const out = Buffer.alloc(5);
    out[0] = 0x80;
    out.writeUInt32BE(Number(n), 1);
    return out;
  }
  const out = Buffer.alloc(9);
  out[0] = 0x81;
  out.writeBigUInt64BE(n, 1);
  return out;
}

/** The integer a canonical decimal text stands for (no sign '+', no leading zeros, no "-0"), else null. */
function canonicalInteger(text: Buffer, maxLength: number): bigint | null {
  if (text.length === 0 || text.length > maxLength) return null;
  const s = text.toString('latin1');
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  return BigInt(s);
}

const INT8 = [-128n, 127n] as const;
const INT16 = [-32768n, 32767n] as const;
const INT32 = [-2147483648n, 2147483647n] as const;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;
const within = (n: bigint, [lo, hi]: readonly [bigint, bigint]): boolean => n >= lo && n <= hi;

/** An RDB string without special encodings: packed length + bytes. */
export function plainRdbString(value: Bytes): Buffer {
  const b = bytes(value);
  return Buffer.concat([packedUint(b.length), b]);
}

/**
 * An RDB string as Dragonfly writes keys, values, members, fields and AUX values: int8/16/32-encoded
 * when the text is a canonical int32 of at most 11 characters (spec 4.2), else raw.
 */
export function rdbString(value: Bytes | number): Buffer {
  const b = typeof value === 'number' ? Buffer.from(String(value), 'latin1') : bytes(value);
  const n = canonicalInteger(b, 11);
  if (n === null || !within(n, INT32)) return plainRdbString(b);
  if (within(n, INT8)) {
    const out = Buffer.alloc(2);
    out[0] = 0xc0;
    out.writeInt8(Number(n), 1);
    return out;
  }
  if (within(n, INT16)) {
    const out = Buffer.alloc(3);
    out[0] = 0xc1;
    out.writeInt16LE(Number(n), 1);
    return out;
  }
  const out = Buffer.alloc(5);
  out[0] = 0xc2;
  out.writeInt32LE(Number(n), 1);
  return out;
}

export function auxField(key: string, value: Bytes | number): Buffer {
  return Buffer.concat([Buffer.from([RDB_OPCODE.AUX]), rdbString(key), rdbString(value)]);
}

export interface AuxHeaderOptions {
  flowId: number;
  /** Unix seconds */
  ctime: number;
  usedMem: number;
  /** flow 0 only (v1.32+) */
  shardCount?: number;
  /** flow 0 only (v1.32+) */
  tableMem?: number;
  redisVer?: string;
  dfVer?: string;
}

/** `REDIS0009` and the AUX fields in v1.40.1's order (spec 3.5); flow 0 adds shard-count and table-mem. */
export function rdbHeader(o: AuxHeaderOptions): Buffer {
  const parts = [
    RDB_HEADER,
    auxField('redis-ver', o.redisVer ?? '6.2.11'),
    auxField('df-ver', o.dfVer ?? 'df-v1.40.1'),
    auxField('redis-bits', 64),
    auxField('ctime', o.ctime),
    auxField('used-mem', o.usedMem),
    auxField('aof-preamble', 0),
  ];
  if (o.shardCount !== undefined) parts.push(auxField('shard-count', o.shardCount));
  if (o.tableMem !== undefined) parts.push(auxField('table-mem', o.tableMem));
  parts.push(auxField('shard-id', o.flowId));
  return Buffer.concat(parts);
}

export function selectDb(db: number): Buffer {
  return Buffer.concat([Buffer.from([RDB_OPCODE.SELECTDB]), packedUint(db)]);
}

// ---------------------------------------------------------------------------------------------------
// compact containers

function listpackElement(element: Buffer): Buffer {
  const n = canonicalInteger(element, 20);
  let enc: Buffer;
  if (n !== null && within(n, INT64)) {
    const v = Number(n);
    if (n >= 0n && n <= 127n) enc = Buffer.from([v]);
    else if (n >= -4096n && n <= 4095n) {
      const u = v & 0x1fff;
      enc = Buffer.from([0xc0 | (u >> 8), u & 0xff]);
    } else if (within(n, INT16)) {
      enc = Buffer.alloc(3);
      enc[0] = 0xf1;
      enc.writeInt16LE(v, 1);
    } else if (n >= -8388608n && n <= 8388607n) {
      enc = Buffer.alloc(4);
      enc[0] = 0xf2;
      enc.writeIntLE(v, 1, 3);
    } else if (within(n, INT32)) {
      enc = Buffer.alloc(5);
      enc[0] = 0xf3;
      enc.writeInt32LE(v, 1);
    } else {
      enc = Buffer.alloc(9);
      enc[0] = 0xf4;
      enc.writeBigInt64LE(n, 1);
    }
  } else if (element.length < 64) {
    enc = Buffer.concat([Buffer.from([0x80 | element.length]), element]);
  } else if (element.length < 4096) {
    enc = Buffer.concat([Buffer.from([0xe0 | (element.length >> 8), element.length & 0xff]), element]);
  } else {
    const head = Buffer.alloc(5);
    head[0] = 0xf0;
    head.writeUInt32LE(element.length, 1);
    enc = Buffer.concat([head, element]);
  }
  return Buffer.concat([enc, listpackBacklen(enc.length)]);
}

/** Element length written after each element, readable right to left (7-bit groups, Redis' size steps). */
function listpackBacklen(len: number): Buffer {
  const size = len <= 127 ? 1 : len < 16383 ? 2 : len < 2097151 ? 3 : len < 268435455 ? 4 : 5;
  const out = Buffer.alloc(size);
  let rest = len;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = (rest & 0x7f) | (i > 0 ? 0x80 : 0);
    rest = Math.floor(rest / 128);
  }
  return out;
}

/** A Redis listpack of the elements; canonical integers use the integer encodings as Redis stores them. */
export function listpack(elements: Bytes[]): Buffer {
  const body = Buffer.concat(elements.map((e) => listpackElement(bytes(e))));
  const head = Buffer.alloc(6);
  head.writeUInt32LE(6 + body.length + 1, 0);
  head.writeUInt16LE(Math.min(elements.length, 65535), 4);
  return Buffer.concat([head, body, Buffer.from([0xff])]);
}

/** An intset of the values in ascending order, in the narrowest width that holds them all. */
export function intset(values: bigint[]): Buffer {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const width = sorted.every((v) => within(v, INT16)) ? 2 : sorted.every((v) => within(v, INT32)) ? 4 : 8;
  const out = Buffer.alloc(8 + width * sorted.length);
  out.writeUInt32LE(width, 0);
  out.writeUInt32LE(sorted.length, 4);
  sorted.forEach((v, i) => {
    const at = 8 + i * width;
    if (width === 2) out.writeInt16LE(Number(v), at);
    else if (width === 4) out.writeInt32LE(Number(v), at);
    else out.writeBigInt64LE(v, at);
  });
  return out;
}

/** Splits list elements into quicklist nodes the way a list grown by RPUSH is split (fill -2, 8 KiB). */
export function quicklistNodes(items: Buffer[]): Buffer[][] {
  const nodes: Buffer[][] = [];
  let node: Buffer[] = [];
  let size = 7;
  for (const item of items) {
    if (node.length > 0 && size + item.length + QUICKLIST_ESTIMATE_OVERHEAD > QUICKLIST_NODE_BYTES) {
      nodes.push(node);
      node = [];
      size = 7;
    }
    node.push(item);
    size += listpackElement(item).length;
  }
  if (node.length > 0) nodes.push(node);
  return nodes;
}

/** Score text as Redis keeps it in a listpack: integers as integers, `inf`/`-inf`, else shortest decimal. */
export function scoreText(score: number): Buffer {
  if (Number.isNaN(score)) throw new EncoderError('a zset score cannot be NaN');
  if (score === Infinity) return Buffer.from('inf');
  if (score === -Infinity) return Buffer.from('-inf');
  if (Number.isInteger(score) && Math.abs(score) < 2 ** 53) return Buffer.from(String(score));
  return Buffer.from(String(score).replace('e+', 'e'));
}

function memberTtl(expireAtMs: ExpireAtMs | undefined): Buffer {
  if (expireAtMs === null || expireAtMs === undefined) return rdbString(-1);
  return rdbString(Math.floor(expireAtMs / 1000) - MEMBER_EXPIRY_BASE_S);
}

function double(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeDoubleLE(value, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// key entries

/** The RDB type Dragonfly v1.40 picks for a value (spec 4.3), given Redis' default thresholds. */
export function defaultRdbType(value: RdbValue): number {
  const small = (elements: Buffer[]): boolean =>
    elements.length <= LISTPACK_MAX_ENTRIES && elements.every((e) => e.length <= LISTPACK_MAX_VALUE);
  switch (value.type) {
    case 'string':
      return RDB_TYPE.STRING;
    case 'list':
      return RDB_TYPE.LIST_QUICKLIST_2;
    case 'set':
      if (value.memberExpireAtMs) return RDB_TYPE.SET_WITH_EXPIRY;
      return value.members.length <= INTSET_MAX_ENTRIES &&
        value.members.every((m) => {
          const n = canonicalInteger(m, 20);
          return n !== null && within(n, INT64);
        })
        ? RDB_TYPE.SET_INTSET
        : RDB_TYPE.SET;
    case 'hash':
      if (value.fields.some((f) => f.expireAtMs !== undefined)) return RDB_TYPE.HASH_WITH_EXPIRY;
      return small(value.fields.flatMap((f) => [f.field, f.value])) ? RDB_TYPE.HASH_LISTPACK : RDB_TYPE.HASH;
    case 'zset':
      return small(value.entries.map((e) => e.member)) ? RDB_TYPE.ZSET_LISTPACK : RDB_TYPE.ZSET_2;
    case 'json':
      return RDB_TYPE.JSON;
    default:
      throw new EncoderError(`the encoder does not write ${value.type} values`);
  }
}

function wrongType(rdbType: number, value: RdbValue): EncoderError {
  return new EncoderError(`RDB type ${rdbType} cannot carry a ${value.type} value`);
}

/** The value bytes of an entry (after type and key) in the given RDB type. */
export function encodeValue(rdbType: number, value: RdbValue): Buffer {
  switch (rdbType) {
    case RDB_TYPE.STRING:
      if (value.type !== 'string') throw wrongType(rdbType, value);
      return rdbString(value.value);
    case RDB_TYPE.JSON:
      if (value.type !== 'json') throw wrongType(rdbType, value);
      return plainRdbString(value.json);
    case RDB_TYPE.LIST_QUICKLIST_2: {
      if (value.type !== 'list') throw wrongType(rdbType, value);
      const nodes = quicklistNodes(value.items);
      const packedNode = 2;
      return Buffer.concat([
        packedUint(nodes.length),
        ...nodes.flatMap((n) => [packedUint(packedNode), plainRdbString(listpack(n))]),
      ]);
    }
    case RDB_TYPE.SET:
      if (value.type !== 'set') throw wrongType(rdbType, value);
      return Buffer.concat([packedUint(value.members.length), ...value.members.map((m) => rdbString(m))]);
    case RDB_TYPE.SET_INTSET:
      if (value.type !== 'set') throw wrongType(rdbType, value);
      return plainRdbString(intset(value.members.map((m) => BigInt(m.toString('latin1')))));
    case RDB_TYPE.SET_WITH_EXPIRY:
      if (value.type !== 'set') throw wrongType(rdbType, value);
      return Buffer.concat([
        packedUint(value.members.length),
        ...value.members.flatMap((m, i) => [rdbString(m), memberTtl(value.memberExpireAtMs?.[i])]),
      ]);
    case RDB_TYPE.HASH:
      if (value.type !== 'hash') throw wrongType(rdbType, value);
      return Buffer.concat([
        packedUint(value.fields.length),
        ...value.fields.flatMap((f) => [rdbString(f.field), rdbString(f.value)]),
      ]);
    case RDB_TYPE.HASH_WITH_EXPIRY:
      if (value.type !== 'hash') throw wrongType(rdbType, value);
      return Buffer.concat([
        packedUint(value.fields.length),
        ...value.fields.flatMap((f) => [rdbString(f.field), rdbString(f.value), memberTtl(f.expireAtMs)]),
      ]);
    case RDB_TYPE.HASH_LISTPACK:
      if (value.type !== 'hash') throw wrongType(rdbType, value);
      return plainRdbString(listpack(value.fields.flatMap((f) => [f.field, f.value])));
    case RDB_TYPE.ZSET_LISTPACK:
      if (value.type !== 'zset') throw wrongType(rdbType, value);
      return plainRdbString(listpack(value.entries.flatMap((e) => [e.member, scoreText(e.score)])));
    case RDB_TYPE.ZSET_2:
      if (value.type !== 'zset') throw wrongType(rdbType, value);
      return Buffer.concat([
        packedUint(value.entries.length),
        ...value.entries.flatMap((e) => [rdbString(e.member), double(e.score)]),
      ]);
    default:
      throw new EncoderError(`the encoder does not write RDB type ${rdbType}`);
  }
}

export interface EncodableEntry {
  key: Bytes;
  value: RdbValue;
  expireAtMs?: ExpireAtMs;
  flags?: KeyFlags;
  /** the RDB type to use; defaults to the one Dragonfly would pick (defaultRdbType) */
  rdbType?: number;
}

/** `[FC expiry][DC flags [mc flags]] type key value` (spec 4.1). */
export function snapshotEntry(entry: EncodableEntry): Buffer {
  const parts: Buffer[] = [];
  if (entry.expireAtMs !== null && entry.expireAtMs !== undefined) {
    const expiry = Buffer.alloc(9);
    expiry[0] = RDB_OPCODE.EXPIRETIME_MS;
    expiry.writeBigInt64LE(BigInt(entry.expireAtMs), 1);
    parts.push(expiry);
  }
  const flags = entry.flags;
  const mask = (flags?.sticky ? 1 : 0) | (flags?.mcFlags !== null && flags?.mcFlags !== undefined ? 2 : 0);
  if (mask !== 0) {
    const dfMask = Buffer.alloc(mask & 2 ? 9 : 5);
    dfMask[0] = RDB_OPCODE.DF_MASK;
    dfMask.writeUInt32LE(mask, 1);
    if (mask & 2) dfMask.writeUInt32LE(flags!.mcFlags!, 5);
    parts.push(dfMask);
  }
  const rdbType = entry.rdbType ?? defaultRdbType(entry.value);
  parts.push(Buffer.from([rdbType]), rdbString(entry.key), encodeValue(rdbType, entry.value));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------
// flow framing and journal

export function fullSyncEnd(): Buffer {
  return Buffer.from([RDB_OPCODE.FULLSYNC_END, 0, 0, 0, 0, 0, 0, 0, 0]);
}

export function journalOffset(lsn: number): Buffer {
  const out = Buffer.alloc(9);
  out[0] = RDB_OPCODE.JOURNAL_OFFSET;
  out.writeBigUInt64LE(BigInt(lsn), 1);
  return out;
}

/** EOF, the (always zero) checksum and the flow's 40-character token. */
export function rdbEof(eofToken: string): Buffer {
  if (eofToken.length !== 40)
    throw new EncoderError(`an EOF token has 40 characters, got ${eofToken.length}`);
  return Buffer.concat([
    Buffer.from([RDB_OPCODE.EOF, 0, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from(eofToken, 'latin1'),
  ]);
}

/** One journal record with its SELECT prefix where Dragonfly writes one (spec 5.1). */
export function journalRecord(record: JournalRecord): Buffer {
  switch (record.op) {
    case 'command':
    case 'expired':
    case 'multi_command': {
      const opcode =
        record.op === 'command'
          ? JOURNAL_OPCODE.COMMAND
          : record.op === 'expired'
            ? JOURNAL_OPCODE.EXPIRED
            : JOURNAL_OPCODE.MULTI_COMMAND;
      const total = record.args.reduce((sum, a) => sum + a.length, 0);
      return Buffer.concat([
        packedUint(JOURNAL_OPCODE.SELECT),
        packedUint(record.db),
        packedUint(opcode),
        packedUint(record.txid),
        packedUint(record.shardCount),
        packedUint(record.args.length),
        packedUint(total),
        ...record.args.map((a) => plainRdbString(a)),
      ]);
    }
    case 'exec':
      return Buffer.concat([
        packedUint(JOURNAL_OPCODE.SELECT),
        packedUint(record.db),
        packedUint(JOURNAL_OPCODE.EXEC),
        packedUint(record.txid),
        packedUint(record.shardCount),
      ]);
    case 'ping':
      return Buffer.from([JOURNAL_OPCODE.PING]);
    case 'noop':
      return Buffer.from([JOURNAL_OPCODE.NOOP]);
    case 'fin':
      return Buffer.from([JOURNAL_OPCODE.FIN]);
  }
}

/** A `SET`-style command record: SELECT db, COMMAND txid, shard_cnt 1 (v1.38+), the arguments. */
export function commandRecord(db: number, args: Bytes[], txid = 0): Buffer {
  return journalRecord({ op: 'command', db, txid, shardCount: 1, args: args.map(bytes) });
}

/** LSN entry (opcode 15): the LSN of the record just before it. */
export function lsnEntry(lsn: number): Buffer {
  return Buffer.concat([packedUint(JOURNAL_OPCODE.LSN), packedUint(lsn)]);
}

/** JOURNAL_BLOB (0xD2): count 1 and one RDB string holding the serialized record (spec 3.7). */
export function journalBlob(record: Buffer): Buffer {
  return Buffer.concat([Buffer.from([RDB_OPCODE.JOURNAL_BLOB]), packedUint(1), plainRdbString(record)]);
}
