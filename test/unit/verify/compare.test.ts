/**
 * The comparison logic of verify without servers: the quick checks of a key (existence, type with
 * the sink's degradations, TTL tolerance, length), the element comparisons that find the first
 * difference of a value or of a window of it, key sampling, the rate limiter and the findings' caps.
 */
import assert from 'node:assert';
import { test } from 'node:test';
import {
  canonicalJson,
  groupsDifference,
  hashDifference,
  jsonDifference,
  listDifference,
  scoreValue,
  setDifference,
  shown,
  streamEntriesDifference,
  stringDifference,
  zsetDifference,
} from '../../../src/verify/elements';
import { Findings } from '../../../src/verify/findings';
import { inSample } from '../../../src/verify/key-sample';
import { compareMeta } from '../../../src/verify/meta-compare';
import { RateLimiter, type Clock } from '../../../src/verify/rate-limit';
import { ABSENT, type KeyMeta } from '../../../src/verify/types';
import { idAfter } from '../../../src/verify/value-compare';

const b = (text: string): Buffer => Buffer.from(text);
const meta = (type: string, expireAtMs: number | null = null, length: number | null = 1): KeyMeta => ({
  type,
  expireAtMs,
  length,
});

test('quick checks: missing, extra, type, TTL beyond the tolerance, length; equal metadata asks for the value', () => {
  const outcome = (source: KeyMeta, target: KeyMeta) => {
    const verdict = compareMeta(source, target, 1000);
    return verdict.outcome === 'different' ? verdict.kind : verdict.outcome;
  };
  assert.equal(outcome(ABSENT, ABSENT), 'equal');
  assert.equal(outcome(meta('hash'), ABSENT), 'missing');
  assert.equal(outcome(ABSENT, meta('set')), 'extra');
  assert.equal(outcome(meta('list'), meta('set')), 'type');
  assert.equal(outcome(meta('string', 10_000), meta('string', 11_000)), 'needsValue');
  assert.equal(outcome(meta('string', 10_000), meta('string', 11_001)), 'ttl');
  assert.equal(outcome(meta('string', 10_000), meta('string', null)), 'ttl');
  assert.equal(outcome(meta('string', null), meta('string', 10_000)), 'ttl');
  assert.equal(outcome(meta('zset', null, 3), meta('zset', null, 4)), 'length');
  assert.equal(outcome(meta('zset', null, 3), meta('zset', null, 3)), 'needsValue');
});

test('quick checks: Dragonfly types the sink degrades are not differences', () => {
  assert.deepEqual(compareMeta(meta('MBbloom--', null, null), ABSENT, 0), {
    outcome: 'degraded',
    degradation: 'sketch-skipped',
  });
  assert.deepEqual(compareMeta(meta('ReJSON-RL', null, null), ABSENT, 0), {
    outcome: 'degraded',
    degradation: 'json-skipped',
  });
  // a JSON document stored as a string: only its value can tell (the lengths are not comparable)
  assert.deepEqual(compareMeta(meta('ReJSON-RL', null, null), meta('string', null, 17), 0), {
    outcome: 'needsValue',
  });
  // but a JSON document that became a list is a type difference
  assert.equal(compareMeta(meta('ReJSON-RL', null, null), meta('list'), 0).outcome, 'different');
});

test('strings and lists: the first differing byte or element, counted from the window offset', () => {
  assert.equal(stringDifference(b('hello'), b('hello')), null);
  assert.equal(
    stringDifference(b('hello'), b('help!'), 1000),
    'bytes differ from offset 1003: source "lo", target "p!"',
  );
  assert.equal(listDifference([b('a'), b('b')], [b('a'), b('b')]), null);
  assert.equal(
    listDifference([b('a'), b('b')], [b('a'), b('x')], 40_000),
    'element 40001: source "b", target "x"',
  );
  assert.equal(listDifference([b('a')], [b('a'), b('b')]), 'element 1: source (missing), target "b"');
});

test('hashes, sets, sorted sets: source elements against what the target holds of them', () => {
  const fields: [Buffer, Buffer][] = [
    [b('f1'), b('v1')],
    [b('f2'), b('v2')],
  ];
  assert.equal(hashDifference(fields, [b('v1'), b('v2')]), null);
  assert.equal(hashDifference(fields, [b('v1'), b('changed')]), 'field "f2": source "v2", target "changed"');
  assert.equal(hashDifference(fields, [b('v1'), null]), 'field "f2": source "v2", target (missing)');
  assert.equal(setDifference([b('m1'), b('m2')], [true, true]), null);
  assert.equal(setDifference([b('m1'), b('m2')], [true, false]), `member "m2" is not in the target's set`);
  const scores: [Buffer, Buffer][] = [
    [b('a'), b('0.1')],
    [b('b'), b('inf')],
  ];
  // the same double printed differently is equal
  assert.equal(zsetDifference(scores, [b('0.10000000000000001'), b('inf')]), null);
  assert.equal(
    zsetDifference(scores, [b('0.1'), b('-inf')]),
    'member "b": source score inf, target score -inf',
  );
  assert.equal(zsetDifference(scores, [null, b('inf')]), 'member "a": source score 0.1, not in the target');
  assert.equal(scoreValue('-inf'), -Infinity);
});

test('streams: entries and consumer groups', () => {
  const entry = (id: string, ...fields: string[]): [Buffer, Buffer[]] => [b(id), fields.map(b)];
  assert.equal(streamEntriesDifference([entry('1-1', 'a', '1')], [entry('1-1', 'a', '1')]), null);
  assert.equal(
    streamEntriesDifference([entry('1-1', 'a', '1')], [entry('1-1', 'a', '2')]),
    'entry 1-1: field/value 1: source "1", target "2"',
  );
  assert.equal(streamEntriesDifference([entry('1-1')], []), 'entry 1-1 is on the source only');
  assert.equal(
    streamEntriesDifference([entry('1-1')], [entry('1-2')]),
    'entry 1-1 on the source, 1-2 on the target',
  );
  const group = { name: 'g', lastDeliveredId: '1-1', pending: 1 };
  assert.equal(groupsDifference([group], [{ ...group }]), null);
  assert.match(
    groupsDifference([group], [{ ...group, pending: 0 }]) ?? '',
    /consumer group "g": .* 1 pending; target 1-1, 0 pending/,
  );
  assert.equal(groupsDifference([], [group]), 'consumer group "g" is on the target only');
  assert.equal(idAfter('5-7'), '5-8');
  assert.equal(idAfter('5-18446744073709551615'), '6-0');
});

test('JSON documents compare independently of key order; a non-JSON target value is a difference', () => {
  assert.equal(canonicalJson('{"b":1,"a":[{"d":2,"c":3}]}'), '{"a":[{"c":3,"d":2}],"b":1}');
  assert.equal(jsonDifference('{"a":1,"b":2}', '{"b":2,"a":1}'), null);
  assert.match(jsonDifference('{"a":1}', '{"a":2}') ?? '', /JSON documents differ/);
  assert.match(jsonDifference('{"a":1}', 'not json') ?? '', /not the JSON document/);
});

test('values in messages: UTF-8 quoted, binary as base64, long ones cut', () => {
  assert.equal(shown(b('é')), '"é"');
  assert.equal(shown(Buffer.from([0xff, 0x00])), 'b64:/wA=');
  assert.match(shown(Buffer.alloc(500, 'x')), /^"x{59}… \(500 bytes\)$/);
  assert.equal(shown(null), '(missing)');
});

test('sampling picks the same keys every time, about the share asked for', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => b(`key:${i}`));
  const picked = keys.filter((key) => inSample(key, 10));
  assert.ok(picked.length > 800 && picked.length < 1200, `picked ${picked.length} of 10000 at 10%`);
  assert.deepEqual(
    keys.filter((key) => inSample(key, 10)),
    picked,
  );
  assert.ok(keys.every((key) => inSample(key, 100)));
});

test('the rate limiter spreads batches to the rate asked for', async () => {
  let now = 0;
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  const limiter = new RateLimiter(1000, clock);
  for (let i = 0; i < 5; i++) await limiter.take(500);
  // 2500 keys at 1000/s: the first batch at once, then every 500 ms
  assert.deepEqual(sleeps, [500, 500, 500, 500]);
  assert.equal(now, 2000);
  const unlimited = new RateLimiter(0, clock);
  await unlimited.take(1_000_000);
  assert.equal(sleeps.length, 4);
});

test('findings count every difference but list at most maxKeys', () => {
  const findings = new Findings(2);
  for (let i = 0; i < 5; i++) {
    findings.addDifference({
      db: 0,
      key: `k${i}`,
      kind: 'missing',
      source: meta('string'),
      target: ABSENT,
      detail: '',
    });
  }
  findings.addDegraded({
    db: 0,
    key: 'j',
    degradation: 'json-as-string',
    sourceType: 'ReJSON-RL',
    targetType: 'string',
  });
  assert.equal(findings.differenceTotal, 5);
  assert.equal(findings.differences.length, 2);
  assert.equal(findings.degradedTotal, 1);
  assert.equal(findings.equal, false);
  assert.equal(new Findings(2).equal, true);
});
