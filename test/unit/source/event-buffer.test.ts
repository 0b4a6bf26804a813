import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBuffer, type BufferedUnit } from '../../../src/source/event-buffer';

function unit(flow: number, events: number, bytesPerEvent = 100): BufferedUnit {
  return {
    flow,
    data: Buffer.alloc(events * bytesPerEvent),
    count: events,
    bytes: events * bytesPerEvent,
    position: { epoch: 1, nextLsn: null },
    lastKey: null,
  };
}

test('push accepts until the byte limit, then refuses everything until reopened', () => {
  const buffer = new EventBuffer(1000);
  assert.equal(buffer.push(unit(0, 5)), true);
  assert.equal(buffer.push(unit(1, 4)), true);
  assert.equal(buffer.bytes, 900);
  assert.equal(buffer.push(unit(0, 2)), false, 'would exceed the limit');
  assert.equal(buffer.overflowed, true);
  assert.equal(buffer.push(unit(0, 1)), false, 'fits, but nothing after a refused unit is kept');
  assert.equal(buffer.units, 2);
  buffer.remove(2);
  buffer.reopen();
  assert.equal(buffer.push(unit(0, 1)), true);
  assert.equal(buffer.overflowed, false);
});

test('a unit bigger than the whole buffer is accepted when the buffer is empty (it could never go otherwise)', () => {
  const buffer = new EventBuffer(500);
  assert.equal(buffer.push(unit(0, 20)), true);
  assert.equal(buffer.push(unit(0, 1)), false);
});

test('peek takes whole units up to maxEvents (at least one), remove frees their bytes', () => {
  const buffer = new EventBuffer(1e6);
  for (const n of [3, 3, 3, 50]) buffer.push(unit(0, n));
  assert.deepEqual(
    buffer.peek(7).map((u) => u.count),
    [3, 3],
  );
  assert.deepEqual(
    buffer.peek(1).map((u) => u.count),
    [3],
  );
  buffer.remove(3);
  assert.deepEqual(
    buffer.peek(10).map((u) => u.count),
    [50],
    'a unit is never cut',
  );
  assert.equal(buffer.events, 50);
  assert.equal(buffer.bytes, 5000);
});

test('waitForUnits resolves on a push, on wake(), or after the timeout', async () => {
  const buffer = new EventBuffer(1e6);
  const waiting = buffer.waitForUnits(10_000);
  buffer.push(unit(0, 1));
  await waiting;
  buffer.remove(1);
  const woken = buffer.waitForUnits(10_000);
  buffer.wake();
  await woken;
  const started = Date.now();
  await buffer.waitForUnits(20);
  assert.ok(Date.now() - started >= 15);
});

test('rates and time-to-full follow what goes in and out', () => {
  const buffer = new EventBuffer(100_000);
  buffer.sampleRates(0);
  assert.equal(buffer.secondsToFull(), Infinity);
  for (let second = 1; second <= 30; second++) {
    buffer.push(unit(0, 20)); // 2000 B/s in
    buffer.remove(buffer.units > 1 ? 1 : 0); // about 2000 B/s out while it has something
    buffer.sampleRates(second * 1000);
  }
  assert.ok(buffer.secondsToFull() > 1000 || buffer.secondsToFull() === Infinity, 'balanced: not filling');
  for (let second = 31; second <= 60; second++) {
    buffer.push(unit(0, 20));
    buffer.sampleRates(second * 1000);
  }
  const { inBytesPerSecond, outBytesPerSecond } = buffer.rates;
  assert.ok(inBytesPerSecond > 1800 && inBytesPerSecond < 2200, String(inBytesPerSecond));
  assert.ok(outBytesPerSecond < 200, String(outBytesPerSecond));
  const expected = (100_000 - buffer.bytes) / (inBytesPerSecond - outBytesPerSecond);
  assert.ok(Math.abs(buffer.secondsToFull() - expected) < 1e-6);
});
