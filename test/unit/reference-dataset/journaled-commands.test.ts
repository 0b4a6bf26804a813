import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyOf, newDataset, NOW, run, valueOf } from './helpers';

test('HEXPIRE: relative seconds from the record time, NX/XX/GT/LT, 0 deletes the field', () => {
  const ds = run(newDataset(), 'HSET h a 1 b 2 c 3', 'HEXPIRE h 100 FIELDS 2 a b');
  assert.deepEqual(keyOf(ds, 'h')?.memberExpireAtMs, { a: NOW + 100_000, b: NOW + 100_000 });
  run(ds, 'HEXPIRE h 50 GT FIELDS 1 a', 'HEXPIRE h 200 GT FIELDS 1 b', 'HEXPIRE h 10 NX FIELDS 2 a c');
  assert.deepEqual(keyOf(ds, 'h')?.memberExpireAtMs, { a: NOW + 100_000, b: NOW + 200_000, c: NOW + 10_000 });
  run(ds, 'HEXPIRE h 0 FIELDS 1 a');
  assert.deepEqual(valueOf(ds, 'h'), [
    ['b', '2'],
    ['c', '3'],
  ]);
  run(ds, 'HEXPIRE h 0 FIELDS 2 b c');
  assert.equal(keyOf(ds, 'h'), undefined, 'a hash whose last field went is deleted');
  assert.throws(() => run(newDataset(), 'HSET h a 1', 'HEXPIRE h 10 FIELDS 2 a'), /FIELDS says 2/);
});

test('HPEXPIRE/HEXPIREAT/HPEXPIREAT/HPERSIST (what the sink writes) use Redis semantics', () => {
  const ds = run(newDataset(), 'HSET h a 1 b 2 c 3 d 4', 'HPEXPIRE h 1500 FIELDS 1 a');
  run(ds, `HEXPIREAT h ${NOW / 1000 + 60} FIELDS 1 b`, `HPEXPIREAT h ${NOW + 7} FIELDS 1 c`);
  assert.deepEqual(keyOf(ds, 'h')?.memberExpireAtMs, { a: NOW + 1500, b: NOW + 60_000, c: NOW + 7 });
  run(ds, 'HPERSIST h FIELDS 2 a b', `HPEXPIREAT h ${NOW - 1} FIELDS 1 d`);
  assert.deepEqual(keyOf(ds, 'h')?.memberExpireAtMs, { c: NOW + 7 });
  assert.deepEqual(valueOf(ds, 'h'), [
    ['a', '1'],
    ['b', '2'],
    ['c', '3'],
  ]);
});

test('HGETEX rounds up to whole seconds as Dragonfly does; PERSIST clears; no option only reads', () => {
  const ds = run(newDataset(), 'HSET h a 1 b 2', 'HGETEX h PX 1500 FIELDS 1 a', 'HGETEX h EX 9 FIELDS 1 b');
  assert.deepEqual(keyOf(ds, 'h')?.memberExpireAtMs, { a: NOW + 2000, b: NOW + 9000 });
  run(ds, 'HGETEX h PERSIST FIELDS 1 a', 'HGETEX h FIELDS 1 b');
  assert.deepEqual(keyOf(ds, 'h')?.memberExpireAtMs, { b: NOW + 9000 });
  run(ds, `HGETEX h PXAT ${NOW} FIELDS 1 b`);
  assert.deepEqual(valueOf(ds, 'h'), [['a', '1']]);
});

test('FIELDEXPIRE sets TTLs of hash fields and set members; other types are left alone', () => {
  const ds = run(newDataset(), 'HSET h a 1', 'SADD s x y', 'SET str v');
  run(
    ds,
    'FIELDEXPIRE h 30 a missing',
    'FIELDEXPIRE s 40 y',
    'FIELDEXPIRE str 10 v',
    'FIELDEXPIRE none 10 v',
  );
  assert.deepEqual(keyOf(ds, 'h')?.memberExpireAtMs, { a: NOW + 30_000 });
  assert.deepEqual(keyOf(ds, 's')?.memberExpireAtMs, { y: NOW + 40_000 });
  assert.equal(valueOf(ds, 'str'), 'v');
});

function bytesOf(ds: ReturnType<typeof newDataset>, key: string): number[] {
  return [...(ds.get(0, Buffer.from(key))!.value as { value: Buffer }).value];
}

test('BITFIELD: SET/INCRBY/GET, #offsets, WRAP/SAT/FAIL (Dragonfly: FAIL still grows the string)', () => {
  const ds = run(newDataset(), 'BITFIELD b SET u8 0 255 INCRBY u8 0 10 GET u4 0');
  assert.deepEqual(bytesOf(ds, 'b'), [9]);
  run(ds, 'BITFIELD b OVERFLOW SAT INCRBY i8 8 200 SET i16 #2 -2');
  assert.deepEqual(bytesOf(ds, 'b'), [9, 0x7f, 0, 0, 0xff, 0xfe]);
  run(ds, 'BITFIELD b OVERFLOW FAIL INCRBY u4 60 100');
  assert.deepEqual(bytesOf(ds, 'b'), [9, 0x7f, 0, 0, 0xff, 0xfe, 0, 0]);
  run(ds, 'BITFIELD b OVERFLOW SAT INCRBY u8 0 -20');
  assert.equal(bytesOf(ds, 'b')[0], 255, 'SAT below 0 is max');
  run(ds, 'BITFIELD g GET u8 0');
  assert.equal(keyOf(ds, 'g'), undefined, 'GET alone writes nothing');
});

test('GEOADD stores Redis geohash scores; GEORADIUS STORE/STOREDIST keep the members in range', () => {
  const ds = run(newDataset(), 'GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania');
  assert.deepEqual(valueOf(ds, 'g'), [
    ['Palermo', 3479099956230698],
    ['Catania', 3479447370796909],
  ]);
  run(ds, 'GEORADIUS g 15 37 200 km STORE near', 'GEORADIUS g 15 37 200 km ASC COUNT 1 STOREDIST dist');
  assert.deepEqual(valueOf(ds, 'near'), [
    ['Palermo', 3479099956230698],
    ['Catania', 3479447370796909],
  ]);
  const dist = valueOf(ds, 'dist') as [string, number][];
  assert.equal(dist[0]![0], 'Catania');
  assert.ok(Math.abs(dist[0]![1] - 56.4413) < 1e-4, `Catania is 56.4413 km away, got ${dist[0]![1]}`);
  run(ds, 'GEORADIUSBYMEMBER g Palermo 10 km STORE bym', 'GEORADIUS g 0 0 1 km STORE near');
  assert.deepEqual(valueOf(ds, 'bym'), [['Palermo', 3479099956230698]]);
  assert.equal(keyOf(ds, 'near'), undefined, 'an empty result deletes the destination');
  assert.throws(() => run(ds, 'GEORADIUS g 15 37 500 km COUNT 1 STORE x'), /scan/);
});

test('ZREMRANGEBYSCORE/LEX/RANK with exclusive and open bounds', () => {
  const ds = run(newDataset(), 'ZADD z 1 a 2 b 3 c 4 d 5 e', 'ZREMRANGEBYSCORE z (1 2');
  assert.deepEqual(
    (valueOf(ds, 'z') as [string, number][]).map(([m]) => m),
    ['a', 'c', 'd', 'e'],
  );
  run(ds, 'ZREMRANGEBYRANK z -2 -1');
  assert.deepEqual(
    (valueOf(ds, 'z') as [string, number][]).map(([m]) => m),
    ['a', 'c'],
  );
  run(ds, 'ZADD l 0 a 0 b 0 c 0 d', 'ZREMRANGEBYLEX l [b (d', 'ZREMRANGEBYLEX l - [a');
  assert.deepEqual(valueOf(ds, 'l'), [['d', 0]]);
  run(ds, 'ZREMRANGEBYSCORE z -inf +inf');
  assert.equal(keyOf(ds, 'z'), undefined);
});

test('XAUTOCLAIM moves idle entries and drops deleted ones; XCLAIM honours min-idle-time; XSETID', () => {
  const ds = run(
    newDataset(),
    'XADD x 1-1 f a',
    'XADD x 2-1 f b',
    'XADD x 3-1 f c',
    'XGROUP CREATE x g 0',
    `XCLAIM x g c1 0 1-1 TIME ${NOW - 10_000} FORCE JUSTID`,
    `XCLAIM x g c1 0 2-1 TIME ${NOW} FORCE JUSTID`,
    `XCLAIM x g c1 0 3-1 TIME ${NOW - 10_000} FORCE JUSTID`,
    'XDEL x 3-1',
    'XCLAIM x g c2 5000 2-1',
  );
  const group = (): { lastDeliveredId: string; pending: number } =>
    (valueOf(ds, 'x') as { groups: { lastDeliveredId: string; pending: number }[] }).groups[0]!;
  assert.equal(group().pending, 3);
  run(ds, 'XAUTOCLAIM x g c2 5000 0-0 COUNT 10');
  assert.equal(group().pending, 2, '3-1 is no longer in the stream');
  const pending = ds.get(0, Buffer.from('x'))!.value as {
    groups: Map<string, { pending: Map<string, { consumer: string }> }>;
  };
  const owners = Object.fromEntries([...pending.groups.get('g')!.pending].map(([id, p]) => [id, p.consumer]));
  assert.deepEqual(owners, { '1-1': 'c2', '2-1': 'c1' }, '2-1 was not idle long enough');
  run(ds, 'XSETID x 9-0', 'XADD x 9-* f d');
  assert.deepEqual(
    (valueOf(ds, 'x') as { entries: [string, unknown][] }).entries.map(([id]) => id),
    ['1-1', '2-1', '9-1'],
  );
});

test('JSON: wildcards, recursive descent, negative indexes and the array/number/boolean commands', () => {
  const ds = newDataset();
  const json = (...args: string[]): void =>
    ds.applyCommand(
      0,
      args.map((a) => Buffer.from(a)),
      NOW,
    );
  json('JSON.SET', 'j', '$', '{"a":[1,2,3],"b":{"a":5,"t":true},"s":"x","o":{"p":1}}');
  json('JSON.NUMMULTBY', 'j', '$..a', '2');
  json('JSON.ARRINSERT', 'j', '$.a', '-1', '"i"');
  json('JSON.ARRPOP', 'j', '$.a', '0');
  json('JSON.TOGGLE', 'j', '$.b.t');
  json('JSON.STRAPPEND', 'j', '$.s', '"yz"');
  json('JSON.CLEAR', 'j', '$.o');
  json('JSON.MERGE', 'j', '$', '{"b":{"a":null,"n":1}}');
  assert.deepEqual(valueOf(ds, 'j'), [{ a: [2, 'i', 3], b: { t: false, n: 1 }, s: 'xyz', o: {} }]);
  json('JSON.ARRTRIM', 'j', '$.a', '1', '-2');
  json('JSON.SET', 'j', '$.a[*]', '0');
  json('JSON.FORGET', 'j', '$.b.*');
  json('JSON.MSET', 'k', '$', '[1]', 'j', '$.s', 'null');
  assert.deepEqual(valueOf(ds, 'j'), [{ a: [0], b: {}, s: null, o: {} }]);
  assert.deepEqual(valueOf(ds, 'k'), [[1]]);
});

test('STICK, DELEX IFEQ/IFNE, EXPIREAT; sketches are created where Dragonfly creates them', () => {
  const ds = run(newDataset(), 'SET a 1', 'SET b 2', 'STICK a missing', `EXPIREAT b ${NOW / 1000 + 5}`);
  assert.equal(ds.get(0, Buffer.from('a'))!.sticky, true);
  assert.equal(keyOf(ds, 'b')?.expireAtMs, NOW + 5000);
  run(ds, 'DELEX a IFNE 1', 'DELEX b IFEQ 2');
  assert.equal(valueOf(ds, 'a'), '1');
  assert.equal(keyOf(ds, 'b'), undefined);
  run(ds, 'CF.ADD cf x', 'CMS.INITBYDIM cms 10 2', 'CMS.INCRBY cms a 1', 'TOPK.RESERVE tk 3');
  assert.deepEqual(
    ['cf', 'cms', 'tk'].map((k) => keyOf(ds, k)?.type),
    ['MBbloomCF', 'CMSk-TYPE', 'TopK-TYPE'],
  );
  assert.throws(() => run(ds, 'CMS.INCRBY nothing a 1'), /does not exist/);
  assert.throws(() => run(ds, 'BF.ADD cf x'), /WRONGTYPE/);
  run(ds, 'SCRIPT LOAD x', 'SHRINK a', 'FT.CREATE idx ON HASH', 'PING');
  assert.equal(ds.size, 4);
});
