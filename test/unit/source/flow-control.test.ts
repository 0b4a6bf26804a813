import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  flowControl,
  waterMarks,
  type FlowControlLimits,
  type FlowControlState,
} from '../../../src/source/flow-control';

const limits: FlowControlLimits = {
  ...waterMarks(1000),
  maxUnreadMs: 5000,
  kafkaStallDetachMs: 20_000,
  forceReadAfterMs: 15_000,
};

const fullSync: FlowControlState = {
  attached: true,
  fullSync: true,
  readingPaused: false,
  overflowed: false,
  sessionStopped: false,
  bufferedBytes: 100,
  unreadForMs: 0,
  kafkaIdleMs: 0,
  stopping: false,
};
const stable: FlowControlState = { ...fullSync, fullSync: false };
const paused: FlowControlState = { ...fullSync, readingPaused: true, bufferedBytes: 800 };

test('water marks: pause at 3/4 of the buffer, resume at 1/2', () => {
  assert.deepEqual(waterMarks(1000), { highWaterBytes: 750, lowWaterBytes: 500, forceReadCeilingBytes: 875 });
});

test('full sync: a filling buffer pauses reading instead of letting go of the master', () => {
  assert.equal(flowControl({ ...fullSync, bufferedBytes: 749 }, limits), 'none');
  assert.equal(flowControl({ ...fullSync, bufferedBytes: 750 }, limits), 'pause');
  assert.equal(flowControl({ ...fullSync, bufferedBytes: 750, stopping: true }, limits), 'none');
});

test('full sync: reading resumes below the low-water mark', () => {
  assert.equal(flowControl({ ...paused, bufferedBytes: 501 }, limits), 'none');
  assert.equal(flowControl({ ...paused, bufferedBytes: 500 }, limits), 'resume');
});

test('full sync: a socket unread for maxUnreadMs is read again as soon as Kafka made some room', () => {
  assert.equal(flowControl({ ...paused, bufferedBytes: 749, unreadForMs: 4999 }, limits), 'none');
  assert.equal(flowControl({ ...paused, bufferedBytes: 749, unreadForMs: 5000 }, limits), 'resume');
  assert.equal(flowControl({ ...paused, bufferedBytes: 750, unreadForMs: 9000 }, limits), 'none');
});

test('full sync: a socket unread for half the master timeout is read anyway, up to 7/8 of the buffer', () => {
  assert.equal(flowControl({ ...paused, bufferedBytes: 800, unreadForMs: 14_999 }, limits), 'none');
  assert.equal(flowControl({ ...paused, bufferedBytes: 800, unreadForMs: 15_000 }, limits), 'force-read');
  assert.equal(flowControl({ ...paused, bufferedBytes: 874, unreadForMs: 16_000 }, limits), 'force-read');
  assert.equal(flowControl({ ...paused, bufferedBytes: 875, unreadForMs: 16_000 }, limits), 'none');
  // Kafka down: detach wins
  assert.equal(
    flowControl({ ...paused, unreadForMs: 20_000, kafkaIdleMs: 20_000 }, limits),
    'detach-kafka-stalled',
  );
});

test('full sync: detach only when Kafka committed nothing for kafkaStallDetachMs', () => {
  assert.equal(
    flowControl({ ...paused, bufferedBytes: 875, unreadForMs: 19_999, kafkaIdleMs: 19_999 }, limits),
    'none',
  );
  assert.equal(flowControl({ ...paused, kafkaIdleMs: 20_000 }, limits), 'detach-kafka-stalled');
});

test('stable sync: reading never pauses; a refused unit detaches; a pause left from the full sync ends', () => {
  assert.equal(flowControl({ ...stable, bufferedBytes: 999 }, limits), 'none');
  assert.equal(flowControl({ ...stable, overflowed: true }, limits), 'detach-buffer-full');
  assert.equal(flowControl({ ...stable, overflowed: true, stopping: true }, limits), 'none');
  assert.equal(flowControl({ ...paused, fullSync: false }, limits), 'resume');
});

test('re-attach only once the session stopped and everything buffered is committed', () => {
  const detached = { ...stable, attached: false, overflowed: true };
  assert.equal(flowControl({ ...detached, sessionStopped: false, bufferedBytes: 0 }, limits), 'none');
  assert.equal(flowControl({ ...detached, sessionStopped: true, bufferedBytes: 1 }, limits), 'none');
  assert.equal(flowControl({ ...detached, sessionStopped: true, bufferedBytes: 0 }, limits), 'reattach');
  assert.equal(
    flowControl({ ...detached, sessionStopped: true, bufferedBytes: 0, stopping: true }, limits),
    'none',
  );
});
