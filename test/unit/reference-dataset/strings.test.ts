import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyOf, newDataset, run, valueOf } from './helpers';

test('SET as journaled: PXAT is absolute, KEEPTTL keeps the TTL, plain SET clears it', () => {
  const ds = run(newDataset(), 'SET a 1 PXAT 1900000000000', 'SET b 1 PXAT 1900000000000', 'SET b 2 KEEPTTL');
  assert.deepEqual(keyOf(ds, 'a'), { type: 'string', expireAtMs: 1900000000000, value: '1' });
  assert.equal(keyOf(ds, 'b')?.expireAtMs, 1900000000000);
  run(ds, 'SET a 3');
  assert.equal(keyOf(ds, 'a')?.expireAtMs, null);
});

test('SET STICK and _MCFLAGS set the key flags', () => {
  const ds = run(newDataset(), 'SET s v STICK', 'SET m hello _MCFLAGS 9');
  assert.equal(ds.get(0, Buffer.from('s'))?.sticky, true);
  assert.equal(ds.get(0, Buffer.from('m'))?.mcFlags, 9);
});

test('INCR family keeps the TTL and works in int64', () => {
  const ds = run(
    newDataset(),
    'SET j:a 1 PXAT 1900000000000',
    'INCR j:a',
    'INCRBY j:a 10',
    'DECR j:a',
    'DECRBY j:a 2',
  );
  assert.deepEqual(keyOf(ds, 'j:a'), { type: 'string', expireAtMs: 1900000000000, value: '9' });
  run(ds, 'SET big 9223372036854775806', 'INCR big');
  assert.equal(valueOf(ds, 'big'), '9223372036854775807');
  assert.throws(() => run(ds, 'INCR big'), /overflow/);
  assert.throws(() => run(ds, 'SET t abc', 'INCR t'), /not an integer/);
});

test('INCRBYFLOAT and APPEND/SETRANGE like the types fixture (j:f, j:s)', () => {
  const ds = run(newDataset(), 'INCRBYFLOAT j:f 1.25', 'APPEND j:s abc', 'SETRANGE j:s 10 zz');
  assert.equal(valueOf(ds, 'j:f'), '1.25');
  assert.equal(valueOf(ds, 'j:s'), 'abc\u0000\u0000\u0000\u0000\u0000\u0000\u0000zz');
  run(ds, 'INCRBYFLOAT j:f 0.75');
  assert.equal(valueOf(ds, 'j:f'), '2');
});

test('SETBIT sets bits most significant first; GETDEL and MSET', () => {
  const ds = run(newDataset(), 'SETBIT j:bits 7 1', 'MSET x 1 y 2', 'GETDEL x');
  assert.equal(valueOf(ds, 'j:bits'), '\u0001');
  run(ds, 'SETBIT j:bits 0 1');
  assert.deepEqual(valueOf(ds, 'j:bits'), { b64: Buffer.from([0x81]).toString('base64') });
  assert.equal(valueOf(ds, 'x'), undefined);
  assert.equal(valueOf(ds, 'y'), '2');
});

test('string commands on another type fail with WRONGTYPE', () => {
  const ds = run(newDataset(), 'LPUSH l a');
  assert.throws(() => run(ds, 'APPEND l x'), /WRONGTYPE/);
});
