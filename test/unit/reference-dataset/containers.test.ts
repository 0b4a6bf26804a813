import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyOf, newDataset, NOW, run, valueOf } from './helpers';

test('lists: the types fixture sequence on j:l gives [X, b]', () => {
  const ds = run(newDataset(), 'LPUSH j:l a b c d', 'RPOP j:l', 'LPOP j:l', 'LSET j:l 0 X', 'LTRIM j:l 0 5');
  assert.deepEqual(valueOf(ds, 'j:l'), ['X', 'b']);
  run(ds, 'RPUSH j:l2 d', 'LPOP j:l2');
  assert.equal(valueOf(ds, 'j:l2'), undefined, 'an emptied list disappears');
});

test('LREM removes from the head, the tail, or everywhere', () => {
  const ds = run(newDataset(), 'RPUSH l a b a c a', 'LREM l 1 a');
  assert.deepEqual(valueOf(ds, 'l'), ['b', 'a', 'c', 'a']);
  run(ds, 'LREM l -1 a');
  assert.deepEqual(valueOf(ds, 'l'), ['b', 'a', 'c']);
  run(ds, 'LREM l 0 a');
  assert.deepEqual(valueOf(ds, 'l'), ['b', 'c']);
});

test('sets are listed sorted by bytes; SREM of the last member deletes the key', () => {
  const ds = run(newDataset(), 'SADD j:set d c b a', 'SREM j:set a', 'SREM j:set zz');
  assert.deepEqual(valueOf(ds, 'j:set'), ['b', 'c', 'd']);
  run(ds, 'SADD one x', 'SREM one x');
  assert.equal(keyOf(ds, 'one'), undefined);
});

test('SADDEX gives members a TTL relative to the record time', () => {
  const ds = run(newDataset(), 'SADD s keep', 'SADDEX s 100 m');
  assert.deepEqual(keyOf(ds, 's'), {
    type: 'set',
    expireAtMs: null,
    value: ['keep', 'm'],
    memberExpireAtMs: { m: NOW + 100_000 },
  });
});

test('zsets: rank order by score then member; ZINCRBY, ZPOPMIN/ZPOPMAX; inf scores become null', () => {
  const ds = run(newDataset(), 'ZADD j:z 1 a 2 b 3 c', 'ZINCRBY j:z 2.5 a', 'ZPOPMIN j:z');
  assert.deepEqual(valueOf(ds, 'j:z'), [
    ['c', 3],
    ['a', 3.5],
  ]);
  run(ds, 'ZADD z -inf lo +inf hi 0 m 0 l', 'ZPOPMAX z');
  assert.deepEqual(valueOf(ds, 'z'), [
    ['lo', null],
    ['l', 0],
    ['m', 0],
  ]);
  run(ds, 'ZADD z XX 5 new', 'ZADD z NX 7 m', 'ZADD z GT 1 l', 'ZADD z LT 3 l');
  assert.deepEqual(valueOf(ds, 'z'), [
    ['lo', null],
    ['m', 0],
    ['l', 1],
  ]);
});

test('hashes: the types fixture sequence on j:h; field order by bytes', () => {
  const ds = run(
    newDataset(),
    'HSET j:h a 1 b 2 c 3',
    'HINCRBY j:h a 5',
    'HINCRBYFLOAT j:h c -2.5',
    'HDEL j:h b',
  );
  assert.deepEqual(valueOf(ds, 'j:h'), [
    ['a', '6'],
    ['c', '0.5'],
  ]);
});

test('HSETEX in both forms sets per-field TTLs at the record time', () => {
  const ds = run(newDataset(), 'HSETEX h 100 f v', 'HSETEX h EX 10 FIELDS 1 g w', 'HSETEX h NX 50 f changed');
  assert.deepEqual(keyOf(ds, 'h'), {
    type: 'hash',
    expireAtMs: null,
    value: [
      ['f', 'v'],
      ['g', 'w'],
    ],
    memberExpireAtMs: { f: NOW + 100_000, g: NOW + 10_000 },
  });
  run(ds, 'HSET h f plain');
  assert.deepEqual(keyOf(ds, 'h')?.memberExpireAtMs, { g: NOW + 10_000 }, 'HSET clears the field TTL');
  assert.throws(() => run(ds, 'HSETEX h EX 10 FIELDS 2 a b'), /FIELDS count/);
});
