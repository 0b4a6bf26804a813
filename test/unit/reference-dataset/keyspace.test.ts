import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnknownCommandError } from '../../../src/reference-dataset/errors';
import { keyOf, newDataset, NOW, run, valueOf } from './helpers';

const entry = (key: string, value: string, expireAtMs: number | null = null) => ({
  db: 0,
  key: Buffer.from(key),
  expireAtMs,
  flags: { sticky: false, mcFlags: null },
  rdbType: 0,
  value: { type: 'string' as const, value: Buffer.from(value) },
});

test('a snapshot entry replaces the whole key, including one an earlier journal record created (spec 3.7)', () => {
  const ds = run(newDataset(), 'SADD k a', 'SET t x PXAT 1900000000000');
  ds.applySnapshotEntry(entry('k', 'snap'));
  ds.applySnapshotEntry(entry('t', 'snap'));
  assert.deepEqual(keyOf(ds, 'k'), { type: 'string', expireAtMs: null, value: 'snap' });
  assert.equal(keyOf(ds, 't')?.expireAtMs, null, 'the TTL is replaced too');
});

test('DEL, PEXPIREAT, PERSIST; an expired key is absent from the expected.json view', () => {
  const ds = run(newDataset(), 'SET a 1', 'SET b 1', 'SET c 1', 'DEL a', `PEXPIREAT b ${NOW - 1}`);
  run(ds, `PEXPIREAT c ${NOW + 5000}`, 'PERSIST c');
  assert.equal(keyOf(ds, 'a'), undefined);
  assert.equal(keyOf(ds, 'b'), undefined);
  assert.equal(keyOf(ds, 'c')?.expireAtMs, null);
});

test('MOVE moves a key unless the target db has it; FLUSHDB clears one db, FLUSHALL all', () => {
  const ds = run(newDataset(), 'SET k v', 'MOVE k 4');
  assert.equal(keyOf(ds, 'k'), undefined);
  assert.equal(keyOf(ds, 'k', 4)?.value, 'v');
  ds.applyCommand(3, [Buffer.from('SET'), Buffer.from('x'), Buffer.from('1')], NOW);
  ds.applyCommand(3, [Buffer.from('FLUSHDB')], NOW);
  assert.equal(ds.dbs.has(3), false);
  assert.equal(keyOf(ds, 'k', 4)?.value, 'v');
  run(ds, 'FLUSHALL');
  assert.equal(ds.size, 0);
});

test('RESTORE with the spec 9.8 DUMP of "bar", REPLACE ABSTTL', () => {
  const dump = Buffer.from('00036261720900364c18acbae09ea6', 'hex');
  const ds = newDataset();
  const restore = (ttl: string) =>
    ds.applyCommand(
      0,
      ['RESTORE', 'dst', ttl]
        .map((a) => Buffer.from(a))
        .concat([dump, Buffer.from('REPLACE'), Buffer.from('ABSTTL')]),
      NOW,
    );
  restore('0');
  assert.deepEqual(keyOf(ds, 'dst'), { type: 'string', expireAtMs: null, value: 'bar' });
  restore('1900000000000');
  assert.equal(keyOf(ds, 'dst')?.expireAtMs, 1900000000000);
  assert.throws(
    () => ds.applyCommand(0, [Buffer.from('RESTORE'), Buffer.from('dst'), Buffer.from('0'), dump], NOW),
    /BUSYKEY/,
  );
});

test('RENAME on one shard moves value and TTL', () => {
  const ds = run(newDataset(), 'SET a 1 PXAT 1900000000000', 'RENAME a b');
  assert.equal(keyOf(ds, 'a'), undefined);
  assert.deepEqual(keyOf(ds, 'b'), { type: 'string', expireAtMs: 1900000000000, value: '1' });
});

test('SORT ... STORE stores a list (ALPHA, numeric, DESC, LIMIT); without STORE nothing changes', () => {
  const ds = run(newDataset(), 'RPUSH j:l X b', 'SORT j:l ALPHA STORE j:sorted', 'SADD n 10 9 100');
  assert.deepEqual(valueOf(ds, 'j:sorted'), ['X', 'b']);
  run(ds, 'SORT n STORE out', 'SORT n DESC LIMIT 0 2 STORE top', 'SORT j:l');
  assert.deepEqual(valueOf(ds, 'out'), ['9', '10', '100']);
  assert.deepEqual(valueOf(ds, 'top'), ['100', '10']);
  run(ds, 'SORT missing STORE top');
  assert.equal(keyOf(ds, 'top'), undefined, 'an empty result deletes the destination');
});

test('an unknown command is a typed error naming it', () => {
  assert.throws(
    () => run(newDataset(), 'NOSUCHCMD g 1 2 x'),
    (e: unknown) =>
      e instanceof UnknownCommandError &&
      e.command === 'NOSUCHCMD' &&
      /NOSUCHCMD g 1 2 x/.test(e.message) &&
      /src\/reference-dataset\/commands/.test(e.message),
  );
});

test('a journaled command the dataset cannot reproduce says why', () => {
  assert.throws(
    () => run(newDataset(), 'CL.THROTTLE user 10 1 60'),
    (e: unknown) =>
      e instanceof UnknownCommandError && e.command === 'CL.THROTTLE' && /nanoseconds/.test(e.message),
  );
  assert.throws(() => run(newDataset(), 'SET k v', 'DELEX k IFDEQ 0123456789abcdef'), /XXH3/);
  assert.throws(() => run(newDataset(), 'GEORADIUS g'), /another shard/);
});
