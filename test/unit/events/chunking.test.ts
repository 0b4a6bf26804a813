import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventCodec } from '../../../src/events/codec';
import { ChunkSequenceError, EventTooLargeError } from '../../../src/events/errors';
import {
  eventValueToRdbValue,
  journalRecordToEvents,
  snapshotEntryToEvents,
  type ChangeEvent,
  type SnapshotRecord,
} from '../../../src/events/model';
import { ValueReassembler } from '../../../src/events/reassemble';
import type { JournalRecord, SnapshotEntry } from '../../../src/protocol/types';
import { entryOf, numbered, position, sampleValues } from './samples';

function reassembleAll(events: ChangeEvent[]): ChangeEvent[] {
  const reassembler = new ValueReassembler();
  const done = events.map((e) => reassembler.push(e)).filter((e): e is ChangeEvent => e !== null);
  assert.deepEqual(reassembler.openFlows(), []);
  return done;
}

function roundTrip(entry: SnapshotEntry, maxEventBytes: number, codec: EventCodec): ChangeEvent[] {
  const events = snapshotEntryToEvents(entry, position, maxEventBytes);
  for (const event of events) {
    const size = codec.encodeValue(event).length;
    assert.ok(size <= maxEventBytes, `event of ${size} bytes exceeds ${maxEventBytes}`);
  }
  const [whole, ...more] = reassembleAll(events);
  assert.equal(more.length, 0);
  const record = whole?.payload as SnapshotRecord;
  assert.equal(record.type, 'SnapshotRecord');
  assert.deepEqual(record.chunk, { index: 0, count: 1, mode: 'REPLACE' });
  assert.deepEqual(
    {
      db: record.db,
      key: record.key,
      expireAtMs: record.expireAtMs,
      flags: record.flags,
      rdbType: record.rdbType,
    },
    {
      db: entry.db,
      key: entry.key,
      expireAtMs: entry.expireAtMs,
      flags: entry.flags,
      rdbType: entry.rdbType,
    },
  );
  assert.deepEqual(eventValueToRdbValue(record.value, record.rdbType), entry.value);
  return events;
}

test('every value type survives splitting into many chunks and reassembly', async () => {
  const codec = await EventCodec.create();
  for (const name of Object.keys(sampleValues)) {
    const entry = entryOf(name);
    const single = roundTrip(entry, 1 << 20, codec);
    assert.equal(single.length, 1, `${name} fits one event`);
    const wholeSize = codec.encodeValue(single[0] as ChangeEvent).length;
    for (const max of [400, 520, 700]) {
      const events = roundTrip(entry, max, codec);
      events.forEach((e, i) => {
        const p = e.payload as SnapshotRecord;
        assert.equal(e.source.index, position.index + i);
        assert.equal(p.chunk.index, i);
        assert.equal(p.chunk.count, events.length);
        assert.equal(
          p.chunk.mode,
          i === 0 ? 'REPLACE' : name.match(/string|json|bloom|topk/i) ? 'APPEND_BYTES' : 'APPEND_ELEMENTS',
        );
      });
      if (wholeSize > max) assert.ok(events.length > 1, `${name} at ${max} bytes should be split`);
    }
  }
});

test('a value that fits exactly is one event; one byte less makes two', async () => {
  const codec = await EventCodec.create();
  const entry = entryOf('string');
  const exact = codec.encodeValue(snapshotEntryToEvents(entry, position, 1 << 20)[0] as ChangeEvent).length;
  // chunk numbers are reserved at their widest (2 x 5 bytes), so the limit for one event is that much higher
  const limit = exact + 8;
  assert.equal(snapshotEntryToEvents(entry, position, limit).length, 1);
  assert.equal(snapshotEntryToEvents(entry, position, limit - 1).length, 2);
  roundTrip(entry, limit - 1, codec);
});

test('a 3 MiB string and a 200k-member set split below 1 MiB and reassemble', async () => {
  const codec = await EventCodec.create();
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const stringEntry: SnapshotEntry = { ...entryOf('string'), value: { type: 'string', value: big } };
  assert.equal(roundTrip(stringEntry, 1 << 20, codec).length, 4);
  const setEntry: SnapshotEntry = {
    ...entryOf('set'),
    value: { type: 'set', members: numbered('member:', 200_000) },
  };
  assert.ok(roundTrip(setEntry, 1 << 20, codec).length >= 3);
});

test('an element bigger than an event is refused with a hint', () => {
  const entry: SnapshotEntry = { ...entryOf('list'), value: { type: 'list', items: [Buffer.alloc(5000)] } };
  assert.throws(
    () => snapshotEntryToEvents(entry, position, 1000),
    (e: unknown) => {
      assert.ok(e instanceof EventTooLargeError);
      assert.match(e.message, /max event size/);
      return true;
    },
  );
});

function command(args: string[] | Buffer[]): JournalRecord {
  return {
    op: 'command',
    db: 1,
    txid: 42,
    shardCount: 1,
    args: args.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(a))),
  };
}

test('a big journal command is split by bytes and by arguments and reassembles', async () => {
  const codec = await EventCodec.create();
  const value = Buffer.alloc(5000, 7);
  const record = command([
    Buffer.from('MSET'),
    Buffer.from('k1'),
    value,
    Buffer.from('k2'),
    Buffer.from('v2'),
    ...numbered('x', 60),
  ]);
  const stable = { ...position, phase: 'STABLE' as const, lsn: 900, index: 0 };
  for (const max of [300, 512, 1200]) {
    const events = journalRecordToEvents(record, false, stable, max);
    assert.ok(events.length > 1);
    for (const e of events) assert.ok(codec.encodeValue(e).length <= max);
    const modes = events.map((e) => (e.payload.type === 'JournalCommand' ? e.payload.chunk.mode : ''));
    assert.ok(modes.includes('APPEND_BYTES'));
    const [whole] = reassembleAll(events);
    assert.ok(whole?.payload.type === 'JournalCommand');
    assert.equal(whole.payload.command, 'MSET');
    assert.deepEqual(whole.payload.args, record.op === 'command' ? record.args.slice(1) : []);
    assert.equal(whole.source.lsn, 900);
    assert.equal(whole.source.index, events.length - 1);
  }
});

test('journal records map to their payloads; PING gives no event', () => {
  const stable = { ...position, phase: 'STABLE' as const, lsn: 5, index: 0 };
  const [cmd] = journalRecordToEvents(command(['SET', 'a', '1']), true, stable, 1 << 20);
  assert.ok(cmd?.payload.type === 'JournalCommand');
  assert.equal(cmd.payload.inSnapshot, true);
  assert.equal(cmd.source.txid, 42);
  assert.equal(cmd.source.db, 1);
  const [expired] = journalRecordToEvents(
    { op: 'expired', db: 0, txid: 0, shardCount: 1, args: [Buffer.from('DEL'), Buffer.from('k')] },
    false,
    stable,
    1 << 20,
  );
  assert.deepEqual(expired?.payload, {
    type: 'ExpiredKey',
    db: 0,
    keys: [Buffer.from('k')],
    txid: 0,
    inSnapshot: false,
  });
  const [exec] = journalRecordToEvents({ op: 'exec', db: 0, txid: 7, shardCount: 2 }, false, stable, 1 << 20);
  assert.equal(exec?.payload.type, 'TransactionExec');
  assert.deepEqual(journalRecordToEvents({ op: 'ping' }, false, stable, 1 << 20), []);
});

function chunks(): ChangeEvent[] {
  return snapshotEntryToEvents(entryOf('set'), position, 200);
}

test('reassembly refuses gaps, reordering and interleaving with clear errors', () => {
  const events = chunks();
  assert.ok(events.length >= 3);
  const [c0, c1, c2] = events as [ChangeEvent, ChangeEvent, ChangeEvent];

  const gap = new ValueReassembler();
  gap.push(c0);
  assert.throws(
    () => gap.push(c2),
    (e: unknown) => e instanceof ChunkSequenceError && /out of order/.test(e.message),
  );

  const midway = new ValueReassembler();
  assert.throws(
    () => midway.push(c1),
    (e: unknown) => e instanceof ChunkSequenceError && /without the chunks before it/.test(e.message),
  );

  const interleaved = new ValueReassembler();
  interleaved.push(c0);
  const other = snapshotEntryToEvents(
    entryOf('json'),
    { ...position, index: 500 },
    1 << 20,
  )[0] as ChangeEvent;
  assert.throws(
    () => interleaved.push(other),
    (e: unknown) => e instanceof ChunkSequenceError && /still waits for chunk 1/.test(e.message),
  );
});

test('after a broken value the next value of the flow reassembles (the broken one is forgotten)', () => {
  const broken = chunks();
  const next = snapshotEntryToEvents(entryOf('set'), { ...position, lsn: position.lsn + 1 }, 200);
  const reassembler = new ValueReassembler();
  reassembler.push(broken[0] as ChangeEvent);
  assert.throws(() => reassembler.push(broken[2] as ChangeEvent), ChunkSequenceError);
  assert.deepEqual(reassembler.openFlows(), []);
  const done = next.map((e) => reassembler.push(e)).filter((e) => e !== null);
  assert.equal(done.length, 1);
});

test('reassembly restarts on a re-sent chunk 0 and drops values of an abandoned epoch', () => {
  const events = chunks();
  const reassembler = new ValueReassembler();
  reassembler.push(events[0] as ChangeEvent);
  reassembler.push(events[1] as ChangeEvent);
  const done = events.map((e) => reassembler.push(e)).filter((e) => e !== null);
  assert.equal(done.length, 1);

  reassembler.push(events[0] as ChangeEvent);
  const next = {
    ...(events[0] as ChangeEvent),
    source: { ...position.origin, ...(events[0] as ChangeEvent).source, epoch: 4 },
  };
  assert.equal(reassembler.push(next), null);
  assert.deepEqual(reassembler.openFlows(), [position.origin.flow]);
  reassembler.discard(position.origin.flow);
  assert.deepEqual(reassembler.openFlows(), []);
});

test('events of different flows may interleave', () => {
  const a = chunks();
  const b = snapshotEntryToEvents(
    entryOf('set'),
    { ...position, origin: { ...position.origin, flow: 3 } },
    200,
  );
  const reassembler = new ValueReassembler();
  const out: ChangeEvent[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    for (const e of [a[i], b[i]])
      if (e) out.push(...[reassembler.push(e)].filter((x): x is ChangeEvent => x !== null));
  }
  assert.deepEqual(out.map((e) => e.source.flow).sort(), [2, 3]);
});
