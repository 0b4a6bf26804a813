/**
 * Snapshot records as typed writes: replace semantics, chunks, expiry, member TTLs, streams.
 */
import assert from 'node:assert';
import { test } from 'node:test';
import type { EventValue, SnapshotRecord } from '../../../src/events/model';
import { Applier } from '../../../src/sink/applier';
import type { Translation } from '../../../src/sink/translate/context';
import { b, context, dragonflyTarget, event, NOW, redis74, text } from './support';

function record(value: EventValue, options: Partial<SnapshotRecord> = {}): SnapshotRecord {
  return {
    type: 'SnapshotRecord',
    db: 1,
    key: b('k'),
    expireAtMs: null,
    flags: { sticky: false, mcFlags: null },
    rdbType: 0,
    value,
    chunk: { index: 0, count: 1, mode: 'REPLACE' },
    ...options,
  };
}

function plan(applier: Applier, r: SnapshotRecord): string[] {
  const t = applier.plan(event(r), NOW) as Translation;
  assert.strictEqual(t.kind, 'commands', JSON.stringify(t));
  return text((t as Extract<Translation, { kind: 'commands' }>).commands);
}

function applier(ctx = context()): Applier {
  return new Applier({ capabilities: ctx.capabilities, degrade: ctx.degrade, keys: ctx.keys });
}

test('a string replaces the key and gets its absolute expiry', () => {
  assert.deepStrictEqual(
    plan(applier(), record({ type: 'StringValue', value: b('v') }, { expireAtMs: NOW + 10 })),
    ['db1 DEL k', 'db1 SET k v', `db1 __LATE_EXPIRY 2 PEXPIREAT k ${NOW + 10}`],
  );
});

test('a key whose expiry passed after the snapshot is written, with a late expiry (the script decides)', () => {
  // event time NOW - 1000: alive on the master then, expired by apply time NOW
  assert.deepStrictEqual(
    plan(applier(), record({ type: 'StringValue', value: b('v') }, { expireAtMs: NOW - 1 })),
    ['db1 DEL k', 'db1 SET k v', `db1 __LATE_EXPIRY 2 PEXPIREAT k ${NOW - 1}`],
  );
});

test('a key already expired when the master sent it is deleted and not written', () => {
  assert.deepStrictEqual(
    plan(applier(), record({ type: 'StringValue', value: b('v') }, { expireAtMs: NOW - 1000 })),
    ['db1 DEL k'],
  );
});

test('chunks: chunk 0 replaces, later chunks append', () => {
  const a = applier();
  const chunk = (index: number, mode: 'REPLACE' | 'APPEND_BYTES'): SnapshotRecord =>
    record({ type: 'StringValue', value: b(`p${index}`) }, { chunk: { index, count: 2, mode } });
  assert.deepStrictEqual(plan(a, chunk(0, 'REPLACE')), ['db1 DEL k', 'db1 SET k p0']);
  assert.deepStrictEqual(plan(a, chunk(1, 'APPEND_BYTES')), ['db1 APPEND k p1']);
});

test('containers in bounded commands; zset scores exact, infinities as inf', () => {
  const items = Array.from({ length: 1001 }, (_, i) => b(String(i)));
  const list = plan(applier(), record({ type: 'ListValue', items }));
  assert.strictEqual(list.length, 1 + 3);
  assert.ok(list[3]!.startsWith('db1 RPUSH k 1000'));
  const zset = plan(
    applier(),
    record({
      type: 'ZSetValue',
      entries: [
        { member: b('a'), score: 0.1 },
        { member: b('b'), score: -Infinity },
      ],
    }),
  );
  assert.deepStrictEqual(zset, ['db1 DEL k', 'db1 ZADD k 0.1 a -inf b']);
});

test('hash field TTLs: HPEXPIREAT on 7.4, dropped or skipped on 7.0, passed ones never written', () => {
  const value: EventValue = {
    type: 'HashValue',
    fields: [
      { field: b('f'), value: b('1') },
      { field: b('g'), value: b('2') },
      { field: b('old'), value: b('3') },
    ],
    fieldExpireAtMs: [NOW + 5, null, NOW - 5],
  };
  assert.deepStrictEqual(plan(applier(context({ capabilities: redis74() })), record(value)), [
    'db1 DEL k',
    'db1 HSET k f 1 g 2',
    `db1 HPEXPIREAT k ${NOW + 5} FIELDS 1 f`,
  ]);
  assert.deepStrictEqual(plan(applier(), record(value)), ['db1 DEL k', 'db1 HSET k f 1 g 2']);
  assert.deepStrictEqual(plan(applier(context({}, ['--degrade-member-ttl', 'skip'])), record(value)), [
    'db1 DEL k',
    'db1 HSET k g 2',
  ]);
});

test('streams: entries, XSETID, groups with ENTRIESREAD, consumers, PEL with time and count', () => {
  const value: EventValue = {
    type: 'StreamValue',
    entries: [{ id: '5-1', fields: [b('f'), b('v')] }],
    length: 1,
    lastId: '7-0',
    firstId: '5-1',
    maxDeletedId: '6-0',
    entriesAdded: 3,
    groups: [
      {
        name: b('g'),
        lastDeliveredId: '5-1',
        entriesRead: 2,
        pending: [{ id: '5-1', deliveryTimeMs: 1234, deliveryCount: 2 }],
        consumers: [{ name: b('c'), seenTimeMs: 1, activeTimeMs: 1, pending: ['5-1'] }],
      },
    ],
  };
  assert.deepStrictEqual(plan(applier(), record(value)), [
    'db1 DEL k',
    'db1 XADD k 5-1 f v',
    'db1 XSETID k 7-0 ENTRIESADDED 3 MAXDELETEDID 6-0',
    'db1 XGROUP CREATE k g 5-1 ENTRIESREAD 2',
    'db1 XGROUP CREATECONSUMER k g c',
    'db1 XCLAIM k g c 0 5-1 FORCE TIME 1234 RETRYCOUNT 2 JUSTID',
  ]);
});

test('streams into a Dragonfly target: XSETID with the last id only (its XSETID takes no counters)', () => {
  const value: EventValue = {
    type: 'StreamValue',
    entries: [{ id: '5-1', fields: [b('f'), b('v')] }],
    length: 1,
    lastId: '7-0',
    firstId: '5-1',
    maxDeletedId: '6-0',
    entriesAdded: 3,
    groups: [],
  };
  assert.deepStrictEqual(plan(applier(context({ capabilities: dragonflyTarget() })), record(value)), [
    'db1 DEL k',
    'db1 XADD k 5-1 f v',
    'db1 XSETID k 7-0',
  ]);
});

test('a group continued in the next chunk is not created twice', () => {
  const a = applier();
  const group = (pending: string[]): EventValue => ({
    type: 'StreamValue',
    entries: [],
    length: 0,
    lastId: '9-0',
    firstId: null,
    maxDeletedId: null,
    entriesAdded: null,
    groups: [
      {
        name: b('g'),
        lastDeliveredId: '9-0',
        entriesRead: null,
        pending: [],
        consumers: [{ name: b('c'), seenTimeMs: 0, activeTimeMs: null, pending }],
      },
    ],
  });
  plan(a, record(group(['1-0']), { chunk: { index: 0, count: 2, mode: 'REPLACE' } }));
  assert.deepStrictEqual(
    plan(a, record(group(['2-0']), { chunk: { index: 1, count: 2, mode: 'APPEND_ELEMENTS' } })),
    ['db1 XSETID k 9-0', 'db1 XCLAIM k g c 0 2-0 FORCE JUSTID'],
  );
});

test('sketches: skipped, or dead-lettered by policy', () => {
  const sketch: EventValue = { type: 'SketchValue', kind: 'SBF', raw: b('x') };
  assert.deepStrictEqual(plan(applier(), record(sketch)), ['db1 DEL k']);
  const dlq = applier(context({}, ['--degrade-sketch', 'dlq', '--errors-dead-letter-topic', 'd']));
  assert.strictEqual(dlq.plan(event(record(sketch)), NOW).kind, 'deadLetter');
});

test('db mapping all-to-0-with-prefix puts every db into db 0 under its prefix', () => {
  assert.deepStrictEqual(
    plan(
      applier(context({}, ['--db-mapping', 'all-to-0-with-prefix'])),
      record({ type: 'StringValue', value: b('v') }),
    ),
    ['db0 DEL db1:k', 'db0 SET db1:k v'],
  );
});
