import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureDirection, CaptureRecord } from '../../../src/capture/dfcap';
import {
  CaptureSessionError,
  readCaptureSessions,
  splitSessions,
  type TimedReply,
} from '../../../src/capture/session';
import { RespError } from '../../../src/protocol/resp';
import { findFixture } from '../../support/fixtures';

const MASTER = 'a'.repeat(40);
const TOKEN = (n: number) => String(n).repeat(40);

class Recorder {
  readonly records: CaptureRecord[] = [];
  private micros = 0;

  open(connection: number): this {
    return this.add(CaptureDirection.Opened, connection, '');
  }
  send(connection: number, text: string | Buffer): this {
    return this.add(CaptureDirection.ReplicaToMaster, connection, text);
  }
  reply(connection: number, text: string | Buffer): this {
    return this.add(CaptureDirection.MasterToReplica, connection, text);
  }
  private add(direction: CaptureDirection, connection: number, payload: string | Buffer): this {
    this.micros += 10;
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
    this.records.push({ direction, connection, micros: this.micros, payload: bytes });
    return this;
  }
}

/** The RESP2 kind of a recorded reply (simple string, error, integer, bulk, array), null when none. */
function replyKind(reply: TimedReply | null): string | null {
  if (!reply) return null;
  const v = reply.value;
  if (typeof v === 'string') return 'simple';
  if (v instanceof RespError) return 'error';
  if (typeof v === 'number' || typeof v === 'bigint') return 'integer';
  if (Array.isArray(v)) return 'array';
  return 'bulk';
}

function capaReply(sync: string, flows: number): string {
  return `*5\r\n+${MASTER}\r\n+${sync}\r\n:${flows}\r\n:5\r\n+${MASTER}\r\n`;
}

test('one session: AUTH, RESP-array commands, replies split anywhere, stream bytes sharing a read with the FLOW reply', () => {
  const r = new Recorder().open(0);
  r.send(0, '*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n').reply(0, '+O').reply(0, 'K\r\n');
  r.send(0, 'REPLCONF capa dragonfly\r\n');
  const capa = capaReply('SYNC1', 2);
  r.reply(0, capa.slice(0, 20)).reply(0, capa.slice(20));
  r.open(1).send(1, 'AUTH s3cret\r\n').reply(1, '+OK\r\n');
  r.send(1, `DFLY FLOW ${MASTER} SYNC1 1\r\n`)
    .reply(1, `*2\r\n+FULL\r\n+${TOKEN(1)}\r\nREDIS`)
    .reply(1, '0009');
  r.open(2)
    .send(2, `DFLY FLOW ${MASTER} SYNC1 0\r\n`)
    .reply(2, '*2\r\n+FU')
    .reply(2, `LL\r\n+${TOKEN(0)}\r\n`);
  r.reply(2, 'REDIS0009');
  r.send(0, 'DFLY SYNC SYNC1\r\n').reply(0, '+OK\r\n');
  r.send(1, 'REPLCONF ACK 1\r\nREPLCONF ACK 2\r\n');

  const [session, ...rest] = splitSessions(r.records);
  assert.equal(rest.length, 0);
  assert.ok(session);
  assert.deepEqual(
    {
      sync: session.syncId,
      master: session.masterId,
      flows: session.flowCount,
      version: session.masterVersion,
    },
    { sync: 'SYNC1', master: MASTER, flows: 2, version: 5 },
  );
  assert.equal(session.kind, 'full');
  assert.deepEqual(
    session.main.exchanges.map((e) => [e.command.args.join(' '), replyKind(e.reply)]),
    [
      ['AUTH s3cret', 'simple'],
      ['REPLCONF capa dragonfly', 'array'],
      ['DFLY SYNC SYNC1', 'simple'],
    ],
  );
  const [f0, f1] = session.flows;
  assert.deepEqual(
    [f0!.flowId, f0!.connection, f0!.reply, Buffer.concat(f0!.stream.map((c) => c.bytes)).toString()],
    [0, 2, { mode: 'FULL', eofToken: TOKEN(0) }, 'REDIS0009'],
  );
  assert.deepEqual(
    f1!.stream.map((c) => c.bytes.toString()),
    ['REDIS', '0009'],
  );
  assert.deepEqual(
    f1!.handshake.map((e) => e.command.args[0]!.toString()),
    ['AUTH', 'DFLY'],
  );
  assert.deepEqual(
    f1!.replicaCommands.map((c) => c.args.join(' ')),
    ['REPLCONF ACK 1', 'REPLCONF ACK 2'],
  );
  assert.equal(f1!.stream[1]!.recordIndex > f1!.stream[0]!.recordIndex, true);
});

test('a second main connection opens a partial session; flows asking for LSNs, and a refused one', () => {
  const r = new Recorder().open(0).send(0, 'REPLCONF capa dragonfly\r\n').reply(0, capaReply('SYNC1', 1));
  r.open(1)
    .send(1, `DFLY FLOW ${MASTER} SYNC1 0\r\n`)
    .reply(1, `*2\r\n+FULL\r\n+${TOKEN(0)}\r\n`);
  r.open(2).send(2, 'REPLCONF capa dragonfly\r\n').reply(2, capaReply('SYNC2', 1));
  r.open(3)
    .send(3, `DFLY FLOW ${MASTER} SYNC2 0 505\r\n`)
    .reply(3, `*2\r\n+PARTIAL\r\n+${TOKEN(1)}\r\n\x06\x00`);
  r.open(4).send(4, 'REPLCONF capa dragonfly\r\n').reply(4, capaReply('SYNC3', 1));
  r.open(5).send(5, `DFLY FLOW ${MASTER} SYNC3 0 ${MASTER} 1-x\r\n`);
  assert.throws(() => splitSessions(r.records), CaptureSessionError);
  r.records.pop();
  r.open(5).send(5, `DFLY FLOW ${MASTER} SYNC3 0\r\n`).reply(5, '-ERR invalid state\r\n');
  const sessions = splitSessions(r.records);
  assert.deepEqual(
    sessions.map((s) => [s.syncId, s.kind, s.flows[0]!.requestedLsn]),
    [
      ['SYNC1', 'full', null],
      ['SYNC2', 'partial', 505],
      ['SYNC3', 'unusable', null],
    ],
  );
  assert.deepEqual(sessions[2]!.flows[0]!.reply, { mode: 'error', message: 'ERR invalid state' });
});

test('a FLOW for a session no main connection opened is an error', () => {
  const r = new Recorder().open(0).send(0, `DFLY FLOW ${MASTER} SYNC7 0\r\n`);
  assert.throws(() => splitSessions(r.records), /SYNC7.*no main connection/);
});

test('fixture reconnect: a full session, then a partial one from where each flow had got to', () => {
  const { sessions } = readCaptureSessions(findFixture('dragonfly-v1.40.1/reconnect').capturePath);
  assert.deepEqual(
    sessions.map((s) => [s.syncId, s.kind, s.flows.map((f) => f.requestedLsn)]),
    [
      ['SYNC1', 'full', [null, null, null, null]],
      ['SYNC2', 'partial', [472, 505, 473, 546]],
    ],
  );
  for (const flow of sessions[0]!.flows) {
    assert.equal(flow.stream[0]!.bytes.subarray(0, 9).toString(), 'REDIS0009');
    const lastAck = flow.replicaCommands[flow.replicaCommands.length - 1]!.args[2]!.toString();
    const resumed = sessions[1]!.flows.find((f) => f.flowId === flow.flowId)!;
    // the reset came before the second ACK round: the replica resumes past its last ACK (1)
    assert.ok(resumed.requestedLsn! > Number(lastAck), `flow ${flow.flowId} resumes after its last ACK`);
  }
});

test('fixture auth: AUTH precedes DFLY FLOW on every flow', () => {
  const [session] = readCaptureSessions(findFixture('dragonfly-v1.40.1/auth').capturePath).sessions;
  assert.equal(session!.main.exchanges[0]!.command.args.join(' '), 'AUTH s3cret');
  for (const flow of session!.flows) {
    assert.deepEqual(
      flow.handshake.map((e) => [e.command.args[0]!.toString(), replyKind(e.reply)]),
      [
        ['AUTH', 'simple'],
        ['DFLY', 'array'],
      ],
    );
  }
});
