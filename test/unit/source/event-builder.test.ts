import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent } from '../../../src/events/model';
import type { PositionedItem } from '../../../src/replica/flow';
import { EventBuilder, PositionGapError, type EventUnit } from '../../../src/source/event-builder';
import { nextLsnAfter, recoverState, type TailEvent } from '../../../src/source/positions';

const entry = (key: string, value: Buffer | string = 'v'): PositionedItem => ({
  item: {
    kind: 'entry',
    entry: {
      db: 0,
      key: Buffer.from(key),
      expireAtMs: null,
      flags: { sticky: false, mcFlags: null },
      rdbType: 0,
      value: { type: 'string', value: Buffer.from(value) },
    },
  },
  lsn: null,
});
const set = (key: string, lsn: number | null): PositionedItem => ({
  item: {
    kind: 'journal',
    inSnapshot: lsn === null,
    record: {
      op: 'command',
      db: 0,
      txid: 0,
      shardCount: 1,
      args: [Buffer.from('SET'), Buffer.from(key), Buffer.from('1')],
    },
  },
  lsn,
});
const ping = (lsn: number): PositionedItem => ({
  item: { kind: 'journal', inSnapshot: false, record: { op: 'ping' } },
  lsn,
});

const keysOf = (units: EventUnit[]): string[] =>
  units.flatMap((u) =>
    u.events.map(
      (e) => `${e.source.epoch}/${e.source.flow}/${e.source.lsn}/${e.source.index}:${e.payload.type}`,
    ),
  );

function fullSync(builder: EventBuilder, flows = 2): EventUnit[] {
  return builder.startSync({ mode: 'full', reason: 'FIRST_SYNC', masterId: 'm1', flowCount: flows }, 1000);
}

test('a full sync: SnapshotStarted on every flow, snapshot at lsn 0 with growing indexes, then stable LSNs', () => {
  const builder = new EventBuilder('src', 1_000_000, null);
  assert.deepEqual(keysOf(fullSync(builder)), ['1/0/0/0:SnapshotStarted', '1/1/0/0:SnapshotStarted']);
  const units = builder.items(
    0,
    [
      { item: { kind: 'aux', key: 'df-ver', value: Buffer.from('df-v1.40.1') }, lsn: null },
      entry('a'),
      set('x', null),
      entry('b'),
      { item: { kind: 'fullSyncEnd' }, lsn: null },
      { item: { kind: 'journalOffset', lsn: 7 }, lsn: null },
      set('y', 7),
      ping(8),
      ping(9),
      set('z', 10),
    ],
    2000,
  );
  assert.deepEqual(keysOf(units), [
    '1/0/0/1:SnapshotRecord',
    '1/0/0/2:JournalCommand',
    '1/0/0/3:SnapshotRecord',
    '1/0/0/4:SnapshotFinished',
    '1/0/0/5:StableSyncStarted',
    '1/0/7/0:JournalCommand',
    '1/0/10/0:JournalCommand',
  ]);
  assert.equal(units[0]!.events[0]!.source.dragonflyVersion, 'v1.40.1');
  assert.deepEqual(
    units.map((u) => u.position.nextLsn),
    [null, null, null, null, 7, 8, 10, 11],
    'the two PINGs only move the position (one unit without events)',
  );
  const finished = units[3]!.events[0]!.payload;
  assert.deepEqual(finished, { type: 'SnapshotFinished', keys: 2, recordEvents: 2, journalRecords: 1 });
  assert.equal(units[4]!.events[0]!.source.phase, 'SNAPSHOT');
  assert.equal(units[5]!.events[0]!.source.phase, 'STABLE');
});

test('heartbeats take the next free key at the last consumed LSN', () => {
  const builder = new EventBuilder('src', 1_000_000, null);
  fullSync(builder, 1);
  assert.deepEqual(keysOf(builder.heartbeats(5000, 1000)), ['1/0/0/1:Heartbeat']);
  builder.items(0, [{ item: { kind: 'journalOffset', lsn: 3 }, lsn: null }, set('a', 3)], 6000);
  assert.deepEqual(keysOf(builder.heartbeats(6500, 1000)), [], 'not quiet for long enough');
  const [beat] = builder.heartbeats(7000, 1000);
  assert.deepEqual(keysOf([beat!]), ['1/0/3/1:Heartbeat']);
  assert.deepEqual(beat!.events[0]!.payload, { type: 'Heartbeat', lsn: 3 });
  builder.items(0, [ping(4), ping(5)], 7100);
  const [after] = builder.heartbeats(9000, 1000);
  assert.deepEqual(keysOf([after!]), ['1/0/5/0:Heartbeat']);
  assert.equal(after!.position.nextLsn, 6);
});

test('big values are split into chunk events at consecutive indexes, one unit', () => {
  const builder = new EventBuilder('src', 2000, null);
  fullSync(builder, 1);
  const [unit] = builder.items(0, [entry('big', Buffer.alloc(9000, 7))], 0);
  assert.ok(unit!.events.length >= 5, `${unit!.events.length} chunks`);
  assert.deepEqual(
    unit!.events.map((e) => e.source.index),
    unit!.events.map((_, i) => i + 1),
  );
});

test('a resumed stream: records already built are skipped, a skipped LSN is an error', () => {
  const builder = new EventBuilder('src', 1_000_000, null);
  fullSync(builder, 1);
  builder.items(0, [{ item: { kind: 'journalOffset', lsn: 1 }, lsn: null }, set('a', 1), set('b', 2)], 0);
  builder.startSync({ mode: 'partial', reason: 'OTHER', masterId: 'm1', flowCount: 1 }, 0);
  assert.deepEqual(keysOf(builder.items(0, [set('a', 1), set('b', 2), set('c', 3)], 0)), [
    '1/0/3/0:JournalCommand',
  ]);
  assert.throws(() => builder.items(0, [set('e', 5)], 0), PositionGapError);
});

function tail(
  partition: number,
  event: Partial<ChangeEvent['source']>,
  payload: ChangeEvent['payload'],
): TailEvent {
  const source: ChangeEvent['source'] = {
    sourceId: 'src',
    masterId: 'm1',
    dragonflyVersion: 'v1.40.1',
    epoch: 3,
    flow: partition,
    shardCount: 2,
    phase: 'STABLE',
    lsn: 0,
    index: 0,
    txid: null,
    db: null,
    timestampMs: 0,
    ...event,
  };
  return { partition, offset: 10, event: { source, payload } };
}
const cmd = (chunk = { index: 0, count: 1, mode: 'REPLACE' as const }): ChangeEvent['payload'] => ({
  type: 'JournalCommand',
  db: 0,
  command: 'SET',
  args: [],
  txid: 0,
  shardCount: 1,
  inSnapshot: false,
  multi: false,
  chunk,
});

test('positions from the partition tails: last record + 1, heartbeat + 1, StableSyncStarted offset', () => {
  assert.equal(nextLsnAfter(tail(0, { lsn: 41 }, cmd()).event), 42);
  assert.equal(nextLsnAfter(tail(0, { lsn: 41 }, cmd({ index: 0, count: 2, mode: 'REPLACE' })).event), null);
  assert.equal(nextLsnAfter(tail(0, { lsn: 9, index: 2 }, { type: 'Heartbeat', lsn: 9 }).event), 10);
  assert.equal(
    nextLsnAfter(
      tail(0, { phase: 'SNAPSHOT', index: 9 }, { type: 'StableSyncStarted', flow: 0, journalOffset: 5 })
        .event,
    ),
    5,
  );
  assert.equal(nextLsnAfter(tail(0, { phase: 'SNAPSHOT' }, { type: 'Heartbeat', lsn: null }).event), null);

  const state = recoverState(
    [tail(0, { lsn: 41 }, cmd()), tail(1, { lsn: 9, index: 2 }, { type: 'Heartbeat', lsn: 9 })],
    'src',
    't',
  );
  assert.deepEqual(state.resume, { masterId: 'm1', nextLsns: [42, 10] });
  assert.deepEqual(state.start?.flows, [
    { epoch: 3, lsn: 41, index: 0, nextLsn: 42 },
    { epoch: 3, lsn: 9, index: 2, nextLsn: 10 },
  ]);
});

test('no position when a flow is inside a snapshot or behind the newest epoch; empty topic: nothing', () => {
  assert.deepEqual(recoverState([null, null], 'src', 't'), { start: null, resume: null });
  const unfinished = recoverState(
    [
      tail(0, { lsn: 41 }, cmd()),
      tail(
        1,
        { phase: 'SNAPSHOT', index: 3 },
        { type: 'SnapshotFinished', keys: 1, recordEvents: 1, journalRecords: 0 },
      ),
    ],
    'src',
    't',
  );
  assert.equal(unfinished.resume, null);
  assert.equal(unfinished.start?.epoch, 3);
  const older = recoverState([tail(0, { lsn: 41, epoch: 4 }, cmd()), tail(1, { lsn: 9 }, cmd())], 'src', 't');
  assert.equal(older.resume, null);
  assert.equal(older.start?.epoch, 4);
});

test('a topic of another source or with events in the wrong partition is refused with what to do', () => {
  assert.throws(
    () => recoverState([tail(0, { sourceId: 'other' }, cmd())], 'src', 'changes'),
    /holds events of source "other", this source is "src".*Use another topic/,
  );
  assert.throws(() => recoverState([tail(0, { flow: 1 }, cmd())], 'src', 'changes'), /partition = flow/);
});
