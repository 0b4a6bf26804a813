import assert from 'node:assert';
import { test } from 'node:test';
import { RdbValue, SnapshotEntry } from '../../../../src/protocol/types';
import { cat, f64le, i64le, intset, listpack, packed, rawStreamId, str, ziplist } from './bytes';
import { assertProtocolError, entryOf } from './parse';

/**
 * One test per RDB type id (spec 4.3 / 4.4). Vectors from spec 9.4 and real fixture bytes of spec 12.7
 * are named so; the others are built from the layouts of spec 4.4 ("spec-derived"). Every vector is
 * also parsed split at every byte position (entryOf).
 */

const a = (s: string): Buffer => Buffer.from(s, 'latin1');
const bufs = (...xs: string[]): Buffer[] => xs.map(a);
const plain = { sticky: false, mcFlags: null };

function expectEntry(e: SnapshotEntry, key: string, rdbType: number, value: RdbValue): void {
  assert.deepStrictEqual(e, { db: 0, key: a(key), expireAtMs: null, flags: plain, rdbType, value });
}

test('0 STRING: spec 9.4 foo=bar, int16 / int8 / non-canonical values, int-encoded key', () => {
  expectEntry(entryOf(cat('00 03 66 6F 6F 03 62 61 72')), 'foo', 0, { type: 'string', value: a('bar') });
  expectEntry(entryOf(cat('00 01 6E C1 39 30')), 'n', 0, { type: 'string', value: a('12345') });
  expectEntry(entryOf(cat('00 01 6E C0 FF')), 'n', 0, { type: 'string', value: a('-1') });
  expectEntry(entryOf(cat('00 01 6E 03 30 30 37')), 'n', 0, { type: 'string', value: a('007') });
  expectEntry(entryOf(cat('00 C0 7B 01 78')), '123', 0, { type: 'string', value: a('x') });
  expectEntry(entryOf(cat('00 C2 00 00 00 80 01 78')), '-2147483648', 0, { type: 'string', value: a('x') });
});

test('0 STRING: spec 9.4 LZF value (24 × a) and fixture reconnect LZF value', () => {
  expectEntry(entryOf(cat('00 01 6B C3 05 18 00 61 E0 0E 00')), 'k', 0, {
    type: 'string',
    value: a('a'.repeat(24)),
  });
  const real = cat('00 06', a('k:7298'), 'C3 13 3B 0B', a('value-7298-x'), 'E0 24 00 01 78 78');
  expectEntry(entryOf(real), 'k:7298', 0, { type: 'string', value: a('value-7298-' + 'x'.repeat(48)) });
});

test('prefixes: spec 9.4 expiry, DF_MASK sticky and memcached flags (live bytes of spec 12.7)', () => {
  const withTtl = entryOf(cat('FC 00 68 E5 CF 8B 01 00 00 00 03 66 6F 6F 03 62 61 72'));
  assert.strictEqual(withTtl.expireAtMs, 1700000000000);
  const sticky = entryOf(cat('DC 01 00 00 00 00 06', a('sticky'), '01 76'));
  assert.deepStrictEqual(sticky.flags, { sticky: true, mcFlags: null });
  const mc = entryOf(cat('DC 02 00 00 00 07 00 00 00 00 06', a('mc:key'), '05', a('hello')));
  assert.deepStrictEqual(mc.flags, { sticky: false, mcFlags: 7 });
  assert.deepStrictEqual(mc.value, { type: 'string', value: a('hello') });
  const both = entryOf(cat('FC', i64le(5), 'DC 03 00 00 00 09 00 00 00 00 01 6B 01 76'));
  assert.strictEqual(both.expireAtMs, 5);
  assert.deepStrictEqual(both.flags, { sticky: true, mcFlags: 9 });
});

test('2 SET: spec 9.4 {a, b}', () => {
  expectEntry(entryOf(cat('02 01 73 02 01 61 01 62')), 's', 2, { type: 'set', members: bufs('a', 'b') });
});

test('4 HASH: spec 9.4 {f: v}', () => {
  expectEntry(entryOf(cat('04 01 68 01 01 66 01 76')), 'h', 4, {
    type: 'hash',
    fields: [{ field: a('f'), value: a('v') }],
  });
});

test('5 ZSET_2: spec 9.4 {m: 1.5}; NaN score rejected', () => {
  expectEntry(entryOf(cat('05 01 7A 01 01 6D 00 00 00 00 00 00 F8 3F')), 'z', 5, {
    type: 'zset',
    entries: [{ member: a('m'), score: 1.5 }],
  });
  assertProtocolError(cat(a('REDIS0009'), '05 01 7A 01 01 6D', f64le(NaN)), /ZSET_2 score.*NaN/);
});

test('11 SET_INTSET: spec 9.4 {1, 2, 300} and fixture types set:int (spec 12.7)', () => {
  expectEntry(entryOf(cat('0B 01 73 0E 02 00 00 00 03 00 00 00 01 00 02 00 2C 01')), 's', 11, {
    type: 'set',
    members: bufs('1', '2', '300'),
  });
  const real = cat(
    '0B 07',
    a('set:int'),
    '1C 04 00 00 00 05 00 00 00 FB FF FF FF 01 00 00 00 02 00 00 00 03 00',
  );
  const realFull = cat(real, '00 00 A0 86 01 00');
  expectEntry(entryOf(realFull), 'set:int', 11, {
    type: 'set',
    members: bufs('-5', '1', '2', '3', '100000'),
  });
  const wide = entryOf(cat('0B 01 73', str(intset(8, [-1, 2 ** 40]))));
  assert.deepStrictEqual(wide.value, { type: 'set', members: bufs('-1', String(2 ** 40)) });
});

test('12 ZSET_ZIPLIST (spec-derived): member/score pairs, integer and text scores', () => {
  expectEntry(entryOf(cat('0C 01 7A', str(ziplist(['a', 3, 'b', '-inf', 'c', '2.5'])))), 'z', 12, {
    type: 'zset',
    entries: [
      { member: a('a'), score: 3 },
      { member: a('b'), score: -Infinity },
      { member: a('c'), score: 2.5 },
    ],
  });
});

test('13 HASH_ZIPLIST: spec 9.4 {f: v}', () => {
  expectEntry(entryOf(cat('0D 01 68 11 11 00 00 00 0D 00 00 00 02 00 00 01 66 03 01 76 FF')), 'h', 13, {
    type: 'hash',
    fields: [{ field: a('f'), value: a('v') }],
  });
});

test('14 LIST_QUICKLIST (spec-derived): ziplist nodes', () => {
  const bytes = cat('0E 01 6C 02', str(ziplist(['a', 5])), str(ziplist(['b'])));
  expectEntry(entryOf(bytes), 'l', 14, { type: 'list', items: bufs('a', '5', 'b') });
});

function streamNode(): Buffer {
  // master entry: 2 live, 1 deleted, master fields [f]; then a same-fields entry, a deleted one and
  // one with its own fields (spec 4.4 stream node layout)
  return listpack([2, 1, 1, 'f', 0, 2, 0, 0, 'v1', 4, 3, 1, 0, 'vX', 4, 0, 5, 1, 2, 'a', '1', 'b', '2', 8]);
}

const MS = 1700000000099n;

test('21 STREAM_LISTPACKS_3 (spec-derived): entries, metadata, group with PEL and consumer', () => {
  const bytes = cat(
    '15 01 78 01',
    str(rawStreamId(MS, 0)),
    str(streamNode()),
    packed(2),
    packed(MS + 5n),
    packed(1),
    packed(MS),
    packed(0),
    packed(MS + 1n),
    packed(0),
    packed(3),
    packed(1),
    str('g1'),
    packed(MS),
    packed(0),
    packed(1),
    packed(1),
    rawStreamId(MS, 0),
    i64le(1700000001000),
    packed(2),
    packed(1),
    str('c1'),
    i64le(1700000002000),
    i64le(1700000003000),
    packed(1),
    rawStreamId(MS, 0),
  );
  const id = (ms: bigint, seq: bigint) => ({ ms, seq });
  expectEntry(entryOf(bytes), 'x', 21, {
    type: 'stream',
    entries: [
      { id: id(MS, 0n), fields: bufs('f', 'v1') },
      { id: id(MS + 5n, 1n), fields: bufs('a', '1', 'b', '2') },
    ],
    length: 2,
    lastId: id(MS + 5n, 1n),
    firstId: id(MS, 0n),
    maxDeletedId: id(MS + 1n, 0n),
    entriesAdded: 3,
    groups: [
      {
        name: a('g1'),
        lastDeliveredId: id(MS, 0n),
        entriesRead: 1,
        pending: [{ id: id(MS, 0n), deliveryTimeMs: 1700000001000, deliveryCount: 2 }],
        consumers: [
          { name: a('c1'), seenTimeMs: 1700000002000, activeTimeMs: 1700000003000, pending: [id(MS, 0n)] },
        ],
      },
    ],
  });
});

test('15 STREAM_LISTPACKS (spec-derived): no first/max-deleted ids, entries_read or active time', () => {
  const bytes = cat(
    '0F 01 78 01',
    str(rawStreamId(MS, 0)),
    str(streamNode()),
    packed(2),
    packed(MS + 5n),
    packed(1),
    packed(1),
    str('g'),
    packed(MS),
    packed(0),
    packed(0),
    packed(2),
    str('c1'),
    i64le(7),
    packed(0),
    str('c2'),
    i64le(8),
    packed(0),
  );
  const v = entryOf(bytes).value;
  assert.ok(v.type === 'stream');
  assert.strictEqual(v.entries.length, 2);
  assert.deepStrictEqual([v.firstId, v.maxDeletedId, v.entriesAdded], [null, null, null]);
  assert.deepStrictEqual(v.groups, [
    {
      name: a('g'),
      lastDeliveredId: { ms: MS, seq: 0n },
      entriesRead: null,
      pending: [],
      consumers: [
        { name: a('c1'), seenTimeMs: 7, activeTimeMs: null, pending: [] },
        { name: a('c2'), seenTimeMs: 8, activeTimeMs: null, pending: [] },
      ],
    },
  ]);
});

test('21 STREAM: unknown entries_read (2^64-1) becomes -1; node id of the wrong size is rejected', () => {
  const bytes = cat(
    '15 01 78 00',
    packed(0),
    packed(0),
    packed(0),
    packed(0),
    packed(0),
    packed(0),
    packed(0),
    packed(0),
    packed(1),
    str('g'),
    packed(0),
    packed(0),
    '81 FF FF FF FF FF FF FF FF',
    packed(0),
    packed(0),
  );
  const v = entryOf(bytes).value;
  assert.ok(v.type === 'stream');
  assert.strictEqual(v.groups[0]!.entriesRead, -1);
  assertProtocolError(cat(a('REDIS0009'), '15 01 78 01', str('short'), str(streamNode())), /16 bytes, got 5/);
});

test('16 HASH_LISTPACK: spec 9.4 {f: v}', () => {
  expectEntry(entryOf(cat('10 01 68 0D 0D 00 00 00 02 00 81 66 02 81 76 02 FF')), 'h', 16, {
    type: 'hash',
    fields: [{ field: a('f'), value: a('v') }],
  });
  assertProtocolError(cat(a('REDIS0009'), '10 01 68', str(listpack(['f']))), /pairs of elements, got 1/);
});

test('17 ZSET_LISTPACK: spec 9.4 {m: -3} and fixture types zset:small with inf/-inf text scores', () => {
  expectEntry(entryOf(cat('11 01 7A 0D 0D 00 00 00 02 00 81 6D 02 DF FD 02 FF')), 'z', 17, {
    type: 'zset',
    entries: [{ member: a('m'), score: -3 }],
  });
  const real = cat(
    '11 0A',
    a('zset:small'),
    '32 32 00 00 00 0A 00 86',
    a('bottom'),
    '07 84',
    a('-inf'),
    '05 81 62 02 DF FE 02 81 63 02 00 01 81 61 02 83',
    a('1.5'),
    '04 83',
    a('top'),
    '04 83',
    a('inf'),
    '04 FF',
  );
  const v = entryOf(real).value;
  assert.ok(v.type === 'zset');
  assert.deepStrictEqual(
    v.entries.map((e) => [e.member.toString(), e.score]),
    [
      ['bottom', -Infinity],
      ['b', -2],
      ['c', 0],
      ['a', 1.5],
      ['top', Infinity],
    ],
  );
  const plus = entryOf(cat('11 01 7A', str(listpack(['m', '+inf'])))).value;
  assert.deepStrictEqual(plus, { type: 'zset', entries: [{ member: a('m'), score: Infinity }] });
  assertProtocolError(cat(a('REDIS0009'), '11 01 7A', str(listpack(['m', 'nan']))), /score.*"nan"/);
});

test('18 LIST_QUICKLIST_2: spec 9.4 [a, 5], fixture list:small, PLAIN nodes, bad container', () => {
  expectEntry(entryOf(cat('12 01 6C 01 02 0C 0C 00 00 00 02 00 81 61 02 05 01 FF')), 'l', 18, {
    type: 'list',
    items: bufs('a', '5'),
  });
  const real = cat(
    '12 0A',
    a('list:small'),
    '01 02 14 14 00 00 00 05 00 81 61 02 81 62 02 81 63 02 01 01 02 01 FF',
  );
  assert.deepStrictEqual(entryOf(real).value, { type: 'list', items: bufs('a', 'b', 'c', '1', '2') });
  const mixed = cat('12 01 6C 02 01', str('big element'), '02', str(listpack(['x', 'y'])));
  assert.deepStrictEqual(entryOf(mixed).value, { type: 'list', items: bufs('big element', 'x', 'y') });
  assertProtocolError(cat(a('REDIS0009'), '12 01 6C 01 03', str('x')), /1 \(PLAIN\) or 2 \(PACKED\), got 3/);
});

test('20: JSON in RDB 9 (old Dragonfly id), SET_LISTPACK in RDB 10+ (spec-derived)', () => {
  expectEntry(entryOf(cat('14 01 6A', str('{"a":1}'))), 'j', 20, { type: 'json', json: a('{"a":1}') });
  const set = entryOf(cat('14 01 73', str(listpack(['a', 7]))), a('REDIS0011'));
  assert.deepStrictEqual(set.value, { type: 'set', members: bufs('a', '7') });
});

test('30 JSON: spec 9.4 {"a":1}', () => {
  expectEntry(entryOf(cat('1E 01 6A 07 7B 22 61 22 3A 31 7D')), 'j', 30, {
    type: 'json',
    json: a('{"a":1}'),
  });
});

test('31 HASH_WITH_EXPIRY: spec 9.4 vector and fixture types hfe:1 (spec 4.4)', () => {
  expectEntry(entryOf(cat('1F 01 68 01 01 66 01 76 C2 80 26 70 07')), 'h', 31, {
    type: 'hash',
    fields: [{ field: a('f'), value: a('v'), expireAtMs: 1800000000000 }],
  });
  const real = cat(
    '1F 05',
    a('hfe:1'),
    '03 02',
    a('f3'),
    '06',
    a('no-ttl'),
    'C0 FF 02',
    a('f2'),
    '02',
    a('v2'),
  );
  const realFull = cat(real, 'C2 3E 66 1E 0D 02', a('f1'), '02', a('v1'), 'C2 3E 66 1E 0D');
  const v = entryOf(realFull).value;
  assert.ok(v.type === 'hash');
  assert.deepStrictEqual(
    v.fields.map((f) => [f.field.toString(), f.value.toString(), f.expireAtMs]),
    [
      ['f3', 'no-ttl', null],
      ['f2', 'v2', 1895305662000],
      ['f1', 'v1', 1895305662000],
    ],
  );
});

test('32 SET_WITH_EXPIRY: spec 9.4 vector and fixture types sfe:1; expired members are kept', () => {
  expectEntry(entryOf(cat('20 01 73 02 01 61 C0 FF 01 62 C2 80 26 70 07')), 's', 32, {
    type: 'set',
    members: bufs('a', 'b'),
    memberExpireAtMs: [null, 1800000000000],
  });
  const real = cat(
    '20 05',
    a('sfe:1'),
    '03 02',
    a('m2'),
    'C2 3E 66 1E 0D 06',
    a('no-ttl'),
    'C0 FF 02',
    a('m1'),
  );
  const v = entryOf(cat(real, 'C2 3E 66 1E 0D')).value;
  assert.deepStrictEqual(v, {
    type: 'set',
    members: bufs('m2', 'no-ttl', 'm1'),
    memberExpireAtMs: [1895305662000, null, 1895305662000],
  });
  const past = entryOf(cat('20 01 73 01 01 61 C0 00')).value;
  assert.deepStrictEqual(past, { type: 'set', members: bufs('a'), memberExpireAtMs: [1675209600000] });
  assertProtocolError(cat(a('REDIS0009'), '20 01 73 01 01 61 01 78'), /member TTL.*decimal integer/);
});

function sketch(rdbType: number, raw: Buffer): void {
  const e = entryOf(cat(Buffer.from([rdbType]), '01 62', raw));
  assert.strictEqual(e.value.type, 'sketch');
  assert.ok(e.value.type === 'sketch');
  assert.strictEqual(e.value.rdbType, rdbType);
  assert.deepStrictEqual(e.value.raw, raw, 'raw must be the exact value bytes');
}

test('33 SBF (spec-derived): header and filters as strings, raw bytes kept', () => {
  sketch(
    33,
    cat(
      '00',
      f64le(2),
      f64le(0.01),
      '00 02 40 64 02',
      '07',
      str(Buffer.alloc(8, 1)),
      '05',
      str(Buffer.alloc(16)),
    ),
  );
  assertProtocolError(
    cat(a('REDIS0009'), '21 01 62 01', f64le(2), f64le(0.01), '00 01 01 01 07', str('x')),
    /options 0, got 1/,
  );
  assertProtocolError(
    cat(a('REDIS0009'), '21 01 62 00', f64le(2), f64le(0.01), '00 01 01 01 07', str('abc')),
    /power of two/,
  );
});

test('34 SBF2: fixture types bf:1 layout (spec 4.4), filters in several chunks', () => {
  sketch(34, cat('00', f64le(2), f64le(0.005), '00 02 2E 01 08 40 40 40 40', Buffer.alloc(64, 0xab)));
  sketch(
    34,
    cat('00', f64le(2), f64le(0.005), '00 02 2E 01 08 40 40 10', Buffer.alloc(16), '40 30', Buffer.alloc(48)),
  );
  assertProtocolError(
    cat(a('REDIS0009'), '22 01 62 00', f64le(2), f64le(0.7), '00 02 2E 01 08 40 40 40 40', Buffer.alloc(64)),
    /error rate.*0\.7/,
  );
  assertProtocolError(
    cat(
      a('REDIS0009'),
      '22 01 62 00',
      f64le(2),
      f64le(0.005),
      '00 02 2E 01 08 40 40 40 41',
      Buffer.alloc(65),
    ),
    /chunk size.*1 to 64 bytes, got 65/,
  );
});

test('35 CMS (spec-derived, live layout of spec 4.4): 10 × 3 counters', () => {
  sketch(35, cat('0A 03 07', Buffer.alloc(240, 3)));
  assertProtocolError(cat(a('REDIS0009'), '23 01 62 00 03 07'), /CMS width.*at least 1, got 0/);
});

test('36 TOPK (spec-derived, live layout of spec 4.4): heap of 2, 8 × 4 counters', () => {
  sketch(36, cat('00 03 08 04', f64le(0.9), '02', str('a'), '05', str('b'), '03', str(Buffer.alloc(128))));
  assertProtocolError(
    cat(a('REDIS0009'), '24 01 62 00 01 08 04', f64le(0.9), '02'),
    /heap size.*at most k = 1/,
  );
  assertProtocolError(
    cat(a('REDIS0009'), '24 01 62 00 03 08 04', f64le(0.9), '00', str('abc')),
    /128 bytes, got 3/,
  );
});

test('37 CUCKOO (spec-derived, live layout of spec 4.4): 1 filter of 64 bytes', () => {
  sketch(37, cat('02 14 01 20 02 00 01', '40 40 40 40', Buffer.alloc(64, 9)));
  sketch(37, cat('02 14 01 20 02 00 02', '02 02 00 00', '04 01 00 03 00 00 00'));
  assertProtocolError(
    cat(a('REDIS0009'), '25 01 62 02 14 01 21 02 00 01'),
    /bucket count.*power of two, got 33/,
  );
  assertProtocolError(cat(a('REDIS0009'), '25 01 62 02 14 01 20 02 00 01 03'), /multiple of 2, got 3/);
});

test('unknown type ids and garbage lengths are ProtocolErrors', () => {
  for (const t of [1, 3, 6, 7, 9, 10, 19, 22, 29, 38]) {
    // the top level sees these as unknown opcodes
    assertProtocolError(
      cat(a('REDIS0009'), Buffer.from([t]), '01 6B 01 76'),
      new RegExp(`got 0x${t.toString(16).toUpperCase().padStart(2, '0')}`),
    );
  }
  assertProtocolError(cat(a('REDIS0009'), 'FC', i64le(1), '03 01 6B'), /key entry type.*got 3/);
  assertProtocolError(cat(a('REDIS0009'), '00 01 6B 9F'), /packed length/);
  assertProtocolError(cat(a('REDIS0009'), '00 01 6B C7'), /string encoding 0-3, got special encoding 7/);
  assertProtocolError(cat(a('REDIS0009'), '02 01 73 02 01 61'), /inside a key entry/);
  assertProtocolError(cat(a('REDIS0009'), '00 01 6B 01 76 F0'), /at byte 14: bad RDB item: .*got 0xF0/);
});
