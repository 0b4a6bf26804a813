import assert from 'node:assert';
import { test } from 'node:test';
import { ProtocolError } from '../../../src/protocol/errors';
import { FlowStreamParser } from '../../../src/protocol/flow-parser';
import { FlowItem } from '../../../src/protocol/types';
import { cat, chunk, eof, HEADER, hx, packed, str, TOKEN, u32le } from './rdb/bytes';
import { assertProtocolError, parseAll, parseChunks, parseEverySplit } from './rdb/parse';
import { seededRandom } from '../../support/fuzz';

const a = (s: string): Buffer => Buffer.from(s, 'latin1');
const plain = { sticky: false, mcFlags: null };

function stringEntry(db: number, key: string, value: string): FlowItem {
  return {
    kind: 'entry',
    entry: {
      db,
      key: a(key),
      expireAtMs: null,
      flags: plain,
      rdbType: 0,
      value: { type: 'string', value: a(value) },
    },
  };
}

function command(db: number, txid: number, args: string[], inSnapshot: boolean): FlowItem {
  return {
    kind: 'journal',
    record: { op: 'command', db, txid, shardCount: 1, args: args.map(a) },
    inSnapshot,
  };
}

const SPEC_9_7 = hx(`
  52 45 44 49 53 30 30 30 39
  FA 09 72 65 64 69 73 2D 76 65 72 06 36 2E 32 2E 31 31
  FA 06 64 66 2D 76 65 72 0A 64 66 2D 76 31 2E 34 30 2E 31
  FA 0A 72 65 64 69 73 2D 62 69 74 73 C0 40
  FA 05 63 74 69 6D 65 C2 00 BA 91 68
  FA 08 75 73 65 64 2D 6D 65 6D C2 00 00 10 00
  FA 0C 61 6F 66 2D 70 72 65 61 6D 62 6C 65 C0 00
  FA 08 73 68 61 72 64 2D 69 64 C0 01
  FE 00
  00 03 66 6F 6F 03 62 61 72
  D2 01 13 06 00 0A 09 01 03 09 03 53 45 54 03 66 6F 6F 03 62 61 7A
  C8 00 00 00 00 00 00 00 00
  D3 03 00 00 00 00 00 00 00
  FF 00 00 00 00 00 00 00 00
  35 66 31 63 30 61 37 65 39 62 33 64 32 34 36 38 31 61 63 65
  30 62 32 64 34 66 36 61 38 63 30 65 31 33 35 37 39 62 64 66
  06 00 0A 0C 01 03 05 03 53 45 54 01 61 01 31
  0F 03`);

test('spec 9.7: a complete small flow, fed whole, split at every byte and byte by byte', () => {
  const items = parseEverySplit(SPEC_9_7);
  const aux = (key: string, value: string): FlowItem => ({ kind: 'aux', key, value: a(value) });
  assert.deepStrictEqual(items, [
    aux('redis-ver', '6.2.11'),
    aux('df-ver', 'df-v1.40.1'),
    aux('redis-bits', '64'),
    aux('ctime', '1754380800'),
    aux('used-mem', '1048576'),
    aux('aof-preamble', '0'),
    aux('shard-id', '1'),
    stringEntry(0, 'foo', 'bar'),
    command(0, 9, ['SET', 'foo', 'baz'], true),
    { kind: 'fullSyncEnd' },
    { kind: 'journalOffset', lsn: 3 },
    { kind: 'rdbEnd' },
    command(0, 12, ['SET', 'a', '1'], false),
    { kind: 'lsn', lsn: 3 },
  ]);
});

test('spec 9.7: stats follow the stream', () => {
  const p = new FlowStreamParser({ flowId: 1, start: 'rdb', eofToken: TOKEN });
  p.feed(SPEC_9_7.subarray(0, 5));
  assert.deepStrictEqual([p.stats.phase, p.stats.offset, p.stats.buffered], ['header', 0, 5]);
  p.feed(SPEC_9_7.subarray(5));
  const s = p.stats;
  assert.deepStrictEqual(
    [s.phase, s.offset, s.buffered, s.entries, s.journalRecords, s.skipped],
    ['journal', SPEC_9_7.length, 0, 1, 2, 0],
  );
});

test('spec 9.4: AUX forms (int8, int32, decimal text), JOURNAL_OFFSET 12345', () => {
  const items = parseEverySplit(
    cat(
      HEADER,
      'FA 0A 72 65 64 69 73 2D 62 69 74 73 C0 40',
      'FA 08 75 73 65 64 2D 6D 65 6D 0A 33 30 30 30 30 30 30 30 30 30',
      'FA 08 73 68 61 72 64 2D 69 64 C0 03',
      'D3 39 30 00 00 00 00 00 00',
    ),
  );
  assert.deepStrictEqual(items, [
    { kind: 'aux', key: 'redis-bits', value: a('64') },
    { kind: 'aux', key: 'used-mem', value: a('3000000000') },
    { kind: 'aux', key: 'shard-id', value: a('3') },
    { kind: 'journalOffset', lsn: 12345 },
  ]);
});

const CHUNK_1 = hx('E0 07 00 00 00 0A 00 00 00 04 01 68 02 02 66 31 02 76 31');
const CHUNK_2 = hx('E0 07 00 00 00 06 00 00 00 02 66 32 02 76 32');

test('spec 9.5: tagged chunks interleaved with an entry and a SELECTDB; db of the first chunk wins', () => {
  const items = parseEverySplit(
    cat(HEADER, 'FE 00', CHUNK_1, '00 01 62 01 78', 'FE 01', CHUNK_2, '00 01 63 01 79'),
  );
  assert.deepStrictEqual(items, [
    stringEntry(0, 'b', 'x'),
    {
      kind: 'entry',
      entry: {
        db: 0,
        key: a('h'),
        expireAtMs: null,
        flags: plain,
        rdbType: 4,
        value: {
          type: 'hash',
          fields: [
            { field: a('f1'), value: a('v1') },
            { field: a('f2'), value: a('v2') },
          ],
        },
      },
    },
    stringEntry(1, 'c', 'y'),
  ]);
});

test('spec 9.5: EOF before the last chunk drops the unfinished entry', () => {
  const items = parseEverySplit(
    cat(HEADER, 'FE 00', CHUNK_1, '00 01 62 01 78', 'D3 01 00 00 00 00 00 00 00', eof()),
  );
  assert.deepStrictEqual(items, [
    stringEntry(0, 'b', 'x'),
    { kind: 'journalOffset', lsn: 1 },
    { kind: 'skipped', what: 'unfinished tagged entry (stream id 7)', bytes: 10 },
    { kind: 'rdbEnd' },
  ]);
});

test('tagged chunks: nested interleaving of two stream ids, a JOURNAL_BLOB between chunks, large ids', () => {
  const set = cat('02 01 73 03', str('m1'));
  const list = cat('12 01 6C 02 01', str('e1'));
  const blob = hx('D2 01 13 06 00 0A 05 01 03 09 03 53 45 54 03 66 6F 6F 03 62 61 72');
  const items = parseEverySplit(
    cat(
      HEADER,
      'FE 02',
      chunk(0xfffffffe, set),
      chunk(69754, list),
      blob,
      chunk(0xfffffffe, str('m2')),
      'FE 03',
      chunk(69754, cat('01', str('e2'))),
      chunk(0xfffffffe, str('m3')),
    ),
  );
  assert.deepStrictEqual(
    items.map((i) => (i.kind === 'entry' ? [i.entry.db, i.entry.key.toString(), i.entry.value] : [i.kind])),
    [
      ['journal'],
      [2, 'l', { type: 'list', items: [a('e1'), a('e2')] }],
      [2, 's', { type: 'set', members: [a('m1'), a('m2'), a('m3')] }],
    ],
  );
});

test('tagged chunks: bad stream id, empty chunk, payload running past the entry', () => {
  assertProtocolError(cat(HEADER, 'E0', u32le(0), u32le(1), '00'), /stream id other than 0/);
  assertProtocolError(cat(HEADER, 'E0', u32le(1), u32le(0)), /1 to \d+ payload bytes, got 0/);
  assertProtocolError(cat(HEADER, chunk(5, hx('00 01 62 01 78 00'))), /1 bytes follow the entry's value/);
  assertProtocolError(cat(HEADER, chunk(5, hx('00 01 62 01'))), /still awaiting tagged chunks/);
  assertProtocolError(cat(HEADER, chunk(5, hx('02 01 73 01 01 61 00 01'))), /tagged chunk \(stream id 5\)/);
});

/** Spec 9.6: an LZ4 frame with one uncompressed block holding SELECTDB 0 + foo=bar. */
const SPEC_9_6 = hx(`CA 22 04 22 4D 18 68 40 0B 00 00 00 00 00 00 00 58 0B 00 00 80
  FE 00 00 03 66 6F 6F 03 62 61 72 00 00 00 00`);

test('spec 9.6: LZ4 compressed blob, items inside parsed with the same state', () => {
  const items = parseEverySplit(cat(HEADER, 'FE 04', SPEC_9_6, '00 01 62 01 78'));
  assert.deepStrictEqual(items, [stringEntry(0, 'foo', 'bar'), stringEntry(0, 'b', 'x')]);
});

/** A zstd frame with one raw block: single segment, 1-byte content size (legal, synthetic). */
function zstdRawFrame(content: Buffer): Buffer {
  const blockHeader = 1 | (content.length << 3);
  return cat(
    '28 B5 2F FD 20',
    Buffer.from([content.length]),
    Buffer.from([blockHeader & 0xff, (blockHeader >> 8) & 0xff, blockHeader >> 16]),
    content,
  );
}

test('zstd compressed blob (synthetic raw block) holding a tagged chunk, a JOURNAL_BLOB and FULLSYNC_END', () => {
  const inner = cat(
    'FE 01',
    chunk(3, hx('00 01 6B 01 76')),
    'D2 01 13 06 00 0A 05 01 03 09 03 53 45 54 03 66 6F 6F 03 62 61 72',
    'C8 00 00 00 00 00 00 00 00',
  );
  const frame = zstdRawFrame(inner);
  const items = parseEverySplit(cat(HEADER, 'C9', packed(frame.length), frame));
  assert.deepStrictEqual(items, [
    stringEntry(1, 'k', 'v'),
    command(0, 5, ['SET', 'foo', 'bar'], true),
    { kind: 'fullSyncEnd' },
  ]);
});

test('compressed blobs: items cut short, nested blobs and EOF inside are ProtocolErrors', () => {
  const cut = zstdRawFrame(hx('00 01 6B 01'));
  assertProtocolError(cat(HEADER, 'C9', packed(cut.length), cut), /zstd blob contents.*ends inside one/);
  const nested = zstdRawFrame(cat('CA 01 00'));
  assertProtocolError(cat(HEADER, 'C9', packed(nested.length), nested), /nested compressed blob/);
  const withEof = zstdRawFrame(eof());
  assertProtocolError(cat(HEADER, 'C9', packed(withEof.length), withEof), /got EOF/);
  assertProtocolError(cat(HEADER, 'CA 05 00 00 00 00 00'), /LZ4 blob/);
  const bad = zstdRawFrame(hx('00 01 6B 01 76 77'));
  assertProtocolError(
    cat(HEADER, 'C9', packed(bad.length), bad),
    /at byte 9: bad zstd blob contents: .*got 0x77/,
  );
});

test('JOURNAL_BLOB: LZF-encoded string, FLUSHALL passed on as a journal item, garbage rejected', () => {
  const record = hx('06 00 0A 2A 01 01 08 08 46 4C 55 53 48 41 4C 4C');
  const lzf = cat(
    'C3',
    packed(record.length + 1),
    packed(record.length),
    Buffer.from([record.length - 1]),
    record,
  );
  const items = parseEverySplit(cat(HEADER, 'D2 01', lzf));
  assert.deepStrictEqual(items, [command(0, 42, ['FLUSHALL'], true)]);
  assertProtocolError(
    cat(HEADER, 'D2 02', str(record)),
    /2 complete records, the string ends inside record 2/,
  );
  assertProtocolError(cat(HEADER, 'D2 01', str(cat(record, '0D'))), /exactly 1 records, 1 bytes left over/);
  assertProtocolError(cat(HEADER, 'D2 01', str(hx('0F 03'))), /got an LSN entry/);
  assertProtocolError(
    cat(HEADER, 'D2 01', str(hx('06 00 0A 00 01 02 04 03 53 45 54'))),
    /JOURNAL_BLOB records/,
  );
});

test('EOF token: mismatch names both tokens; without an expected token any token is accepted', () => {
  const flow = cat(HEADER, eof('0'.repeat(40)));
  assertProtocolError(flow, new RegExp(`${TOKEN}.*got "${'0'.repeat(40)}"`));
  assert.deepStrictEqual(parseAll(flow, { eofToken: undefined }), [{ kind: 'rdbEnd' }]);
});

test('header policy: RDB versions 9-12 accepted, others and garbage rejected', () => {
  assert.deepStrictEqual(parseAll(a('REDIS0012')), []);
  assert.deepStrictEqual(parseAll(a('REDIS0010')), []);
  assertProtocolError(a('REDIS0008'), /version 9-12.*"REDIS0008"/);
  assertProtocolError(a('REDIS0013'), /version 9-12/);
  assertProtocolError(a('REDIS00x9'), /version 9-12/);
  assertProtocolError(a('*2\r\n+FULL'), /RDB header/);
});

test("partial sync ('journal' start): spec 9.3 entries from byte 0, every split", () => {
  const items = parseEverySplit(
    hx(`06 00 0A 05 01 03 09 03 53 45 54 03 66 6F 6F 03 62 61 72
        06 02 0A 00 01 02 04 03 44 45 4C 01 6B
        0D
        0F 80 00 01 11 70`),
    { start: 'journal' },
  );
  assert.deepStrictEqual(items, [
    command(0, 5, ['SET', 'foo', 'bar'], false),
    command(2, 0, ['DEL', 'k'], false),
    { kind: 'journal', record: { op: 'ping' }, inSnapshot: false },
    { kind: 'lsn', lsn: 70000 },
  ]);
});

test('search-index items 0xDF / 0xDE (spec-derived, spec 3.10) are parsed and skipped', () => {
  const docIndex = cat('DF 00', str('idx'), '02', str('doc:1'), '01', str('doc:2'), '02');
  const node = (level: number, links: number[][]): Buffer =>
    cat(
      u32le(0),
      hx('01 00 00 00 00 00 00 00'),
      u32le(level),
      ...links.map((l) => cat(u32le(l.length), ...l.map(u32le))),
    );
  const vectorIndex = cat('DE', str('idx:vec'), '00 02', node(0, [[1]]), node(1, [[0], []]));
  const items = parseEverySplit(cat(HEADER, docIndex, vectorIndex, '00 01 6B 01 76'));
  assert.deepStrictEqual(items, [
    { kind: 'skipped', what: 'SHARD_DOC_INDEX', bytes: docIndex.length },
    { kind: 'skipped', what: 'VECTOR_INDEX', bytes: vectorIndex.length },
    stringEntry(0, 'k', 'v'),
  ]);
});

test('end(): inside an item is an error, between items is not; a failed parser stays failed', () => {
  assertProtocolError(SPEC_9_7.subarray(0, 30), /ended inside an RDB item starting with 0xFA/);
  assertProtocolError(SPEC_9_7.subarray(0, 4), /ended inside the RDB header/);
  assertProtocolError(hx('06 00 0A'), /ended inside a journal entry/, { start: 'journal' });
  assert.deepStrictEqual(parseChunks([SPEC_9_7.subarray(0, 9)]), []);
  const p = new FlowStreamParser({ flowId: 4, start: 'rdb' });
  assert.throws(() => p.feed(a('REDIS0009\x01')), /flow 4 at byte 9/);
  assert.throws(() => p.feed(a('x')), /flow 4 at byte 9/);
  assert.throws(() => p.end(), /flow 4 at byte 9/);
});

test('unknown opcodes name the flow, the absolute offset and what was expected', () => {
  const p = new FlowStreamParser({ flowId: 3, start: 'rdb' });
  p.feed(cat(HEADER, '00 01 6B 01 76'));
  assert.throws(
    () => p.feed(hx('FE 00 F4 00 00 00')),
    (e: unknown) => {
      assert.ok(e instanceof ProtocolError);
      assert.strictEqual(e.flowId, 3);
      assert.strictEqual(e.offset, 16);
      assert.match(e.message, /^flow 3 at byte 16: bad RDB item: an RDB opcode .* got 0xF4$/);
      return true;
    },
  );
});

test('garbage and truncation only ever raise ProtocolError (mutation fuzzing, 6000 cases)', () => {
  const samples = [
    SPEC_9_7,
    cat(HEADER, 'FE 00', CHUNK_1, '00 01 62 01 78', 'FE 01', CHUNK_2),
    cat(HEADER, 'FE 04', SPEC_9_6),
    cat(HEADER, '15 01 78 00 00 00 00 00 00 00 00 00 01 01 67 00 00 00 01', '00'.repeat(16), '00 00 00'),
    cat(
      HEADER,
      '10 01 68 0D 0D 00 00 00 02 00 81 66 02 81 76 02 FF',
      '12 01 6C 01 02 0C 0C 00 00 00 02 00 81 61 02 05 01 FF',
    ),
    cat(
      HEADER,
      '11 01 7A 0D 0D 00 00 00 02 00 81 6D 02 DF FD 02 FF',
      '0B 01 73 0E 02 00 00 00 03 00 00 00 01 00 02 00 2C 01',
    ),
    cat(
      HEADER,
      '25 01 62 02 14 01 20 02 00 01 04 02',
      '00 00 02 00 00',
      '24 01 63 00 01 01 01',
      '00'.repeat(8),
      '00 04 00 00 00 00',
    ),
    cat(
      HEADER,
      '0D 01 68 11 11 00 00 00 0D 00 00 00 02 00 00 01 66 03 01 76 FF',
      '1F 01 68 01 01 66 01 76 C2 80 26 70 07',
    ),
  ];
  const random = seededRandom(42);
  for (let n = 0; n < 6000; n++) {
    const base = samples[n % samples.length]!;
    const bytes = Buffer.from(base.subarray(0, 1 + Math.floor(random() * base.length)));
    const flips = Math.floor(random() * 4);
    for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length;) {
      const len = 1 + Math.floor(random() * 8);
      chunks.push(bytes.subarray(at, at + len));
      at += len;
    }
    try {
      parseChunks(chunks, { eofToken: undefined });
    } catch (e) {
      assert.ok(e instanceof ProtocolError, `case ${n}: ${String(e)} for ${bytes.toString('hex')}`);
    }
  }
});
