import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FlowBarrierError,
  FullSyncRestart,
  replayFlows,
  TimedItem,
} from '../../../src/reference-dataset/replay';
import { toExpectedJson } from '../../../src/reference-dataset/expected-json';
import { newDataset, NOW } from './helpers';

function cmd(text: string, txid = 0, db = 0, inSnapshot = false): TimedItem {
  return {
    item: {
      kind: 'journal',
      inSnapshot,
      record: { op: 'command', db, txid, shardCount: 1, args: text.split(' ').map((a) => Buffer.from(a)) },
    },
    atMs: NOW,
  };
}

const keys = (ds: ReturnType<typeof newDataset>, db = '0') =>
  Object.keys(toExpectedJson(ds, NOW)[db] ?? {}).sort();

test('FLUSHALL is applied once, after every flow reached it and before any goes on (spec 5.4)', () => {
  const ds = newDataset();
  // flow 1 has nothing before the flush; were flows applied one after the other, flow 1's "after"
  // write would be flushed by flow 0's FLUSHALL, and flow 0's "before" write would survive.
  replayFlows(ds, [
    [cmd('SET before0 x'), cmd('FLUSHALL', 4), cmd('SET after0 x')],
    [cmd('FLUSHALL', 4), cmd('SET after1 x')],
  ]);
  assert.deepEqual(keys(ds), ['after0', 'after1']);
});

test('FLUSHDB barriers use the db of the record', () => {
  const ds = newDataset();
  replayFlows(ds, [
    [cmd('SET a x', 0, 2), cmd('SET keep x'), cmd('FLUSHDB', 5, 2)],
    [cmd('FLUSHDB', 5, 2), cmd('SET b x', 0, 2)],
  ]);
  assert.deepEqual(keys(ds), ['keep']);
  assert.deepEqual(keys(ds, '2'), ['b']);
});

test('flows that disagree at a barrier, or end without it, are an error', () => {
  assert.throws(
    () => replayFlows(newDataset(), [[cmd('FLUSHALL', 4)], [cmd('FLUSHALL', 5)]]),
    FlowBarrierError,
  );
  assert.throws(
    () => replayFlows(newDataset(), [[cmd('FLUSHALL', 4)], [cmd('SET a b')]]),
    (e: unknown) => e instanceof FlowBarrierError && /flows 1 ended without it/.test(e.message),
  );
});

test('a FLUSH inside a JOURNAL_BLOB is a full-sync restart (spec 3.7)', () => {
  assert.throws(
    () =>
      replayFlows(newDataset(), [
        [cmd('SET a b'), cmd('FLUSHALL', 9, 0, true)],
        [cmd('FLUSHALL', 9, 0, true)],
      ]),
    (e: unknown) => e instanceof FullSyncRestart && e.flowId === 0 && e.txid === 9,
  );
});

test('snapshot entries and journal records of one flow apply in stream order; errors name the flow', () => {
  const ds = newDataset();
  const entry: TimedItem = {
    item: {
      kind: 'entry',
      entry: {
        db: 0,
        key: Buffer.from('k'),
        expireAtMs: null,
        flags: { sticky: false, mcFlags: null },
        rdbType: 0,
        value: { type: 'string', value: Buffer.from('snap') },
      },
    },
    atMs: NOW,
  };
  replayFlows(ds, [
    [cmd('SET k journal'), entry, cmd('APPEND k +')],
    [{ item: { kind: 'lsn', lsn: 3 }, atMs: NOW }],
  ]);
  assert.equal(toExpectedJson(ds, NOW)['0']!.k!.value, 'snap+');
  assert.throws(
    () => replayFlows(ds, [[], [cmd('LPUSH k x')]]),
    /^CommandError: flow 1, item 0: LPUSH: WRONGTYPE/,
  );
});
