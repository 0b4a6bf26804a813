import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ProtocolError } from '../../../src/protocol/errors';
import { decodeIntset } from '../../../src/protocol/intset';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (items: Buffer[]): string[] => items.map((b) => b.toString('latin1'));
const isProtocolError = (e: unknown): boolean => e instanceof ProtocolError;

function intset(width: 2 | 4 | 8, values: bigint[]): Buffer {
  const b = Buffer.alloc(8 + width * values.length);
  b.writeUInt32LE(width, 0);
  b.writeUInt32LE(values.length, 4);
  values.forEach((v, i) => {
    const at = 8 + i * width;
    if (width === 2) b.writeInt16LE(Number(v), at);
    else if (width === 4) b.writeInt32LE(Number(v), at);
    else b.writeBigInt64LE(v, at);
  });
  return b;
}

test('spec 9.4: SET_INTSET {1, 2, 300} with int16 encoding', () => {
  assert.deepEqual(text(decodeIntset(hex('02 00 00 00 03 00 00 00 01 00 02 00 2C 01'))), ['1', '2', '300']);
});

test('spec 12.7 (fixture types): set:int {-5, 1, 2, 3, 100000} with int32 encoding', () => {
  const b = hex('04 00 00 00 05 00 00 00 FB FF FF FF 01 00 00 00 02 00 00 00 03 00 00 00 A0 86 01 00');
  assert.deepEqual(text(decodeIntset(b)), ['-5', '1', '2', '3', '100000']);
});

test('int64 encoding keeps full 64-bit precision', () => {
  const values = [-9223372036854775808n, -1n, 9007199254740993n, 9223372036854775807n];
  assert.deepEqual(text(decodeIntset(intset(8, values))), values.map(String));
});

test('int16 extremes and the empty set', () => {
  assert.deepEqual(text(decodeIntset(intset(2, [-32768n, 32767n]))), ['-32768', '32767']);
  assert.deepEqual(decodeIntset(intset(4, [])), []);
});

test('bad width, size mismatch, unsorted or duplicate members are ProtocolErrors with offsets', () => {
  const cases = [
    hex('03 00 00 00 01 00 00 00 01 00 00'),
    hex('02 00 00 00 02 00 00 00 01 00'),
    hex('02 00 00 00 01 00 00 00 01 00 02 00'),
    intset(4, [5n, 3n]),
    intset(8, [7n, 7n]),
    hex('02 00 00'),
  ];
  for (const c of cases) assert.throws(() => decodeIntset(c), isProtocolError, c.toString('hex'));
  assert.throws(
    () => decodeIntset(intset(2, [1n, 1n]), 100),
    (e: unknown) => e instanceof ProtocolError && e.item === 'intset' && e.offset === 110,
  );
});

test('every truncation is a ProtocolError', () => {
  const b = intset(4, [1n, 2n, 3n]);
  for (let n = 0; n < b.length; n++) assert.throws(() => decodeIntset(b.subarray(0, n)), isProtocolError);
});

test('decimal text is exact around digit-count and fast-path boundaries', () => {
  const values = [
    -2147483648n,
    -1000000000n,
    -999999999n,
    -100n,
    -99n,
    -10n,
    -9n,
    -1n,
    0n,
    9n,
    10n,
    99n,
    100n,
  ];
  values.push(999999999n, 1000000000n, 2147483647n);
  assert.deepEqual(text(decodeIntset(intset(4, values))), values.map(String));
});
