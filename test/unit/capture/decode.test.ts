import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CaptureDecodeError,
  captureStartMs,
  decodeSessions,
  FlowParserFactory,
} from '../../../src/capture/decode';
import type { CaptureFlow, CaptureSession } from '../../../src/capture/session';
import { toExpectedJson } from '../../../src/reference-dataset/expected-json';
import type { FlowItem } from '../../../src/protocol/types';
import { decodeDumpPayload } from '../../../src/protocol/rdb/dump';

/**
 * decodeSessions with a scripted parser: each stream chunk's bytes name the items it yields, so the
 * session logic (wipe on full sync, continue on partial, skip unusable, restart) is tested on its own.
 */

const SCRIPT = new Map<string, FlowItem[]>();
let nextId = 0;

function chunkFor(items: FlowItem[]): Buffer {
  const id = `c${nextId++}`;
  SCRIPT.set(id, items);
  return Buffer.from(id);
}

const scripted: FlowParserFactory = () => ({
  feed: (chunk) => SCRIPT.get(chunk.toString()) ?? [],
  end: () => [],
});

const command = (text: string, inSnapshot = false): FlowItem => ({
  kind: 'journal',
  inSnapshot,
  record: { op: 'command', db: 0, txid: 7, shardCount: 1, args: text.split(' ').map((a) => Buffer.from(a)) },
});

function session(syncId: string, kind: CaptureSession['kind'], flows: FlowItem[][]): CaptureSession {
  const mode = kind === 'partial' ? 'PARTIAL' : 'FULL';
  return {
    syncId,
    masterId: 'm',
    flowCount: flows.length,
    masterVersion: 5,
    lineageId: null,
    kind,
    main: { connection: 0, exchanges: [], closedMicros: null },
    flows: flows.map((items, flowId): CaptureFlow => ({
      flowId,
      connection: flowId + 1,
      requestedLsn: null,
      failover: null,
      handshake: [],
      reply: { mode, eofToken: 't'.repeat(40) },
      stream: [{ bytes: chunkFor(items), micros: 2_000_000, recordIndex: 0 }],
      replicaCommands: [],
      closedMicros: null,
    })),
  };
}

const options = { createParser: scripted, decodeDump: decodeDumpPayload, startMs: 1_000 };
const keysOf = (sessions: CaptureSession[]) =>
  Object.keys(toExpectedJson(decodeSessions(sessions, options).dataset, 0)['0'] ?? {}).sort();

test('a full sync starts from an empty dataset; a partial sync continues it; unusable sessions are skipped', () => {
  const first = session('SYNC1', 'full', [[command('SET a 1')], [command('SET b 1')]]);
  const partial = session('SYNC2', 'partial', [[command('SET c 1')], []]);
  const refused = session('SYNC3', 'unusable', [[command('SET nope 1')], []]);
  const again = session('SYNC4', 'full', [[command('SET d 1')], []]);
  assert.deepEqual(keysOf([first, partial, refused]), ['a', 'b', 'c']);
  assert.deepEqual(keysOf([first, partial, refused, again]), ['d']);
  const { outcomes } = decodeSessions([first, refused], options);
  assert.deepEqual(
    outcomes.map((o) => o.result),
    ['applied', 'skipped'],
  );
});

test('a FLUSH in a JOURNAL_BLOB restarts: the next full sync counts; a capture ending there is an error', () => {
  const aborted = session('SYNC1', 'full', [
    [command('SET a 1'), command('FLUSHALL', true)],
    [command('FLUSHALL', true)],
  ]);
  const redo = session('SYNC2', 'full', [[command('SET b 1')], []]);
  const { outcomes } = decodeSessions([aborted, redo], options);
  assert.deepEqual(
    outcomes.map((o) => [o.syncId, o.result]),
    [
      ['SYNC1', 'restarted'],
      ['SYNC2', 'applied'],
    ],
  );
  assert.deepEqual(keysOf([aborted, redo]), ['b']);
  assert.throws(() => decodeSessions([aborted], options), CaptureDecodeError);
  assert.throws(() => decodeSessions([], options), /no usable replication session/);
});

test('relative TTLs are evaluated at start + chunk time; the start comes from AUX ctime + 0.5 s', () => {
  const s = session('SYNC1', 'full', [
    [{ kind: 'aux', key: 'ctime', value: Buffer.from('1000') }, command('SADDEX s 10 m')],
  ]);
  const start = captureStartMs([s], scripted);
  assert.equal(start, 1_000_500 - 2_000);
  const { dataset } = decodeSessions([s], { ...options, startMs: start! });
  assert.deepEqual(toExpectedJson(dataset, 0)['0']!.s!.memberExpireAtMs, { m: 1_000_500 + 10_000 });
});

test('a session error names the session and flow', () => {
  const bad = session('SYNC1', 'full', [[], [command('LPUSH a x'), command('INCR a')]]);
  assert.throws(
    () => decodeSessions([bad], options),
    /^CommandError: session SYNC1: flow 1, item 1: INCR: WRONGTYPE/,
  );
});
