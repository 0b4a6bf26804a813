import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ProtocolError } from '../../../src/protocol/errors';
import { decodeListpack } from '../../../src/protocol/listpack';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (items: Buffer[]): string[] => items.map((b) => b.toString('latin1'));
const isProtocolError = (e: unknown): boolean => e instanceof ProtocolError;

/** Backlen of an element of `size` bytes, written independently of the decoder (Redis lpEncodeBacklen). */
function backlen(size: number): Buffer {
  if (size <= 127) return Buffer.from([size]);
  if (size < 16383) return Buffer.from([size >> 7, (size & 127) | 128]);
  if (size < 2097151) return Buffer.from([size >> 14, ((size >> 7) & 127) | 128, (size & 127) | 128]);
  return Buffer.from([size >> 21, ((size >> 14) & 127) | 128, ((size >> 7) & 127) | 128, (size & 127) | 128]);
}

/** A listpack from element encodings (encoding byte(s) + data, without backlen). */
function listpack(elements: Buffer[], count = elements.length): Buffer {
  const body = Buffer.concat(elements.map((e) => Buffer.concat([e, backlen(e.length)])));
  const header = Buffer.alloc(6);
  header.writeUInt32LE(6 + body.length + 1, 0);
  header.writeUInt16LE(count, 4);
  return Buffer.concat([header, body, Buffer.from([0xff])]);
}

const int = (first: number, bytes: Buffer): Buffer => Buffer.concat([Buffer.from([first]), bytes]);
const le = (n: bigint, width: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b.subarray(0, width);
};

test('spec 9.4: HASH_LISTPACK {f: v}', () => {
  assert.deepEqual(text(decodeListpack(hex('0D 00 00 00 02 00 81 66 02 81 76 02 FF'))), ['f', 'v']);
});

test('spec 9.4: LIST_QUICKLIST_2 node [a, 5] (uint7 integer)', () => {
  assert.deepEqual(text(decodeListpack(hex('0C 00 00 00 02 00 81 61 02 05 01 FF'))), ['a', '5']);
});

test('spec 9.4: ZSET_LISTPACK {m: -3} (13-bit negative integer DF FD)', () => {
  assert.deepEqual(text(decodeListpack(hex('0D 00 00 00 02 00 81 6D 02 DF FD 02 FF'))), ['m', '-3']);
});

test('spec 12.7 (fixture types): list:small [a, b, c, 1, 2]', () => {
  const lp = hex('14 00 00 00 05 00 81 61 02 81 62 02 81 63 02 01 01 02 01 FF');
  assert.deepEqual(text(decodeListpack(lp)), ['a', 'b', 'c', '1', '2']);
});

test('spec 12.7 (fixture types): zset:small with text scores -inf/1.5/inf and int scores -2/0', () => {
  const lp = Buffer.concat([
    hex('32 00 00 00 0A 00 86'),
    Buffer.from('bottom'),
    hex('07 84'),
    Buffer.from('-inf'),
    hex('05 81 62 02 DF FE 02 81 63 02 00 01 81 61 02 83'),
    Buffer.from('1.5'),
    hex('04 83'),
    Buffer.from('top'),
    hex('04 83'),
    Buffer.from('inf'),
    hex('04 FF'),
  ]);
  assert.deepEqual(text(decodeListpack(lp)), [
    'bottom',
    '-inf',
    'b',
    '-2',
    'c',
    '0',
    'a',
    '1.5',
    'top',
    'inf',
  ]);
});

test('uint7 integers 0 and 127', () => {
  assert.deepEqual(text(decodeListpack(listpack([hex('00'), hex('7F')]))), ['0', '127']);
});

test('6-bit strings: empty and 63 bytes', () => {
  const s63 = Buffer.alloc(63, 'x');
  const out = decodeListpack(listpack([hex('80'), Buffer.concat([hex('BF'), s63])]));
  assert.deepEqual(out, [Buffer.alloc(0), s63]);
});

test('13-bit integers: 4095, -4096, -1, 0', () => {
  const out = decodeListpack(listpack([hex('CF FF'), hex('D0 00'), hex('DF FF'), hex('C0 00')]));
  assert.deepEqual(text(out), ['4095', '-4096', '-1', '0']);
});

test('12-bit strings: 64 bytes and 4095 bytes (2-byte backlen)', () => {
  const s64 = Buffer.alloc(64, 'a');
  const s4095 = Buffer.alloc(4095, 'b');
  const out = decodeListpack(
    listpack([Buffer.concat([hex('E0 40'), s64]), Buffer.concat([hex('EF FF'), s4095])]),
  );
  assert.deepEqual(out, [s64, s4095]);
});

test('32-bit strings: 5000 bytes (2-byte backlen) and 20000 bytes (3-byte backlen)', () => {
  const mk = (n: number): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(n);
    return Buffer.concat([hex('F0'), len, Buffer.alloc(n, n % 251)]);
  };
  const out = decodeListpack(listpack([mk(5000), mk(20000)]));
  assert.deepEqual(out, [Buffer.alloc(5000, 5000 % 251), Buffer.alloc(20000, 20000 % 251)]);
});

test('int16, int24, int32 and int64 encodings at their extremes', () => {
  const cases: [number, bigint, number][] = [
    [0xf1, -32768n, 2],
    [0xf1, 32767n, 2],
    [0xf2, -8388608n, 3],
    [0xf2, 8388607n, 3],
    [0xf3, -2147483648n, 4],
    [0xf3, 2147483647n, 4],
    [0xf4, -9223372036854775808n, 8],
    [0xf4, 9223372036854775807n, 8],
  ];
  const out = decodeListpack(listpack(cases.map(([enc, v, w]) => int(enc, le(v, w)))));
  assert.deepEqual(
    text(out),
    cases.map(([, v]) => String(v)),
  );
});

test('count 65535 means "unknown": the elements are counted by walking', () => {
  assert.deepEqual(text(decodeListpack(listpack([hex('01'), hex('02')], 65535))), ['1', '2']);
});

test('empty listpack', () => {
  assert.deepEqual(decodeListpack(hex('07 00 00 00 00 00 FF')), []);
});

test('returned elements are copies, not views of the input', () => {
  const lp = hex('0D 00 00 00 02 00 81 66 02 81 76 02 FF');
  const out = decodeListpack(lp);
  lp.fill(0);
  assert.deepEqual(text(out), ['f', 'v']);
});

test('errors are ProtocolErrors with the absolute offset', () => {
  const lp = hex('0D 00 00 00 02 00 81 66 03 81 76 02 FF'); // first backlen wrong
  assert.throws(
    () => decodeListpack(lp, 1000),
    (e: unknown) => e instanceof ProtocolError && e.item === 'listpack' && e.offset === 1008,
  );
});

test('bad total size, count, terminator, encoding byte and backlen are rejected', () => {
  const good = listpack([hex('81 61'), hex('05')]);
  const bad = (mutate: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(good);
    mutate(b);
    return b;
  };
  const cases = [
    bad((b) => b.writeUInt32LE(good.length + 1, 0)),
    bad((b) => b.writeUInt16LE(3, 4)),
    bad((b) => (b[b.length - 1] = 0xfe)),
    bad((b) => (b[6] = 0xf5)),
    bad((b) => (b[8] = 0x01)),
    Buffer.concat([good.subarray(0, 9), hex('FF'), good.subarray(9)]),
  ];
  for (const c of cases) assert.throws(() => decodeListpack(c), isProtocolError, c.toString('hex'));
});

test('every truncation of a valid listpack is a ProtocolError', () => {
  const lp = listpack([
    hex('81 61'),
    Buffer.concat([hex('F0 C8 00 00 00'), Buffer.alloc(200, 1)]),
    hex('F4 01 02 03 04 05 06 07 08'),
  ]);
  for (let n = 0; n < lp.length; n++) {
    const cut = Buffer.from(lp.subarray(0, n));
    if (n >= 4) cut.writeUInt32LE(n, 0);
    assert.throws(() => decodeListpack(cut), isProtocolError, `cut at ${n}`);
  }
});

test('random garbage and random mutations never throw anything but ProtocolError', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const good = listpack([
    hex('81 61'),
    Buffer.concat([hex('E0 40'), Buffer.alloc(64, 2)]),
    hex('F3 01 02 03 04'),
    hex('DF FE'),
  ]);
  for (let i = 0; i < 3000; i++) {
    let b: Buffer;
    if (i % 2 === 0) {
      b = Buffer.from(good);
      for (let k = 0; k <= rnd(3); k++) b[rnd(b.length)] = rnd(256);
    } else {
      b = Buffer.alloc(rnd(40));
      for (let k = 0; k < b.length; k++) b[k] = rnd(256);
      if (b.length >= 4 && rnd(2) === 0) b.writeUInt32LE(b.length, 0);
    }
    try {
      decodeListpack(b);
    } catch (e) {
      assert.ok(e instanceof ProtocolError, `${b.toString('hex')}: ${String(e)}`);
    }
  }
});
