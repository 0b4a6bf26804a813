import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { FlowItem } from '../../../src/protocol/types';
import { FlowConnection, type FlowListener, type PositionedItem } from '../../../src/replica/flow';

/** A socket that only records pause()/resume(), and a parser that records what it was fed. */
class FakeSocket extends EventEmitter {
  paused = false;
  pauses = 0;
  pause(): void {
    this.paused = true;
    this.pauses++;
  }
  resume(): void {
    this.paused = false;
  }
}

interface Internals {
  socket: FakeSocket;
  parser: { feed(chunk: Buffer): FlowItem[] };
  onData(chunk: Buffer): void;
}

function flowWithFakes(readAheadBytes: number, onItems: (items: PositionedItem[]) => void = () => undefined) {
  const listener: FlowListener = {
    onItems: (_, items) => onItems(items),
    onFullSyncEnd: () => undefined,
    onFailure: (_, e) => assert.fail(e),
  };
  const flow = new FlowConnection(
    {
      flowId: 0,
      address: { host: '127.0.0.1', port: 1, tls: false, user: null, password: null },
      master: 'redis://127.0.0.1:1',
      connect: {},
      info: { masterId: 'm', syncId: 's', flowCount: 1, version: 1 },
      requestLsn: null,
      ackIntervalMs: 1000,
      readAheadBytes,
    } as unknown as ConstructorParameters<typeof FlowConnection>[0],
    listener,
  );
  const fed: number[] = [];
  const socket = new FakeSocket();
  const internals = flow as unknown as Internals;
  internals.socket = socket;
  internals.parser = {
    feed(chunk: Buffer): FlowItem[] {
      fed.push(chunk.length);
      return [{ kind: 'aux', key: 'k', value: chunk }];
    },
  };
  return { flow, socket, fed, data: (n: number) => internals.onData(Buffer.alloc(n)) };
}

test('read-ahead: while paused the socket is still read into a raw queue, stopped only when it holds readAheadBytes', () => {
  const { flow, socket, fed, data } = flowWithFakes(1000);
  data(100);
  assert.deepEqual(fed, [100], 'not paused: parsed at once');
  flow.pauseReading(1_000);
  data(400);
  data(400);
  assert.equal(flow.readAheadBytes, 800);
  assert.equal(socket.paused, false, 'below the bound the socket keeps being read');
  assert.equal(flow.unreadForMs(9_000), 0);
  data(400);
  assert.equal(flow.readAheadBytes, 1200);
  assert.equal(socket.paused, true, 'the raw queue is full: the socket stops');
  assert.equal(socket.pauses, 1);
  assert.deepEqual(fed, [100], 'nothing parsed while paused');
  const stoppedAt = Date.now();
  assert.ok(flow.unreadForMs(stoppedAt + 5_000) >= 4_900);

  // resume: everything queued is parsed in order, then the socket is read again
  flow.resumeReading();
  assert.deepEqual(fed, [100, 400, 400, 400]);
  assert.equal(flow.readAheadBytes, 0);
  assert.equal(socket.paused, false);
  assert.equal(flow.unreadForMs(Date.now() + 60_000), 0);
  data(50);
  assert.deepEqual(fed, [100, 400, 400, 400, 50]);
});

test('read-ahead: a resume parses at the owner’s pace (stops when paused again) and reads the socket again', () => {
  let pauseOnItems = false;
  const ref: { flow: FlowConnection | null } = { flow: null };
  const { flow, socket, fed, data } = flowWithFakes(1000, () => {
    if (pauseOnItems) ref.flow!.pauseReading(Date.now());
  });
  ref.flow = flow;
  flow.pauseReading(Date.now());
  for (let i = 0; i < 4; i++) data(300);
  assert.equal(socket.paused, true);
  pauseOnItems = true;
  flow.resumeReading();
  assert.deepEqual(fed, [300], 'one chunk parsed, then the owner paused again');
  assert.equal(flow.readAheadBytes, 900);
  assert.equal(socket.paused, false, 'below the bound again: the socket is read');
  assert.equal(flow.unreadForMs(Date.now() + 10_000), 0);
});

test('read-ahead: a forced read parses some queued bytes while still paused and frees the socket', () => {
  const { flow, socket, fed, data } = flowWithFakes(64 * 1024);
  flow.pauseReading(Date.now());
  data(40 * 1024);
  data(40 * 1024);
  assert.equal(socket.paused, true);
  const parsed = flow.forceRead(() => false);
  // pieces of 16 KiB at most, until the queue is below its bound (more() says no more)
  assert.deepEqual(fed, [16 * 1024, 16 * 1024]);
  assert.equal(parsed, 32 * 1024);
  assert.equal(flow.readAheadBytes, 48 * 1024);
  assert.equal(socket.paused, false);
  // below the bound: one piece at least, more while more() says so
  let budget = 2;
  assert.equal(
    flow.forceRead(() => --budget > 0),
    24 * 1024, // the 8 KiB left of the first chunk, then 16 KiB of the second
  );
  assert.equal(flow.readAheadBytes, 24 * 1024);
  assert.equal(flow.readingPaused, true, 'a forced read does not resume reading');
  data(10);
  assert.equal(flow.readAheadBytes, 24 * 1024 + 10, 'still paused: new bytes are queued');
});
