import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareDatasets,
  ExpectedDataset,
  ExpectedKey,
  toExpectedJson,
} from '../../../src/reference-dataset/expected-json';
import { newDataset, NOW, run } from './helpers';

test('keys and values: UTF-8 text, else b64 (keys as "b64:...")', () => {
  const ds = newDataset();
  ds.applyCommand(0, [Buffer.from('SET'), Buffer.from([0xff, 0x00]), Buffer.from([0xc3, 0x28])], NOW);
  run(ds, 'SET héllo wörld');
  assert.deepEqual(toExpectedJson(ds, NOW), {
    '0': {
      'b64:/wA=': { type: 'string', expireAtMs: null, value: { b64: 'wyg=' } },
      héllo: { type: 'string', expireAtMs: null, value: 'wörld' },
    },
  });
});

test('sets and hashes sort by bytes, not by JS string order', () => {
  const ds = newDataset();
  // UTF-16 puts the surrogate pair of U+1F600 before U+FF5E; UTF-8 bytes (F0.. > EF..) do not
  const sadd = ['SADD', 's', '\u{1F600}', '\uFF5E', 'z', 'Z'].map((a) => Buffer.from(a));
  ds.applyCommand(0, sadd, NOW);
  run(ds, 'HSET h b 1 a 2 B 3');
  const out = toExpectedJson(ds, NOW)['0']!;
  assert.deepEqual(out.s!.value, ['Z', 'z', '\uFF5E', '\u{1F600}']);
  assert.deepEqual(out.h!.value, [
    ['B', '3'],
    ['a', '2'],
    ['b', '1'],
  ]);
});

test('expired keys and expired members are left out; a set whose members all expired is gone', () => {
  const ds = run(
    newDataset(),
    `SET gone v PXAT ${NOW}`,
    `SET kept v PXAT ${NOW + 1}`,
    'SADD s a',
    'SADDEX s 10 b',
  );
  run(ds, 'SADDEX only 10 x');
  const later = toExpectedJson(ds, NOW + 10_000)['0']!;
  assert.deepEqual(Object.keys(later).sort(), ['s']);
  assert.deepEqual(later.s, { type: 'set', expireAtMs: null, value: ['a'] });
  assert.equal(toExpectedJson(ds, NOW)['0']!.kept!.expireAtMs, NOW + 1);
});

test('databases are keyed by index; empty ones are left out', () => {
  const ds = newDataset();
  ds.applyCommand(15, [Buffer.from('SET'), Buffer.from('k'), Buffer.from('v')], NOW);
  ds.applyCommand(3, [Buffer.from('SET'), Buffer.from('k'), Buffer.from('v')], NOW);
  ds.applyCommand(3, [Buffer.from('DEL'), Buffer.from('k')], NOW);
  assert.deepEqual(Object.keys(toExpectedJson(ds, NOW)), ['15']);
});

const key = (over: Partial<ExpectedKey> = {}): ExpectedKey => ({
  type: 'string',
  expireAtMs: null,
  value: 'v',
  ...over,
});
const db0 = (keys: Record<string, ExpectedKey>): ExpectedDataset => ({ '0': keys });

test('compare: equal datasets have no differences; missing, unexpected, type and value differences are named', () => {
  assert.deepEqual(compareDatasets(db0({ a: key() }), db0({ a: key() }), NOW), []);
  assert.deepEqual(compareDatasets(db0({}), db0({ a: key() }), NOW), [
    'db 0 key "a": missing (expected a string)',
  ]);
  assert.deepEqual(compareDatasets(db0({ a: key() }), db0({}), NOW), ['db 0 key "a": unexpected string']);
  assert.deepEqual(compareDatasets(db0({ a: key({ type: 'list', value: [] }) }), db0({ a: key() }), NOW), [
    'db 0 key "a": type string expected, got list',
  ]);
  assert.deepEqual(
    compareDatasets(
      db0({ l: key({ type: 'list', value: ['a', 'x'] }) }),
      db0({ l: key({ type: 'list', value: ['a', 'b'] }) }),
      NOW,
    ),
    ['db 0 key "l": [1]: expected "b", got "x"'],
  );
});

test('compare: key TTLs agree within 2 s; a key expired at comparison time must be absent', () => {
  const exp = db0({ a: key({ expireAtMs: NOW + 10_000 }) });
  assert.deepEqual(compareDatasets(db0({ a: key({ expireAtMs: NOW + 12_000 }) }), exp, NOW), []);
  assert.equal(compareDatasets(db0({ a: key({ expireAtMs: NOW + 12_001 }) }), exp, NOW).length, 1);
  assert.equal(compareDatasets(db0({ a: key() }), exp, NOW).length, 1, 'a TTL against none');
  const expired = db0({ a: key({ expireAtMs: NOW - 1 }) });
  assert.deepEqual(compareDatasets(db0({}), expired, NOW), []);
  assert.match(compareDatasets(db0({ a: key({ expireAtMs: NOW - 1 }) }), expired, NOW)[0]!, /must be absent/);
});

test('compare: member TTLs within 2 s; expired members must be absent', () => {
  const exp = db0({
    s: key({ type: 'set', value: ['a', 'b', 'c'], memberExpireAtMs: { b: NOW - 5, c: NOW + 60_000 } }),
  });
  const good = db0({ s: key({ type: 'set', value: ['a', 'c'], memberExpireAtMs: { c: NOW + 61_500 } }) });
  assert.deepEqual(compareDatasets(good, exp, NOW), []);
  const stale = db0({
    s: key({ type: 'set', value: ['a', 'b', 'c'], memberExpireAtMs: { c: NOW + 60_000 } }),
  });
  assert.equal(compareDatasets(stale, exp, NOW).length, 1, 'b expired: must be absent');
  const off = db0({ s: key({ type: 'set', value: ['a', 'c'], memberExpireAtMs: { c: NOW + 63_000 } }) });
  assert.match(compareDatasets(off, exp, NOW)[0]!, /member "c" expireAtMs/);
  const allGone = db0({ s: key({ type: 'set', value: ['b'], memberExpireAtMs: { b: NOW - 5 } }) });
  assert.deepEqual(compareDatasets(db0({}), allGone, NOW), []);
});

test('compare: hash member TTLs are keyed by field', () => {
  const exp = db0({
    h: key({
      type: 'hash',
      value: [
        ['f', 'v'],
        ['g', 'w'],
      ],
      memberExpireAtMs: { f: NOW + 1000 },
    }),
  });
  const act = db0({
    h: key({
      type: 'hash',
      value: [
        ['f', 'v'],
        ['g', 'w'],
      ],
      memberExpireAtMs: { f: NOW + 2500 },
    }),
  });
  assert.deepEqual(compareDatasets(act, exp, NOW), []);
  assert.deepEqual(
    compareDatasets(
      db0({ h: key({ type: 'hash', value: [['g', 'w']] }) }),
      db0({ h: { ...exp['0']!.h!, memberExpireAtMs: { f: NOW - 1 } } }),
      NOW,
    ),
    [],
  );
});

test('compare: sketches only by presence, type and TTL', () => {
  const bf = (over: Partial<ExpectedKey> = {}) =>
    key({ type: 'MBbloom--', value: { unsupportedType: 'MBbloom--' }, ...over });
  assert.deepEqual(compareDatasets(db0({ b: bf({ value: { anything: 1 } }) }), db0({ b: bf() }), NOW), []);
  assert.equal(compareDatasets(db0({ b: bf({ expireAtMs: NOW + 9000 }) }), db0({ b: bf() }), NOW).length, 1);
});

test('compare: JSON documents compare by value, whatever the key order', () => {
  const doc = (v: unknown) => key({ type: 'ReJSON-RL', value: [v] });
  assert.deepEqual(
    compareDatasets(db0({ j: doc({ b: 1, a: [1] }) }), db0({ j: doc({ a: [1], b: 1 }) }), NOW),
    [],
  );
  assert.deepEqual(compareDatasets(db0({ j: doc({ a: 2 }) }), db0({ j: doc({ a: 1 }) }), NOW), [
    'db 0 key "j": [0].a: expected 1, got 2',
  ]);
});
