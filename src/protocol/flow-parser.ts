import { ByteQueue } from './byte-queue';
import { decompressLz4Frame, decompressZstdFrame } from './compression';
import { Cursor, hex } from './cursor';
import { isNeedMore, NEED_MORE, ProtocolError } from './errors';
import { JournalState, readJournalEntry } from './journal';
import { EntryReader, readEntryHeader, snapshotEntry } from './rdb/entry-reader';
import { RDB_OPCODE } from './rdb/opcodes';
import { isSupportedRdbVersion, MAX_RDB_VERSION, MIN_RDB_VERSION } from './rdb/rdb-version';
import { ShardDocIndexReader, VectorIndexReader } from './rdb/search-index';
import { runSteps, ScanCounter, StepReader } from './rdb/steps';
import { readStringView } from './rdb/strings';
import { TaggedChunks } from './rdb/tagged';
import { isRdbTypeId } from './rdb/type-ids';
import { oneStepValueReader } from './rdb/value-reader';
import { FlowItem, JournalRecord } from './types';

/**
 * The incremental parser of one flow's byte stream (spec sections 3-5): the RDB part of a full sync
 * (header, AUX, SELECTDB, key entries, JOURNAL_BLOBs, compressed blobs, tagged chunks, search-index
 * items, FULLSYNC_END, JOURNAL_OFFSET, EOF + token) and then the journal stream.
 *
 * Input may be cut anywhere. Bytes are kept in a ByteQueue until the item they belong to is complete;
 * a failed attempt (NEED_MORE) is retried only once as many bytes as it asked for have arrived. Key
 * entries and search-index items are read in steps (one element each), so the bytes of finished
 * elements are dropped at once and a big value costs linear time however it is chunked.
 */

export interface FlowParserOptions {
  flowId: number;
  /** 'rdb' = full sync (starts with REDIS0009); 'journal' = partial sync on >= v1.35 (journal from byte 0) */
  start: 'rdb' | 'journal';
  /** the 40-char EOF token from this flow's DFLY FLOW reply; compared with the 40 bytes after EOF */
  eofToken?: string;
}

export type FlowPhase = 'header' | 'rdb' | 'journal' | 'ended' | 'failed';

export interface FlowParserStats {
  /** absolute stream offset of the first byte not consumed yet */
  offset: number;
  /** bytes received but not consumed (the unfinished item) */
  buffered: number;
  phase: FlowPhase;
  entries: number;
  /** journal records (JOURNAL_BLOB contents and the stable stream; LSN entries not counted) */
  journalRecords: number;
  skipped: number;
  /** bytes examined by all parse attempts, re-reads included: stays close to `offset` (linear work) */
  scannedBytes: number;
  /** key entries whose tagged chunks are still arriving */
  openTaggedEntries: number;
}

const HEADER_MAGIC = Buffer.from('REDIS', 'latin1');
const HEADER_BYTES = 9;
const FULLSYNC_END_PADDING = 8;
const EOF_CHECKSUM_BYTES = 8;
const EOF_TOKEN_BYTES = 40;
/** Dragonfly compresses buffers of at most 1 MiB; a larger declared frame is garbage. */
const MAX_COMPRESSED_BLOB_BYTES = 64 * 1024 * 1024;
/** Observed chunks are ~64 KiB (SBF filter chunks can reach 64 MiB); anything beyond is garbage. */
const MAX_TAGGED_CHUNK_BYTES = 256 * 1024 * 1024;
const MAX_DB_INDEX = 0xffff;

const EXPECTED_RDB_ITEM =
  'an RDB opcode (0xC8 FULLSYNC_END, 0xC9/0xCA compressed blob, 0xD2 JOURNAL_BLOB, 0xD3 JOURNAL_OFFSET, ' +
  '0xDC/0xFC key prefix, 0xDE/0xDF search index, 0xE0 TAGGED_CHUNK, 0xFA AUX, 0xFE SELECTDB, 0xFF EOF) ' +
  'or a key type id (0, 2, 4, 5, 11-18, 20, 21, 30-37)';

type Pending = EntryReader | StepReader<Extract<FlowItem, { kind: 'skipped' }>>;

/** Where an item is being read from: the flow itself, or the decompressed data of a blob. */
interface BlobContext {
  kind: 'LZ4' | 'zstd';
}

export class FlowStreamParser {
  private readonly flowId: number;
  private readonly eofToken: string | undefined;
  private readonly queue = new ByteQueue();
  private phase: FlowPhase;
  /** bytes the unfinished item needs in the queue before parsing is worth retrying */
  private waitFor = 0;
  /** a key entry or search-index item being read element by element */
  private pending: Pending | null = null;
  private rdbVersion = MIN_RDB_VERSION;
  /** the RDB part's SELECTDB state (independent of the journal's SELECT) */
  private db = 0;
  private readonly journalState: JournalState = { db: 0 };
  private readonly counter: ScanCounter = { scanned: 0 };
  private readonly tagged: TaggedChunks;
  private failure: ProtocolError | null = null;
  private entries = 0;
  private journalRecords = 0;
  private skipped = 0;

  constructor(opts: FlowParserOptions) {
    this.flowId = opts.flowId;
    this.eofToken = opts.eofToken;
    this.phase = opts.start === 'rdb' ? 'header' : 'journal';
    this.tagged = new TaggedChunks(() => this.rdbVersion, this.counter);
  }

  get stats(): FlowParserStats {
    return {
      offset: this.queue.offset,
      buffered: this.queue.length,
      phase: this.phase,
      entries: this.entries,
      journalRecords: this.journalRecords,
      skipped: this.skipped,
      scannedBytes: this.counter.scanned,
      openTaggedEntries: this.tagged.openCount,
    };
  }

  /** Feed the next chunk (any size, may end anywhere). Returns the items completed by it, in order. */
  feed(chunk: Buffer): FlowItem[] {
    this.checkUsable();
    this.queue.append(chunk);
    const out: FlowItem[] = [];
    if (this.queue.length < this.waitFor) return out;
    const c = this.queue.cursor();
    try {
      this.parseAvailable(c, out);
    } catch (e) {
      throw this.fail(e);
    }
    this.queue.consumeTo(c);
    return out;
  }

  /**
   * Called at end of input. Ending between items is fine (whether the flow was expected to go on is
   * the session's business); ending inside an item, or with tagged entries still open in the RDB
   * part, throws ProtocolError.
   */
  end(): FlowItem[] {
    this.checkUsable();
    const open = this.tagged.openCount;
    let problem: string | null = null;
    if (this.pending || this.queue.length > 0) {
      problem = `the stream ended inside ${this.describeUnfinished()} (${this.queue.length} unparsed bytes buffered)`;
    } else if (open > 0) {
      problem = `the stream ended with ${open} key entr${open === 1 ? 'y' : 'ies'} still awaiting tagged chunks`;
    }
    if (problem) {
      throw this.fail(
        new ProtocolError({ offset: this.queue.offset, item: 'end of flow', expected: problem }),
      );
    }
    this.phase = 'ended';
    return [];
  }

  private checkUsable(): void {
    if (this.failure) throw this.failure;
    if (this.phase === 'ended') {
      throw new Error(
        `flow ${this.flowId}: the parser was ended; create a new FlowStreamParser for a new stream`,
      );
    }
  }

  private fail(e: unknown): unknown {
    if (!(e instanceof ProtocolError)) return e;
    this.failure = e.withFlow(this.flowId);
    this.phase = 'failed';
    return this.failure;
  }

  private describeUnfinished(): string {
    if (this.pending instanceof EntryReader) return 'a key entry';
    if (this.pending) return 'a search-index item';
    if (this.phase === 'header') return 'the RDB header';
    if (this.phase === 'journal') return 'a journal entry';
    const c = this.queue.cursor();
    return `an RDB item starting with 0x${hex(c.buf[c.pos]!)}`;
  }

  /** Parses complete items; leaves the cursor at the first byte that must be kept for later. */
  private parseAvailable(c: Cursor, out: FlowItem[]): void {
    while (c.pos < c.end) {
      if (this.pending) {
        if (!runSteps(this.pending, c, this.counter)) {
          this.waitFor = c.needed - c.pos;
          return;
        }
        this.finishPending(out);
        continue;
      }
      const start = c.pos;
      try {
        this.readItem(c, out);
      } catch (e) {
        if (!isNeedMore(e)) throw e;
        this.counter.scanned += c.pos - start;
        c.pos = start;
        this.waitFor = c.needed - start;
        return;
      }
      this.counter.scanned += c.pos - start;
    }
    this.waitFor = 0;
  }

  private finishPending(out: FlowItem[]): void {
    const pending = this.pending!;
    this.pending = null;
    if (pending instanceof EntryReader) {
      out.push({ kind: 'entry', entry: pending.result() });
      this.entries++;
    } else {
      out.push(pending.result());
      this.skipped++;
    }
  }

  /** Reads one complete item, or the start of a stepwise one (then this.pending continues it). */
  private readItem(c: Cursor, out: FlowItem[]): void {
    switch (this.phase) {
      case 'header':
        this.readHeader(c);
        return;
      case 'rdb':
        this.readRdbItem(c, out, null);
        return;
      default:
        this.readJournalItem(c, out);
    }
  }

  private readHeader(c: Cursor): void {
    const at = c.pos;
    const header = c.view(HEADER_BYTES);
    const digits = header.toString('latin1', HEADER_MAGIC.length);
    const version = /^\d{4}$/.test(digits) ? Number(digits) : NaN;
    if (!header.subarray(0, HEADER_MAGIC.length).equals(HEADER_MAGIC) || !isSupportedRdbVersion(version)) {
      throw c.error(
        'RDB header',
        `"REDIS00NN" with version ${MIN_RDB_VERSION}-${MAX_RDB_VERSION} (Dragonfly writes REDIS0009), ` +
          `got ${JSON.stringify(header.toString('latin1'))}`,
        at,
      );
    }
    this.rdbVersion = version;
    this.phase = 'rdb';
  }

  private readJournalItem(c: Cursor, out: FlowItem[]): void {
    const entry = readJournalEntry(c, this.journalState);
    if (entry.kind === 'lsn') {
      out.push({ kind: 'lsn', lsn: entry.lsn });
    } else {
      out.push({ kind: 'journal', record: entry.record, inSnapshot: false });
      this.journalRecords++;
    }
  }

  private readRdbItem(c: Cursor, out: FlowItem[], blob: BlobContext | null): void {
    const at = c.pos;
    const op = c.u8();
    switch (op) {
      case RDB_OPCODE.AUX: {
        const key = c.rdbText('AUX key');
        const value = c.rdbString('AUX value');
        out.push({ kind: 'aux', key, value });
        return;
      }
      case RDB_OPCODE.SELECTDB: {
        const db = c.packed('SELECTDB db index');
        if (db > MAX_DB_INDEX)
          throw c.error('SELECTDB db index', `a db index up to ${MAX_DB_INDEX}, got ${db}`, at);
        this.db = db;
        return;
      }
      case RDB_OPCODE.FULLSYNC_END:
        c.skip(FULLSYNC_END_PADDING);
        out.push({ kind: 'fullSyncEnd' });
        return;
      case RDB_OPCODE.JOURNAL_OFFSET:
        out.push({ kind: 'journalOffset', lsn: c.u64le('JOURNAL_OFFSET') });
        return;
      case RDB_OPCODE.JOURNAL_BLOB:
        this.readJournalBlob(c, out);
        return;
      case RDB_OPCODE.TAGGED_CHUNK:
        this.readTaggedChunk(c, out, at);
        return;
      case RDB_OPCODE.COMPRESSED_ZSTD_BLOB:
      case RDB_OPCODE.COMPRESSED_LZ4_BLOB:
        if (blob)
          throw c.error(`${blob.kind} blob contents`, 'complete items, got a nested compressed blob', at);
        this.readCompressedBlob(c, out, op === RDB_OPCODE.COMPRESSED_LZ4_BLOB ? 'LZ4' : 'zstd', at);
        return;
      case RDB_OPCODE.EOF:
        if (blob)
          throw c.error(`${blob.kind} blob contents`, 'complete items, got EOF (never compressed)', at);
        this.readEof(c, out);
        return;
      case RDB_OPCODE.VECTOR_INDEX:
        c.pos = at;
        this.pending = new VectorIndexReader();
        return;
      case RDB_OPCODE.SHARD_DOC_INDEX:
        c.pos = at;
        this.pending = new ShardDocIndexReader();
        return;
      default:
        if (op === RDB_OPCODE.EXPIRETIME_MS || op === RDB_OPCODE.DF_MASK || isRdbTypeId(op)) {
          c.pos = at;
          this.readEntry(c, out);
          return;
        }
        throw c.error('RDB item', `${EXPECTED_RDB_ITEM}, got 0x${hex(op)}`, at);
    }
  }

  /**
   * A key entry. Values that are one string are read at once (the whole entry is one item); the
   * others continue element by element as this.pending, starting after the header.
   */
  private readEntry(c: Cursor, out: FlowItem[]): void {
    const header = readEntryHeader(c);
    const readValue = oneStepValueReader(header.rdbType, this.rdbVersion);
    if (readValue) {
      out.push({ kind: 'entry', entry: snapshotEntry(this.db, header, readValue(c)) });
      this.entries++;
      return;
    }
    this.pending = new EntryReader(this.db, this.rdbVersion, header);
  }

  /** JOURNAL_BLOB (spec 3.7): packed count, then one RDB string holding that many records. */
  private readJournalBlob(c: Cursor, out: FlowItem[]): void {
    const count = c.packed('JOURNAL_BLOB count');
    const dataAt = c.offset;
    const records = readBlobRecords(
      readStringView(c, 'JOURNAL_BLOB records'),
      count,
      this.journalState,
      dataAt,
    );
    for (const record of records) out.push({ kind: 'journal', record, inSnapshot: true });
    this.journalRecords += records.length;
  }

  /** TAGGED_CHUNK (spec 4.7): uint32 LE stream id, uint32 LE payload length, payload. */
  private readTaggedChunk(c: Cursor, out: FlowItem[], at: number): void {
    const streamId = c.u32le();
    const lengthAt = c.pos;
    const length = c.u32le();
    if (streamId === 0) throw c.error('TAGGED_CHUNK stream id', 'a stream id other than 0', at + 1);
    if (length === 0 || length > MAX_TAGGED_CHUNK_BYTES) {
      throw c.error(
        'TAGGED_CHUNK length',
        `1 to ${MAX_TAGGED_CHUNK_BYTES} payload bytes, got ${length}`,
        lengthAt,
      );
    }
    const payload = c.view(length);
    const entry = this.tagged.add(streamId, payload, this.db, c.base + at);
    if (entry) {
      out.push({ kind: 'entry', entry });
      this.entries++;
    }
  }

  /**
   * COMPRESSED_*_BLOB (spec 3.6): packed length, one frame. The decompressed bytes are complete
   * items, parsed with this parser's state exactly as if they had arrived uncompressed.
   */
  private readCompressedBlob(c: Cursor, out: FlowItem[], kind: BlobContext['kind'], at: number): void {
    const lengthAt = c.pos;
    const length = c.packed(`${kind} blob length`);
    if (length === 0 || length > MAX_COMPRESSED_BLOB_BYTES) {
      throw c.error(
        `${kind} blob length`,
        `1 to ${MAX_COMPRESSED_BLOB_BYTES} bytes, got ${length}`,
        lengthAt,
      );
    }
    const frameAt = c.offset;
    const frame = c.view(length);
    const data = kind === 'LZ4' ? decompressLz4Frame(frame, frameAt) : decompressZstdFrame(frame, frameAt);
    const inner = new Cursor(data);
    const blob: BlobContext = { kind };
    const inBlob = (expected: string): ProtocolError =>
      new ProtocolError({ offset: c.base + at, item: `${kind} blob contents`, expected });
    try {
      while (inner.pos < inner.end) {
        this.readRdbItem(inner, out, blob);
        if (this.pending) {
          if (!runSteps(this.pending, inner, this.counter)) throw NEED_MORE;
          this.finishPending(out);
        }
      }
    } catch (e) {
      this.pending = null;
      if (isNeedMore(e)) {
        throw inBlob(`complete items only, the decompressed data (${data.length} bytes) ends inside one`);
      }
      if (e instanceof ProtocolError)
        throw inBlob(`${e.message} (offset counted within the decompressed data)`);
      throw e;
    }
    this.counter.scanned += data.length;
  }

  /** EOF (spec 3.8): 8 checksum bytes (always zero, not verified), then the 40-byte EOF token. */
  private readEof(c: Cursor, out: FlowItem[]): void {
    c.skip(EOF_CHECKSUM_BYTES);
    const tokenAt = c.pos;
    const token = c.view(EOF_TOKEN_BYTES).toString('latin1');
    if (this.eofToken !== undefined && token !== this.eofToken) {
      throw c.error(
        'EOF token',
        `the token from the DFLY FLOW reply ${JSON.stringify(this.eofToken)}, got ${JSON.stringify(token)}`,
        tokenAt,
      );
    }
    for (const dropped of this.tagged.discardAll()) {
      out.push({
        kind: 'skipped',
        what: `unfinished tagged entry (stream id ${dropped.streamId})`,
        bytes: dropped.bytes,
      });
      this.skipped++;
    }
    this.phase = 'journal';
    out.push({ kind: 'rdbEnd' });
  }
}

/**
 * The records of one JOURNAL_BLOB string: exactly `count` journal records, no LSN entries. Errors
 * point at the blob string (`dataAt`); offsets inside the string are named in the message.
 */
function readBlobRecords(data: Buffer, count: number, state: JournalState, dataAt: number): JournalRecord[] {
  const rc = new Cursor(data);
  const records: JournalRecord[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const entry = readJournalEntry(rc, state);
      if (entry.kind === 'lsn')
        throw blobError(dataAt, 'journal records only, got an LSN entry (never sent in blobs)');
      records.push(entry.record);
    }
  } catch (e) {
    if (isNeedMore(e)) {
      throw blobError(
        dataAt,
        `${count} complete records, the string ends inside record ${records.length + 1}`,
      );
    }
    if (e instanceof ProtocolError && e.item !== BLOB_RECORDS) {
      throw blobError(dataAt, `${e.message} (offset counted within the blob string)`);
    }
    throw e;
  }
  if (rc.pos !== rc.end)
    throw blobError(dataAt, `exactly ${count} records, ${rc.end - rc.pos} bytes left over`);
  return records;
}

const BLOB_RECORDS = 'JOURNAL_BLOB records';

function blobError(offset: number, expected: string): ProtocolError {
  return new ProtocolError({ offset, item: BLOB_RECORDS, expected });
}
