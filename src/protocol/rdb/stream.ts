import { Cursor } from '../cursor';
import { ProtocolError } from '../errors';
import { decodeListpack } from '../listpack';
import { StreamConsumer, StreamEntry, StreamGroup, StreamId, StreamValue } from '../types';
import { StepReader } from './steps';
import { parseBigInt, parseSafeInt } from './text';
import { decodeStringBlob, readString, readStringView } from './strings';

/**
 * 15 STREAM_LISTPACKS / 21 STREAM_LISTPACKS_3 (spec 4.4). Read in steps: one radix-tree node
 * (master id + listpack) per step, then the metadata, then each group header, PEL entry, consumer
 * header and consumer PEL id, so a huge stream or PEL never forces a re-read from the start.
 */

const STREAM_ID_BYTES = 16;
const FLAG_DELETED = 1;
const FLAG_SAME_FIELDS = 2;
/** Redis writes an unknown group entries_read (-1) as the packed uint 2^64-1. */
const UNKNOWN_ENTRIES_READ = 0xffff_ffff_ffff_ffffn;

type Phase =
  | 'nodeCount'
  | 'node'
  | 'meta'
  | 'groupCount'
  | 'group'
  | 'pel'
  | 'consumerCount'
  | 'consumer'
  | 'consumerPel';

export class StreamReader implements StepReader<StreamValue> {
  private readonly v3: boolean;
  private phase: Phase = 'nodeCount';
  /** elements left in the current phase (nodes, groups, PEL entries, consumers, consumer PEL ids) */
  private nodesLeft = 0;
  private groupsLeft = 0;
  private pelLeft = 0;
  private consumersLeft = 0;
  private consumerPelLeft = 0;
  private group: StreamGroup | null = null;
  private consumer: StreamConsumer | null = null;
  private readonly value: StreamValue;

  constructor(rdbType: number) {
    this.v3 = rdbType === 21;
    const zero = { ms: 0n, seq: 0n };
    this.value = {
      type: 'stream',
      entries: [],
      length: 0,
      lastId: zero,
      firstId: null,
      maxDeletedId: null,
      entriesAdded: null,
      groups: [],
    };
  }

  step(c: Cursor): boolean {
    switch (this.phase) {
      case 'nodeCount':
        this.nodesLeft = c.packed('stream node count');
        this.phase = this.nodesLeft > 0 ? 'node' : 'meta';
        return false;
      case 'node':
        this.readNode(c);
        if (--this.nodesLeft === 0) this.phase = 'meta';
        return false;
      case 'meta':
        this.readMeta(c);
        this.phase = 'groupCount';
        return false;
      case 'groupCount':
        this.groupsLeft = c.packed('stream group count');
        this.phase = 'group';
        return this.groupsLeft === 0;
      case 'group':
        this.readGroupHeader(c);
        this.phase = this.pelLeft > 0 ? 'pel' : 'consumerCount';
        return false;
      case 'pel':
        this.readPelEntry(c);
        if (--this.pelLeft === 0) this.phase = 'consumerCount';
        return false;
      case 'consumerCount':
        this.consumersLeft = c.packed('stream consumer count');
        if (this.consumersLeft === 0) return this.nextGroup();
        this.phase = 'consumer';
        return false;
      case 'consumer':
        this.readConsumerHeader(c);
        if (this.consumerPelLeft === 0) return this.nextConsumer();
        this.phase = 'consumerPel';
        return false;
      case 'consumerPel':
        this.consumer!.pending.push(readRawId(c));
        return --this.consumerPelLeft === 0 ? this.nextConsumer() : false;
    }
  }

  result(): StreamValue {
    return this.value;
  }

  private readNode(c: Cursor): void {
    const idAt = c.offset;
    const masterId = readStringView(c, 'stream node master id');
    if (masterId.length !== STREAM_ID_BYTES) {
      throw new ProtocolError({
        offset: idAt,
        item: 'stream node master id',
        expected: `${STREAM_ID_BYTES} bytes, got ${masterId.length}`,
      });
    }
    const lpAt = c.offset;
    const elements = decodeStringBlob(c, 'stream node listpack', decodeListpack);
    const entries = decodeStreamNode(idFromBytes(masterId, 0), elements, lpAt);
    for (const e of entries) this.value.entries.push(e);
  }

  private readMeta(c: Cursor): void {
    const length = c.packed('stream length');
    const lastId = readPackedId(c, 'stream last id');
    let firstId: StreamId | null = null;
    let maxDeletedId: StreamId | null = null;
    let entriesAdded: number | null = null;
    if (this.v3) {
      firstId = readPackedId(c, 'stream first id');
      maxDeletedId = readPackedId(c, 'stream max deleted id');
      entriesAdded = c.packed('stream entries added');
    }
    Object.assign(this.value, { length, lastId, firstId, maxDeletedId, entriesAdded });
  }

  private readGroupHeader(c: Cursor): void {
    const name = readString(c, 'stream group name');
    const lastDeliveredId = readPackedId(c, 'stream group last delivered id');
    let entriesRead: number | null = null;
    if (this.v3) {
      const at = c.pos;
      const raw = c.packedBig('stream group entries read');
      if (raw === UNKNOWN_ENTRIES_READ) entriesRead = -1;
      else if (raw > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw c.error('stream group entries read', `a value up to 2^53 or 2^64-1 (unknown), got ${raw}`, at);
      } else entriesRead = Number(raw);
    }
    const pelLeft = c.packed('stream group PEL size');
    this.group = { name, lastDeliveredId, entriesRead, pending: [], consumers: [] };
    this.value.groups.push(this.group);
    this.pelLeft = pelLeft;
  }

  private readPelEntry(c: Cursor): void {
    const id = readRawId(c);
    const deliveryTimeMs = c.i64le();
    const deliveryCount = c.packed('stream PEL delivery count');
    this.group!.pending.push({ id, deliveryTimeMs, deliveryCount });
  }

  private readConsumerHeader(c: Cursor): void {
    const name = readString(c, 'stream consumer name');
    const seenTimeMs = c.i64le();
    const activeTimeMs = this.v3 ? c.i64le() : null;
    const pelLeft = c.packed('stream consumer PEL size');
    this.consumer = { name, seenTimeMs, activeTimeMs, pending: [] };
    this.group!.consumers.push(this.consumer);
    this.consumerPelLeft = pelLeft;
  }

  private nextConsumer(): boolean {
    if (--this.consumersLeft > 0) {
      this.phase = 'consumer';
      return false;
    }
    return this.nextGroup();
  }

  private nextGroup(): boolean {
    this.phase = 'group';
    return --this.groupsLeft === 0;
  }
}

function readPackedId(c: Cursor, item: string): StreamId {
  const ms = c.packedBig(item);
  const seq = c.packedBig(item);
  return { ms, seq };
}

/** A stream id as 16 raw bytes (uint64 BE ms, uint64 BE seq), as in PELs. */
function readRawId(c: Cursor): StreamId {
  c.ensure(STREAM_ID_BYTES);
  const id = idFromBytes(c.buf, c.pos);
  c.pos += STREAM_ID_BYTES;
  return id;
}

function idFromBytes(buf: Buffer, at: number): StreamId {
  return { ms: buf.readBigUInt64BE(at), seq: buf.readBigUInt64BE(at + 8) };
}

/**
 * The entries of one stream node listpack (Redis 7 layout): a master entry (count, deleted count,
 * master field count, master fields, 0), then per entry: flags, ms delta, seq delta, either the
 * values of the master fields (SAME_FIELDS) or a field count and field/value pairs, then lp-count.
 * Deleted entries are skipped.
 */
export function decodeStreamNode(master: StreamId, lp: Buffer[], at: number): StreamEntry[] {
  const where = { offset: at, item: 'stream node listpack' };
  let i = 0;
  const next = (what: string): Buffer => {
    const e = lp[i++];
    if (e === undefined) {
      throw new ProtocolError({ ...where, expected: `${what}, but the listpack has no more elements` });
    }
    return e;
  };
  const int = (what: string): number => parseSafeInt(next(what), where);
  int('the live entry count');
  int('the deleted entry count');
  const masterFieldCount = int('the master field count');
  const masterFields: Buffer[] = [];
  for (let f = 0; f < masterFieldCount; f++) masterFields.push(next('a master field'));
  if (int('the master entry terminator') !== 0) {
    throw new ProtocolError({ ...where, expected: 'a master entry terminated by 0' });
  }
  const entries: StreamEntry[] = [];
  while (i < lp.length) {
    const flags = int('entry flags');
    const ms = master.ms + parseBigInt(next('an ms delta'), where);
    const seq = master.seq + parseBigInt(next('a seq delta'), where);
    const fields: Buffer[] = [];
    if (flags & FLAG_SAME_FIELDS) {
      for (const field of masterFields) fields.push(field, next('a field value'));
    } else {
      const n = int('a field count');
      for (let f = 0; f < n; f++) fields.push(next('a field'), next('a field value'));
    }
    int('the entry lp-count');
    if (!(flags & FLAG_DELETED)) entries.push({ id: { ms, seq }, fields });
  }
  return entries;
}
