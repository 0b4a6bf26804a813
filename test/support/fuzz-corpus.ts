import { CaptureDirection, readCaptureFile } from '../../src/capture/dfcap';
import { Cursor } from '../../src/protocol/cursor';
import { FlowStreamParser } from '../../src/protocol/flow-parser';
import { crc64Jones } from '../../src/protocol/rdb/crc64';
import { RDB_OPCODE } from '../../src/protocol/rdb/opcodes';
import { isRdbTypeId } from '../../src/protocol/rdb/type-ids';
import { FlowItem } from '../../src/protocol/types';
import { packedUint, plainRdbString, RDB_HEADER } from '../../src/testmaster/encoder';
import { fixtureFlows, FixtureFlow } from './fixture-flows';
import { fixturesRoot, listFixtures } from './fixtures';
import { Rng } from './fuzz';

/**
 * The seeds the fuzzer mutates: real bytes from the recorded fixtures (flow streams cut at item
 * boundaries, and what those items contain: compressed frames, JOURNAL_BLOB records, RESTORE payloads,
 * listpacks, intsets, RDB strings incl. LZF, handshake RESP), plus hand-built inputs for what the
 * fixtures lack (small tagged chunks, ziplists, search-index items).
 */

/** A flow stream prefix with the offsets where its items end (found by feeding it byte by byte). */
export interface FlowSource {
  label: string;
  flowId: number;
  eofToken: string;
  /** the 9-byte RDB header of a full-sync flow; empty for a partial sync (journal from byte 0) */
  header: Buffer;
  bytes: Buffer;
  /** item boundaries in the RDB part, the header's end included */
  rdbBoundaries: number[];
  /** item boundaries in the journal part, its start included */
  journalBoundaries: number[];
}

/** A complete flow input: what a FlowStreamParser is constructed with and fed. */
export interface FlowSeed {
  label: string;
  flowId: number;
  start: 'rdb' | 'journal';
  eofToken: string | undefined;
  bytes: Buffer;
}

export interface Corpus {
  flows: FlowSource[];
  /** hand-built complete RDB streams (tagged chunks, ziplist types, search-index items) */
  builtRdb: FlowSeed[];
  journal: Buffer[];
  resp: Buffer[];
  dump: Buffer[];
  lz4: Buffer[];
  zstd: Buffer[];
  listpack: Buffer[];
  ziplist: Buffer[];
  intset: Buffer[];
  /** u32 LE decompressed length, then the LZF data */
  lzf: Buffer[];
  /** one RDB string each: raw, int-encoded or LZF */
  rdbString: Buffer[];
}

/** Bytes of each flow fed byte by byte to find item boundaries: enough for many items, and fast. */
const SCAN_BYTES = 64 * 1024;
/** Flows scanned per fixture (the small fixtures have all their flows scanned). */
const FLOWS_PER_FIXTURE = 2;
const SMALL_FLOW_BYTES = 80 * 1024;
/** Bytes of each connection direction taken as RESP seeds. */
const RESP_SEED_BYTES = 4096;
const RESP_CONNECTIONS_PER_FIXTURE = 4;
/** Largest seed of the decoders fed whole (keeps each case at a few KB). */
const MAX_SEED_BYTES = 16 * 1024;
/** RDB version of Dragonfly's RESTORE payloads (as recorded). */
const DUMP_RDB_VERSION = 9;
/** Plain strings re-encoded with LZF (the fixtures hold thousands; containers are all taken). */
const LZF_STRING_SEEDS = 48;

export function buildCorpus(): Corpus {
  const corpus: Corpus = {
    flows: [],
    builtRdb: [],
    journal: [],
    resp: [],
    dump: [],
    lz4: [],
    zstd: [],
    listpack: [],
    ziplist: [],
    intset: [],
    lzf: [],
    rdbString: [],
  };
  const entries: Buffer[] = [];
  const fixtures = listFixtures();
  if (fixtures.length === 0)
    throw new Error(`no recorded fixtures found under ${fixturesRoot()}: the fuzz corpus needs them`);
  for (const fixture of fixtures) {
    const flows = fixtureFlows(fixture);
    const small = flows.every((f) => f.bytes <= SMALL_FLOW_BYTES);
    const scanned = small ? flows : pickSpread(flows, FLOWS_PER_FIXTURE, (f) => f.start);
    for (const flow of scanned) {
      const source = scanFlow(flow, corpus, entries);
      if (source.rdbBoundaries.length + source.journalBoundaries.length > 1) corpus.flows.push(source);
    }
    addRespSeeds(fixture.capturePath, corpus);
  }
  for (const raw of entries) addEntrySeeds(raw, corpus);
  addBuiltSeeds(entries, corpus);
  return corpus;
}

/** Up to n flows, preferring one of each start kind (so partial-sync journals are always included). */
function pickSpread(flows: FixtureFlow[], n: number, kind: (f: FixtureFlow) => string): FixtureFlow[] {
  const picked: FixtureFlow[] = [];
  for (const k of new Set(flows.map(kind))) picked.push(flows.find((f) => kind(f) === k)!);
  for (const f of flows) if (picked.length < n && !picked.includes(f)) picked.push(f);
  return picked.slice(0, Math.max(n, picked.length));
}

/**
 * Feeds the flow's first SCAN_BYTES one byte at a time: a feed that returns items ends exactly at an
 * item boundary. The bytes between boundaries are whole items, from which the nested seeds are taken.
 */
function scanFlow(flow: FixtureFlow, corpus: Corpus, entries: Buffer[]): FlowSource {
  const all = Buffer.concat(flow.chunks);
  const bytes = all.subarray(0, Math.min(all.length, SCAN_BYTES));
  const parser = new FlowStreamParser({ flowId: flow.flowId, start: flow.start, eofToken: flow.eofToken });
  const rdb = flow.start === 'rdb';
  const source: FlowSource = {
    label: `${flow.fixture} flow ${flow.flowId} (${flow.syncId})`,
    flowId: flow.flowId,
    eofToken: flow.eofToken,
    header: rdb ? Buffer.from(bytes.subarray(0, 9)) : Buffer.alloc(0),
    bytes,
    rdbBoundaries: rdb ? [9] : [],
    journalBoundaries: rdb ? [] : [0],
  };
  let inJournal = !rdb;
  let last = rdb ? 9 : 0;
  for (let i = 0; i < bytes.length; i++) {
    const items = parser.feed(bytes.subarray(i, i + 1));
    if (items.length === 0) continue;
    const end = i + 1;
    if (!inJournal) addItemSeeds(bytes.subarray(last, end), items, corpus, entries);
    if (items.some((it) => it.kind === 'rdbEnd')) inJournal = true;
    (inJournal ? source.journalBoundaries : source.rdbBoundaries).push(end);
    last = end;
  }
  return source;
}

/** The bytes of one parsed item group (a SELECTDB prefix skipped): frames, blob records, entries. */
function addItemSeeds(raw: Buffer, items: FlowItem[], corpus: Corpus, entries: Buffer[]): void {
  let c = new Cursor(raw);
  if (raw[0] === RDB_OPCODE.SELECTDB) {
    c.u8();
    c.packed('db');
    c = new Cursor(raw.subarray(c.pos));
  }
  const op = c.buf[0]!;
  if (op === RDB_OPCODE.COMPRESSED_LZ4_BLOB || op === RDB_OPCODE.COMPRESSED_ZSTD_BLOB) {
    c.u8();
    const frame = c.view(c.packed('blob length'));
    if (frame.length <= MAX_SEED_BYTES)
      (op === RDB_OPCODE.COMPRESSED_LZ4_BLOB ? corpus.lz4 : corpus.zstd).push(Buffer.from(frame));
  } else if (op === RDB_OPCODE.JOURNAL_BLOB) {
    c.u8();
    c.packed('count');
    corpus.journal.push(Buffer.from(c.rdbString('records')));
  } else if (items.length === 1 && items[0]!.kind === 'entry' && isEntryStart(op)) {
    entries.push(Buffer.from(c.buf));
  }
}

function isEntryStart(b: number): boolean {
  return b === RDB_OPCODE.EXPIRETIME_MS || b === RDB_OPCODE.DF_MASK || isRdbTypeId(b);
}

interface EntryParts {
  type: number;
  key: Buffer;
  value: Buffer;
}

/** Splits a raw untagged key entry into type, key (as the RDB string bytes) and value bytes. */
function entryParts(raw: Buffer): EntryParts {
  const c = new Cursor(raw);
  for (;;) {
    const b = c.buf[c.pos]!;
    if (b === RDB_OPCODE.EXPIRETIME_MS) c.skip(9);
    else if (b === RDB_OPCODE.DF_MASK) c.skip((raw.readUInt32LE(c.pos + 1) & 2) !== 0 ? 9 : 5);
    else break;
  }
  const type = c.u8();
  const keyAt = c.pos;
  c.rdbString('key');
  return { type, key: raw.subarray(keyAt, c.pos), value: raw.subarray(c.pos) };
}

/** The RDB string at the cursor, as its encoded bytes and decoded content. */
function readEncodedString(c: Cursor): { encoded: Buffer; decoded: Buffer } {
  const at = c.pos;
  const decoded = c.rdbString('string');
  return { encoded: c.buf.subarray(at, c.pos), decoded };
}

function addEntrySeeds(raw: Buffer, corpus: Corpus): void {
  const { type, key, value } = entryParts(raw);
  corpus.rdbString.push(Buffer.from(key));
  if (value.length <= MAX_SEED_BYTES) corpus.dump.push(dumpPayload(type, value));
  const c = new Cursor(value);
  switch (type) {
    case 0: {
      const s = readEncodedString(c);
      corpus.rdbString.push(Buffer.from(s.encoded));
      if (s.encoded[0] === 0xc3) corpus.lzf.push(lzfSeed(s.encoded));
      return;
    }
    case 11:
      corpus.intset.push(Buffer.from(c.rdbString('intset')));
      return;
    case 16:
    case 17:
    case 20:
      corpus.listpack.push(Buffer.from(c.rdbString('listpack')));
      return;
    case 18: {
      const nodes = c.packed('nodes');
      for (let i = 0; i < nodes; i++) {
        const container = c.packed('container');
        const node = c.rdbString('node');
        if (container === 2 && node.length <= MAX_SEED_BYTES) corpus.listpack.push(Buffer.from(node));
      }
      return;
    }
    case 15:
    case 21:
      if (c.packed('nodes') > 0) {
        c.rdbString('master id');
        corpus.listpack.push(Buffer.from(c.rdbString('stream listpack')));
      }
      return;
  }
}

/** An LZF-encoded RDB string (0xC3 clen ulen data) as the lzf target's input: u32 LE ulen, data. */
function lzfSeed(encoded: Buffer): Buffer {
  const c = new Cursor(encoded, 1);
  const clen = c.packed('clen');
  const ulen = c.packed('ulen');
  const out = Buffer.alloc(4 + clen);
  out.writeUInt32LE(ulen, 0);
  c.buf.copy(out, 4, c.pos, c.pos + clen);
  return out;
}

/** A DUMP/RESTORE payload: type, value, u16 LE RDB version, CRC-64/Jones LE of all that. */
export function dumpPayload(type: number, value: Buffer, version = DUMP_RDB_VERSION): Buffer {
  const body = Buffer.alloc(1 + value.length + 2);
  body[0] = type;
  value.copy(body, 1);
  body.writeUInt16LE(version, 1 + value.length);
  return withCrc(body);
}

/** `body` followed by its CRC-64/Jones (little endian). */
export function withCrc(body: Buffer): Buffer {
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64Jones(body));
  return Buffer.concat([body, crc]);
}

function addRespSeeds(path: string, corpus: Corpus): void {
  const perConnection = new Map<string, Buffer[]>();
  for (const r of readCaptureFile(path)) {
    if (r.direction !== CaptureDirection.MasterToReplica && r.direction !== CaptureDirection.ReplicaToMaster)
      continue;
    const key = `${r.connection}/${r.direction}`;
    const parts = perConnection.get(key) ?? [];
    if (parts.reduce((n, b) => n + b.length, 0) < RESP_SEED_BYTES) parts.push(r.payload);
    perConnection.set(key, parts);
  }
  const connections = [...perConnection.values()].slice(0, 2 * RESP_CONNECTIONS_PER_FIXTURE);
  for (const parts of connections) corpus.resp.push(Buffer.concat(parts).subarray(0, RESP_SEED_BYTES));
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const EOF_TOKEN = 'f'.repeat(40);
const EOF = Buffer.concat([hex('FF 00 00 00 00 00 00 00 00'), Buffer.from(EOF_TOKEN, 'latin1')]);

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** A ziplist of string and integer entries (encoding + data each), prevlens and header computed. */
function ziplist(entries: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  let prev = 0;
  let offset = 10;
  let tail = 10;
  for (const e of entries) {
    const entry = Buffer.concat([Buffer.from([prev]), e]);
    parts.push(entry);
    tail = offset;
    offset += entry.length;
    prev = entry.length;
  }
  const header = Buffer.alloc(10);
  header.writeUInt32LE(offset + 1, 0);
  header.writeUInt32LE(tail, 4);
  header.writeUInt16LE(entries.length, 8);
  return Buffer.concat([header, ...parts, Buffer.from([0xff])]);
}

const zlStr = (s: string): Buffer => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]);
const ZIPLISTS = [
  ziplist([zlStr('f'), zlStr('v')]),
  ziplist([zlStr('a'), hex('F2'), zlStr('b'), hex('FE 85'), zlStr('c'), hex('C0 39 30')]),
  ziplist([
    hex('D0 78 56 34 12'),
    hex('E0 01 02 03 04 05 06 07 08'),
    hex('F0 01 02 03'),
    zlStr('x'.repeat(40)),
  ]),
  ziplist([zlStr('m'), zlStr('1.5'), zlStr('n'), zlStr('inf')]),
];

/** A listpack of small string elements (the stream/zset seeds come from the fixtures). */
function listpack(items: string[]): Buffer {
  const body = Buffer.concat(
    items.map((s) =>
      Buffer.concat([Buffer.from([0x80 | s.length]), Buffer.from(s, 'latin1'), Buffer.from([1 + s.length])]),
    ),
  );
  const header = Buffer.alloc(6);
  header.writeUInt32LE(6 + body.length + 1, 0);
  header.writeUInt16LE(items.length, 4);
  return Buffer.concat([header, body, Buffer.from([0xff])]);
}

/** Tagged chunks (spec 4.7) carrying `entry`, split in `parts` pieces, interleaved with `between`. */
function tagged(streamId: number, entry: Buffer, parts: number, between: Buffer[]): Buffer {
  const out: Buffer[] = [];
  const size = Math.ceil(entry.length / parts);
  for (let at = 0, i = 0; at < entry.length; at += size, i++) {
    const piece = entry.subarray(at, at + size);
    out.push(Buffer.from([0xe0]), u32(streamId), u32(piece.length), piece);
    if (between[i]) out.push(between[i]!);
  }
  return Buffer.concat(out);
}

function addBuiltSeeds(entries: Buffer[], corpus: Corpus): void {
  corpus.ziplist.push(...ZIPLISTS);
  corpus.listpack.push(listpack(['a', 'b', 'c']));
  corpus.intset.push(Buffer.concat([u32(2), u32(3), hex('01 00 02 00 03 00')]));
  const stream = (label: string, ...parts: Buffer[]): FlowSeed => ({
    label: `built: ${label}`,
    flowId: 0,
    start: 'rdb',
    eofToken: EOF_TOKEN,
    bytes: Buffer.concat([RDB_HEADER, ...parts, EOF]),
  });
  corpus.builtRdb.push(
    stream(
      'ziplist types',
      hex('FE 00'),
      Buffer.concat([hex('0D'), plainRdbString('h'), plainRdbString(ZIPLISTS[0]!)]),
      Buffer.concat([hex('0C'), plainRdbString('z'), plainRdbString(ZIPLISTS[3]!)]),
      Buffer.concat([
        hex('0E'),
        plainRdbString('l'),
        hex('02'),
        plainRdbString(ZIPLISTS[1]!),
        plainRdbString(ZIPLISTS[2]!),
      ]),
    ),
    stream(
      'search index items',
      hex('DF 01'),
      plainRdbString('idx'),
      hex('02'),
      plainRdbString('doc:1'),
      hex('00'),
      plainRdbString('doc:2'),
      hex('01'),
      hex('DE'),
      plainRdbString('idx:vec'),
      hex('00 02'),
      Buffer.concat([u32(0), Buffer.alloc(8), u32(1), u32(1), u32(1), u32(0)]),
      Buffer.concat([u32(1), Buffer.alloc(8), u32(0), u32(1), u32(0)]),
      Buffer.concat([hex('00'), plainRdbString('k'), plainRdbString('v')]),
    ),
  );
  const containers = entries.filter((e) => entryParts(e).type !== 0);
  const strings = entries.filter((e) => entryParts(e).type === 0).slice(0, LZF_STRING_SEEDS);
  const lzfEntries = [...containers, ...strings]
    .filter((e) => e.length <= MAX_SEED_BYTES)
    .map(withLzfValue)
    .filter((e): e is Buffer => e !== null);
  for (let i = 0; i < lzfEntries.length; i += 8) {
    corpus.builtRdb.push(
      stream(`LZF-encoded values of real entries #${i}`, hex('FE 00'), ...lzfEntries.slice(i, i + 8)),
    );
  }
  // Tagged chunks built from real entries: small pieces so that each case stays a few KB.
  const rng = new Rng(1);
  const small = entries.filter((e) => e.length >= 8 && e.length <= 2048);
  for (let i = 0, n = 0; i + 2 < small.length && n < 12; i += 3, n++) {
    const [a, b, c] = [small[i]!, small[i + 1]!, small[i + 2]!];
    const partsA = rng.range(2, 5);
    const interleaved = tagged(2, b, rng.range(1, 3), [
      c,
      hex('FA'),
      plainRdbString('aux'),
      plainRdbString('1'),
    ]);
    corpus.builtRdb.push(
      stream(`tagged chunks of real entries #${i}`, hex('FE 00'), tagged(1, a, partsA, [interleaved])),
    );
  }
}

/**
 * A window of real flow bytes starting at an item boundary and ending at one (or inside an item that is
 * too big for a case), a few KB at most. RDB windows get the flow's header in front, so they parse
 * as a stream of their own; sometimes the window is the real prefix (header, AUX fields, ...).
 */
export function cutFlowWindow(rng: Rng, source: FlowSource): FlowSeed {
  const journal =
    source.rdbBoundaries.length < 2 || (source.journalBoundaries.length > 1 && rng.chance(0.35));
  const boundaries = journal
    ? source.journalBoundaries
    : [...source.rdbBoundaries, ...source.journalBoundaries];
  const maxBytes = rng.pick([256, 1024, 4096]);
  const prefix = !journal && rng.chance(0.15);
  const from = prefix ? 0 : rng.int(boundaries.length - 1);
  const start = prefix ? 0 : boundaries[from]!;
  let end = boundaries[from + 1]!;
  for (let j = from + 2; j < boundaries.length && boundaries[j]! - start <= maxBytes; j++)
    end = boundaries[j]!;
  if (end - start > 16 * maxBytes) end = start + maxBytes;
  const window = source.bytes.subarray(start, end);
  return {
    label: `${source.label} [${start}, ${end})`,
    flowId: source.flowId,
    start: journal ? 'journal' : 'rdb',
    eofToken: source.eofToken,
    bytes: prefix || journal ? Buffer.from(window) : Buffer.concat([source.header, window]),
  };
}

const XXH_P1 = 2654435761;
const XXH_P2 = 2246822519;
const XXH_P3 = 3266489917;
const XXH_P4 = 668265263;
const XXH_P5 = 374761393;
const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;

/** XXH32 (seed 0) of fewer than 16 bytes: all an LZ4 frame descriptor needs. */
function xxh32Short(data: Buffer): number {
  let h = (XXH_P5 + data.length) >>> 0;
  let i = 0;
  for (; i + 4 <= data.length; i += 4)
    h = Math.imul(rotl((h + Math.imul(data.readUInt32LE(i), XXH_P3)) >>> 0, 17), XXH_P4) >>> 0;
  for (; i < data.length; i++) h = Math.imul(rotl((h + Math.imul(data[i]!, XXH_P5)) >>> 0, 11), XXH_P1) >>> 0;
  h = Math.imul(h ^ (h >>> 15), XXH_P2) >>> 0;
  h = Math.imul(h ^ (h >>> 13), XXH_P3) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The same LZ4 frame with its header checksum recomputed (frames with a content size: descriptor at
 * bytes 4-13, checksum at 14), so that mutations of the descriptor reach the decoder.
 */
export function withLz4HeaderChecksum(frame: Buffer): Buffer {
  if (frame.length < 15) return frame;
  const out = Buffer.from(frame);
  out[14] = (xxh32Short(frame.subarray(4, 14)) >>> 8) & 0xff;
  return out;
}

/** Types whose value is one RDB string (string, intset, listpacks): these get an LZF-encoded variant. */
const SINGLE_STRING_TYPES: ReadonlySet<number> = new Set([0, 11, 16, 17, 20, 30]);

/**
 * The entry with its value string LZF-encoded (0xC3 clen ulen data), as Dragonfly's compression
 * mode 1 writes strings; containers decoded from such strings are then fuzzed through LZF too.
 */
function withLzfValue(raw: Buffer): Buffer | null {
  const { type, value } = entryParts(raw);
  if (!SINGLE_STRING_TYPES.has(type) || value[0] === 0xc3) return null;
  const data = new Cursor(value).rdbString('value');
  if (data.length < 4) return null;
  const compressed = lzfCompress(data);
  const head = raw.subarray(0, raw.length - value.length);
  return Buffer.concat([head, hex('C3'), packedUint(compressed.length), packedUint(data.length), compressed]);
}

const LZF_MAX_RUN = 32;
const LZF_MAX_MATCH = 264;
const LZF_WINDOW = 8192;

/** A simple greedy LZF compressor (literal runs and back-references), enough to build seeds. */
export function lzfCompress(data: Buffer): Buffer {
  const out: number[] = [];
  const literals: number[] = [];
  const flush = (): void => {
    while (literals.length > 0) {
      const run = literals.splice(0, LZF_MAX_RUN);
      out.push(run.length - 1, ...run);
    }
  };
  for (let i = 0; i < data.length;) {
    let bestLength = 0;
    let bestDistance = 0;
    for (let j = Math.max(0, i - LZF_WINDOW); j < i; j++) {
      let n = 0;
      while (n < LZF_MAX_MATCH && i + n < data.length && data[j + n] === data[i + n]) n++;
      if (n > bestLength) {
        bestLength = n;
        bestDistance = i - j - 1;
      }
    }
    if (bestLength < 3) {
      literals.push(data[i++]!);
      continue;
    }
    flush();
    const len = bestLength - 2;
    if (len < 7) out.push((len << 5) | (bestDistance >> 8));
    else out.push((7 << 5) | (bestDistance >> 8), len - 7);
    out.push(bestDistance & 0xff);
    i += bestLength;
  }
  flush();
  return Buffer.from(out);
}
