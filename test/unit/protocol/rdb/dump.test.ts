import assert from 'node:assert';
import { test } from 'node:test';
import { ProtocolError } from '../../../../src/protocol/errors';
import { crc64Jones } from '../../../../src/protocol/rdb/crc64';
import { decodeDumpPayload } from '../../../../src/protocol/rdb/dump';
import { cat, hx, listpack, str, u64le } from './bytes';

const a = (s: string): Buffer => Buffer.from(s, 'latin1');

/** type byte + value + u16 LE version + CRC64 LE, as DUMP produces it. */
function dump(body: Buffer, version = 9): Buffer {
  const withVersion = cat(body, Buffer.from([version & 0xff, version >> 8]));
  return cat(withVersion, u64le(crc64Jones(withVersion)));
}

function assertDumpError(payload: Buffer, pattern: RegExp): void {
  assert.throws(
    () => decodeDumpPayload(payload),
    (e: unknown) => e instanceof ProtocolError && pattern.test(e.message),
  );
}

test('CRC-64/Jones check value', () => {
  assert.strictEqual(crc64Jones(a('123456789')), 0xe9c6d914c4b8d9can);
});

test('spec 9.8: DUMP of the string bar', () => {
  assert.deepStrictEqual(decodeDumpPayload(hx('00 03 62 61 72 09 00 36 4C 18 AC BA E0 9E A6')), {
    rdbType: 0,
    value: { type: 'string', value: a('bar') },
  });
});

test('fixture types (spec 12.9): RESTORE payload of COPY j:z j:z-copy, a ZSET_LISTPACK {c:3, a:3.5}', () => {
  const payload = hx(
    '11 14 14 00 00 00 04 00 81 63 02 03 01 81 61 02 83 33 2E 35 04 FF 09 00 4C 0B 60 23 C2 D6 5B 74',
  );
  assert.deepStrictEqual(decodeDumpPayload(payload), {
    rdbType: 17,
    value: {
      type: 'zset',
      entries: [
        { member: a('c'), score: 3 },
        { member: a('a'), score: 3.5 },
      ],
    },
  });
});

test('multi-step types decode from a dump too (set, quicklist 2, RDB 11 SET_LISTPACK)', () => {
  assert.deepStrictEqual(decodeDumpPayload(dump(cat('02 02', str('x'), str('y')))).value, {
    type: 'set',
    members: [a('x'), a('y')],
  });
  assert.deepStrictEqual(decodeDumpPayload(dump(cat('12 01 02', str(listpack(['a', 'b']))))).value, {
    type: 'list',
    items: [a('a'), a('b')],
  });
  assert.deepStrictEqual(decodeDumpPayload(dump(cat('14', str(listpack(['m']))), 11)).value, {
    type: 'set',
    members: [a('m')],
  });
});

test('corrupt payloads: CRC mismatch, bad version, unknown type, short or overlong value', () => {
  const good = hx('00 03 62 61 72 09 00 36 4C 18 AC BA E0 9E A6');
  const flipped = Buffer.from(good);
  flipped[2] = 0x63;
  assertDumpError(flipped, /CRC64 0x[0-9a-f]{16} over the payload, got 0xa69ee0baac184c36/);
  assertDumpError(good.subarray(0, 8), /at least 11 bytes/);
  assertDumpError(dump(cat('00', str('bar')), 8), /RDB version 9-12, got 8/);
  assertDumpError(dump(cat('03', str('bar'))), /RDB type id.*got 3/);
  assertDumpError(dump(hx('00 05 62 61')), /runs past it/);
  assertDumpError(dump(cat('00', str('bar'), '00')), /1 bytes are left over/);
});
