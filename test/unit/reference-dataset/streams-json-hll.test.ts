import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyHll, hllAdd } from '../../../src/reference-dataset/hll';
import { keyOf, newDataset, run, valueOf } from './helpers';

test('streams: the journaled form of the types fixture commands on j:x', () => {
  const ds = run(
    newDataset(),
    'XADD j:x 1795305663152-0 f v',
    'XADD j:x MINID 1795305663152-0 1795305663152-1 f v2',
    'XGROUP CREATE j:x grp 0',
    'XGROUP CREATECONSUMER j:x grp cons',
    'XCLAIM j:x grp cons 0 1795305663152-0 TIME 1795305663153 RETRYCOUNT 1 FORCE JUSTID LASTID 1795305663152-0',
    'XGROUP SETID j:x grp 1795305663152-0 ENTRIESREAD 1',
    'XTRIM j:x MINID 1795305663152-1',
  );
  assert.deepEqual(valueOf(ds, 'j:x'), {
    entries: [['1795305663152-1', ['f', 'v2']]],
    groups: [{ name: 'grp', lastDeliveredId: '1795305663152-0', pending: 1 }],
  });
  run(ds, 'XACK j:x grp 1795305663152-0');
  assert.deepEqual((valueOf(ds, 'j:x') as { groups: unknown[] }).groups, [
    { name: 'grp', lastDeliveredId: '1795305663152-0', pending: 0 },
  ]);
});

test('XADD MAXLEN 0 keeps an empty stream; ids must grow', () => {
  const ds = run(newDataset(), 'XADD s 5-1 a 1', 'XADD s MAXLEN 0 6-1 f v');
  assert.deepEqual(valueOf(ds, 's'), { entries: [], groups: [] });
  assert.throws(() => run(ds, 'XADD s 6-1 f v'), /not greater/);
});

test('JSON.SET / ARRAPPEND / NUMINCRBY on $ and $.a paths (types fixture j:json)', () => {
  const ds = newDataset();
  const json = (...args: string[]) =>
    ds.applyCommand(
      0,
      args.map((a) => Buffer.from(a)),
      0,
    );
  json('JSON.SET', 'j:json', '$', '{"a":[1,2],"b":"x"}');
  json('JSON.ARRAPPEND', 'j:json', '$.a', '3');
  json('JSON.NUMINCRBY', 'j:json', '$.a[0]', '10');
  assert.deepEqual(keyOf(ds, 'j:json'), {
    type: 'ReJSON-RL',
    expireAtMs: null,
    value: [{ a: [11, 2, 3], b: 'x' }],
  });
  json('JSON.SET', 'j:json', '$.c', '{"d":null}');
  json('JSON.DEL', 'j:json', '$.b');
  assert.deepEqual(valueOf(ds, 'j:json'), [{ a: [11, 2, 3], c: { d: null } }]);
  assert.throws(() => json('JSON.SET', 'j:json', '$.a[?(@>1)]', '1'), /JSONPath/);
});

test('PFADD reproduces the HLL bytes Dragonfly stored (types fixture j:hll)', () => {
  const ds = run(newDataset(), 'PFADD j:hll a b');
  assert.deepEqual(valueOf(ds, 'j:hll'), { b64: 'SFlMTAEAAAAAAAAAAAAAgHGmhEv7gEJa' });
  const same = hllAdd(emptyHll(), [Buffer.from('a'), Buffer.from('b')]);
  assert.equal(hllAdd(same, [Buffer.from('a')]), same, 'no register changed: the same bytes');
  assert.throws(() => run(ds, 'SET s notanhll', 'PFADD s x'), /HyperLogLog/);
});

test('PFADD converts to the dense encoding when the sparse form grows past 3000 bytes', () => {
  const elements = Array.from({ length: 3000 }, (_, i) => Buffer.from(`e${i}`));
  const hll = hllAdd(emptyHll(), elements);
  assert.equal(hll[4], 0, 'dense encoding');
  assert.equal(hll.length, 16 + 12288);
  assert.equal(hllAdd(hll, elements), hll, 're-adding changes nothing');
});

test('BF.ADD creates a bloom filter compared by type only', () => {
  const ds = run(newDataset(), 'BF.ADD j:bf x', 'BF.ADD j:bf y');
  assert.deepEqual(keyOf(ds, 'j:bf'), {
    type: 'MBbloom--',
    expireAtMs: null,
    value: { unsupportedType: 'MBbloom--' },
  });
});
