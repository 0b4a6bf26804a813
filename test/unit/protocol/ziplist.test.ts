import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ProtocolError } from '../../../src/protocol/errors';
import { decodeZiplist } from '../../../src/protocol/ziplist';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (items: Buffer[]): string[] => items.map((b) => b.toString('latin1'));
const isProtocolError = (e: unknown): boolean => e instanceof ProtocolError;

/**
 * A ziplist from entry encodings (encoding + data, without prevlen). `longPrevlen` forces the 5-byte
 * prevlen form even for small sizes (Redis may keep it after a cascade update).
 */
function ziplist(entries: Buffer[], opts: { count?: number; longPrevlen?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  let prev = 0;
  let offset = 10;
  let tail = 10;
  for (const e of entries) {
    let prevlen: Buffer;
    if (prev < 254 && !opts.longPrevlen) prevlen = Buffer.from([prev]);
    else {
      prevlen = Buffer.alloc(5);
      prevlen[0] = 0xfe;
      prevlen.writeUInt32LE(prev, 1);
    }
    const entry = Buffer.concat([prevlen, e]);
    parts.push(entry);
    tail = offset;
    offset += entry.length;
    prev = entry.length;
  }
  const header = Buffer.alloc(10);
  header.writeUInt32LE(offset + 1, 0);
  header.writeUInt32LE(tail, 4);
  header.writeUInt16LE(opts.count ?? entries.length, 8);
  return Buffer.concat([header, ...parts, Buffer.from([0xff])]);
}

const withLE = (enc: number, n: bigint, width: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return Buffer.concat([Buffer.from([enc]), b.subarray(0, width)]);
};

test('spec 9.4: HASH_ZIPLIST {f: v}', () => {
  const zl = hex('11 00 00 00 0D 00 00 00 02 00 00 01 66 03 01 76 FF');
  assert.deepEqual(text(decodeZiplist(zl)), ['f', 'v']);
});

test('string encodings: 6-bit (empty, 63), 14-bit big-endian (300), 32-bit big-endian (20000)', () => {
  const s63 = Buffer.alloc(63, 'a');
  const s300 = Buffer.alloc(300, 'b');
  const s20000 = Buffer.alloc(20000, 'c');
  const out = decodeZiplist(
    ziplist([
      hex('00'),
      Buffer.concat([hex('3F'), s63]),
      Buffer.concat([hex('41 2C'), s300]),
      Buffer.concat([hex('80 00 00 4E 20'), s20000]),
    ]),
  );
  assert.deepEqual(out, [Buffer.alloc(0), s63, s300, s20000]);
});

test('prevlen 0xFE form after an entry of 254+ bytes, and for a small previous entry', () => {
  const big = Buffer.concat([hex('41 2C'), Buffer.alloc(300, 'x')]);
  assert.deepEqual(text(decodeZiplist(ziplist([big, hex('01 79')]))).slice(1), ['y']);
  assert.deepEqual(text(decodeZiplist(ziplist([hex('01 61'), hex('01 62')], { longPrevlen: true }))), [
    'a',
    'b',
  ]);
});

test('integer encodings: int8, int16, int24, int32, int64 at their extremes', () => {
  const cases: [number, bigint, number][] = [
    [0xfe, -128n, 1],
    [0xfe, 127n, 1],
    [0xc0, -32768n, 2],
    [0xc0, 32767n, 2],
    [0xf0, -8388608n, 3],
    [0xf0, 8388607n, 3],
    [0xd0, -2147483648n, 4],
    [0xd0, 2147483647n, 4],
    [0xe0, -9223372036854775808n, 8],
    [0xe0, 9223372036854775807n, 8],
  ];
  const out = decodeZiplist(ziplist(cases.map(([enc, v, w]) => withLE(enc, v, w))));
  assert.deepEqual(
    text(out),
    cases.map(([, v]) => String(v)),
  );
});

test('immediate integers 0xF1..0xFD are 0..12', () => {
  const encs = Array.from({ length: 13 }, (_, i) => Buffer.from([0xf1 + i]));
  assert.deepEqual(
    text(decodeZiplist(ziplist(encs))),
    Array.from({ length: 13 }, (_, i) => String(i)),
  );
});

test('count 65535 means "unknown"; an empty ziplist has tail = 10', () => {
  assert.deepEqual(text(decodeZiplist(ziplist([hex('F2'), hex('F3')], { count: 65535 }))), ['1', '2']);
  assert.deepEqual(decodeZiplist(hex('0B 00 00 00 0A 00 00 00 00 00 FF')), []);
});

test('bad total, tail, count, prevlen, terminator and encodings are ProtocolErrors', () => {
  const good = ziplist([hex('01 61'), hex('C0 01 00')]);
  const bad = (mutate: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(good);
    mutate(b);
    return b;
  };
  const cases = [
    bad((b) => b.writeUInt32LE(good.length - 1, 0)),
    bad((b) => b.writeUInt32LE(10, 4)),
    bad((b) => b.writeUInt16LE(1, 8)),
    bad((b) => (b[10] = 5)),
    bad((b) => (b[13] = 2)),
    bad((b) => (b[b.length - 1] = 0)),
    bad((b) => (b[14] = 0xc1)),
    bad((b) => (b[11] = 0x81)),
    bad((b) => (b[14] = 0xff)),
  ];
  for (const c of cases) assert.throws(() => decodeZiplist(c), isProtocolError, c.toString('hex'));
});

test('errors carry item "ziplist" and the absolute offset', () => {
  const zl = hex('11 00 00 00 0D 00 00 00 02 00 00 01 66 04 01 76 FF'); // second prevlen wrong
  assert.throws(
    () => decodeZiplist(zl, 500),
    (e: unknown) => e instanceof ProtocolError && e.item === 'ziplist' && e.offset === 513,
  );
});

test('every truncation and random mutations give only ProtocolErrors', () => {
  const zl = ziplist([
    hex('01 61'),
    Buffer.concat([hex('41 2C'), Buffer.alloc(300, 'x')]),
    withLE(0xe0, -5n, 8),
    hex('F5'),
  ]);
  for (let n = 0; n < zl.length; n++) {
    const cut = Buffer.from(zl.subarray(0, n));
    if (n >= 4) cut.writeUInt32LE(n, 0);
    assert.throws(() => decodeZiplist(cut), isProtocolError, `cut at ${n}`);
  }
  let seed = 99;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(zl);
    for (let k = 0; k <= rnd(3); k++) b[rnd(b.length)] = rnd(256);
    try {
      decodeZiplist(b);
    } catch (e) {
      assert.ok(e instanceof ProtocolError, `${String(e)}`);
    }
  }
});
