import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ByteQueue } from '../../../src/protocol/byte-queue';
import { Cursor } from '../../../src/protocol/cursor';
import { isNeedMore, ProtocolError } from '../../../src/protocol/errors';
import { JournalEntry, JournalState, readJournalEntry } from '../../../src/protocol/journal';
import { readFlowStreams, stableJournalBytes } from '../../support/fixture-frames';
import { findFixture } from '../../support/fixtures';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isProtocolError = (e: unknown): boolean => e instanceof ProtocolError;

/** Bytes and text mixed: hex groups, and "quoted" ASCII. */
function bytes(...parts: (string | number)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : hex(p))));
}
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

function readOne(buf: Buffer, state: JournalState = { db: 0 }): { entry: JournalEntry; end: number } {
  const c = new Cursor(buf);
  const entry = readJournalEntry(c, state);
  return { entry, end: c.pos };
}

function command(db: number, txid: number, shardCount: number, args: string[], op = 'command'): JournalEntry {
  return {
    kind: 'record',
    record: { op, db, txid, shardCount, args: args.map((a) => Buffer.from(a)) },
  } as JournalEntry;
}

const spec93: [string, string, JournalEntry][] = [
  [
    'SELECT 0 + COMMAND txid 5 SET foo bar',
    '06 00 0A 05 01 03 09 03 53 45 54 03 66 6F 6F 03 62 61 72',
    command(0, 5, 1, ['SET', 'foo', 'bar']),
  ],
  [
    'SELECT 2 + expiry DEL k (COMMAND, txid 0)',
    '06 02 0A 00 01 02 04 03 44 45 4C 01 6B',
    command(2, 0, 1, ['DEL', 'k']),
  ],
  [
    'same, ≤ v1.37 EXPIRED opcode',
    '06 02 09 00 01 02 04 03 44 45 4C 01 6B',
    command(2, 0, 1, ['DEL', 'k'], 'expired'),
  ],
  ['PING', '0D', { kind: 'record', record: { op: 'ping' } }],
  ['LSN 1000', '0F 43 E8', { kind: 'lsn', lsn: 1000 }],
  ['LSN 70000', '0F 80 00 01 11 70', { kind: 'lsn', lsn: 70000 }],
  ['LSN 5000000000', '0F 81 00 00 00 01 2A 05 F2 00', { kind: 'lsn', lsn: 5000000000 }],
  [
    'MSET piece, txid 70000',
    '06 00 0A 80 00 01 11 70 01 03 08 04 4D 53 45 54 02 6B 31 02 76 31',
    command(0, 70000, 1, ['MSET', 'k1', 'v1']),
  ],
  [
    'PEXPIREAT foo 1700000000000, txid 7',
    '06 00 0A 07 01 03 19 09 50 45 58 50 49 52 45 41 54 03 66 6F 6F 0D 31 37 30 30 30 30 30 30 30 30 30 30 30',
    command(0, 7, 1, ['PEXPIREAT', 'foo', '1700000000000']),
  ],
  ['FLUSHALL, txid 42', '06 00 0A 2A 01 01 08 08 46 4C 55 53 48 41 4C 4C', command(0, 42, 1, ['FLUSHALL'])],
  ['SET a 1, txid 12', '06 00 0A 0C 01 03 05 03 53 45 54 01 61 01 31', command(0, 12, 1, ['SET', 'a', '1'])],
  [
    'MSET piece with shard_cnt 2',
    '06 00 0A 80 00 01 11 70 02 03 08 04 4D 53 45 54 02 6B 31 02 76 31',
    command(0, 70000, 2, ['MSET', 'k1', 'v1']),
  ],
];

for (const [name, bytesHex, expected] of spec93) {
  test(`spec 9.3: ${name}`, () => {
    const buf = hex(bytesHex);
    const state = { db: 7 };
    const { entry, end } = readOne(buf, state);
    assert.deepEqual(entry, expected);
    assert.equal(end, buf.length);
    if (entry.kind === 'record' && 'db' in entry.record) assert.equal(state.db, entry.record.db);
    else assert.equal(state.db, 7, 'PING and LSN entries leave the db alone');
  });
}

test('spec 12.9 (fixture types): FLUSHDB on db 3 with txid 15', () => {
  const buf = bytes('06 03 0A 0F 01 01 07 07', ascii('FLUSHDB'));
  assert.deepEqual(readOne(buf).entry, command(3, 15, 1, ['FLUSHDB']));
});

test('every opcode: NOOP, EXEC, FIN, MULTI_COMMAND', () => {
  assert.deepEqual(readOne(hex('00')).entry, { kind: 'record', record: { op: 'noop' } });
  assert.deepEqual(readOne(hex('0E')).entry, { kind: 'record', record: { op: 'fin' } });
  assert.deepEqual(readOne(hex('06 04 0C 09 02')).entry, {
    kind: 'record',
    record: { op: 'exec', db: 4, txid: 9, shardCount: 2 },
  });
  // SELECT 1, MULTI_COMMAND txid 9, shard_cnt 2, nargs 2, total_len 5: INCR x
  const multi = bytes('06 01 0B 09 02 02 05 04', ascii('INCR'), '01', ascii('x'));
  assert.deepEqual(readOne(multi).entry, command(1, 9, 2, ['INCR', 'x'], 'multi_command'));
});

test('the db chosen by a SELECT persists for later records without their own SELECT', () => {
  const state = { db: 0 };
  const stream = hex('06 05 0A 00 01 01 03 03 53 45 54  0A 00 01 01 03 03 44 45 4C');
  const c = new Cursor(stream);
  const first = readJournalEntry(c, state);
  const second = readJournalEntry(c, state);
  assert.equal(first.kind === 'record' && first.record.op === 'command' && first.record.db, 5);
  assert.equal(second.kind === 'record' && second.record.op === 'command' && second.record.db, 5);
});

test('empty arguments are allowed (length 0, no bytes)', () => {
  const buf = hex('06 00 0A 00 01 03 03 03 53 45 54 00 00');
  assert.deepEqual(readOne(buf).entry, command(0, 0, 1, ['SET', '', '']));
});

test('a record split at every byte boundary: NEED_MORE (db unchanged), then the same result', () => {
  const record = hex('06 02 0A 80 00 01 11 70 01 03 08 04 4D 53 45 54 02 6B 31 02 76 31');
  const whole = readOne(record).entry;
  for (let k = 0; k < record.length; k++) {
    const state = { db: 9 };
    const c = new Cursor(record, 0, k);
    assert.throws(() => readJournalEntry(c, state), isNeedMore, `cut at ${k}`);
    assert.equal(state.db, 9, `cut at ${k}: state untouched`);
    assert.deepEqual(readOne(record, state).entry, whole);
    assert.equal(state.db, 2);
  }
});

test('a stream fed one byte at a time through a ByteQueue yields the same entries', () => {
  const stream = hex(
    '06 00 0A 00 01 03 07 03 53 45 54 03 6A 3A 61 01 31  0F 01  0D  06 03 0A 0F 01 01 07 07 46 4C 55 53 48 44 42  0F 43 E8',
  );
  const expected: JournalEntry[] = [];
  const all = new Cursor(stream);
  const s1 = { db: 0 };
  while (all.remaining > 0) expected.push(readJournalEntry(all, s1));
  const q = new ByteQueue(8);
  const s2 = { db: 0 };
  const got: JournalEntry[] = [];
  for (const b of stream) {
    q.append(Buffer.from([b]));
    for (;;) {
      const c = q.cursor();
      try {
        got.push(readJournalEntry(c, s2));
        q.consumeTo(c);
      } catch (e) {
        if (isNeedMore(e)) break;
        throw e;
      }
    }
  }
  assert.equal(got.length, 5);
  assert.deepEqual(got, expected);
});

test('after the record header, NEED_MORE asks for at least total_len + nargs more bytes', () => {
  const record = hex('06 00 0A 00 01 03 09 03 53 45 54 03 66 6F 6F 03 62 61 72');
  const c = new Cursor(record, 0, 8);
  assert.throws(() => readJournalEntry(c, { db: 0 }), isNeedMore);
  assert.ok(c.needed >= 7 + 9 + 3, `needed ${c.needed}`);
});

test('total_len larger or smaller than the sum of argument lengths is a ProtocolError', () => {
  for (const total of ['08', '0A', '00']) {
    // trailing PINGs: with the bytes present, a wrong total_len is corruption, not "wait for more"
    const buf = hex(`06 00 0A 05 01 03 ${total} 03 53 45 54 03 66 6F 6F 03 62 61 72 0D 0D 0D 0D`);
    assert.throws(
      () => readOne(buf),
      (e: unknown) => e instanceof ProtocolError && /total_len/.test(e.message),
      total,
    );
  }
});

test('unknown opcodes are ProtocolErrors naming the opcode and its offset', () => {
  for (const op of [1, 5, 7, 8, 16, 63]) {
    const buf = Buffer.from([0x06, 0x00, op]);
    assert.throws(
      () => readJournalEntry(new Cursor(buf, 0, buf.length, 1000), { db: 0 }),
      (e: unknown) =>
        e instanceof ProtocolError && e.message.includes(`unknown journal opcode ${op}`) && e.offset === 1002,
    );
  }
});

test('nargs 0, nargs or total_len beyond the bounds, and a db above 65535 are ProtocolErrors', () => {
  const cases = [
    '0A 00 01 00 00',
    '0A 00 01 81 00 00 00 01 00 00 00 00 00',
    '0A 00 01 01 81 00 00 00 01 00 00 00 00',
    '06 80 00 01 00 00 0D',
  ];
  for (const c of cases) assert.throws(() => readOne(hex(c)), isProtocolError, c);
});

test('random bytes give an entry, NEED_MORE or a ProtocolError, nothing else', () => {
  let seed = 3;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.alloc(1 + rnd(30));
    for (let k = 0; k < b.length; k++) b[k] = rnd(4) === 0 ? rnd(16) : rnd(256);
    try {
      readOne(b);
    } catch (e) {
      assert.ok(isNeedMore(e) || e instanceof ProtocolError, String(e));
    }
  }
});

test('real bytes (fixture types): the stable journal of all 4 flows is 346 records and 4 LSN entries', () => {
  const flows = readFlowStreams(findFixture('dragonfly-v1.40.1/types').capturePath);
  let records = 0;
  let lsns = 0;
  for (const flow of flows) {
    const c = new Cursor(stableJournalBytes(flow));
    const state = { db: 0 };
    let first = true;
    while (c.remaining > 0) {
      const entry = readJournalEntry(c, state);
      if (entry.kind === 'lsn') {
        lsns++;
        assert.equal(entry.lsn, 1, 'the first stable record has LSN 1 (= JOURNAL_OFFSET)');
      } else {
        records++;
        if (first) assert.equal(entry.record.op, 'command');
      }
      first = false;
    }
  }
  assert.equal(records, 346);
  assert.equal(lsns, 4);
});
