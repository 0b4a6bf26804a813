import { test } from 'node:test';
import assert from 'node:assert';
import { readCaptureSessions, type CaptureSession } from '../../../src/capture/session';
import { commandText } from '../../../src/protocol/resp-commands';
import { encodeReply } from '../../../src/testmaster/reply';
import { ReplayMaster } from '../../../src/testmaster/replay-master';
import { findFixture } from '../../support/fixtures';
import { RawClient } from './raw-client';

function fixtureSessions(name: string): CaptureSession[] {
  return readCaptureSessions(findFixture(`dragonfly-v1.40.1/${name}`).capturePath).sessions;
}

const flowStream = (session: CaptureSession, flowId: number): Buffer =>
  Buffer.concat(session.flows.find((f) => f.flowId === flowId)!.stream.map((c) => c.bytes));

const recordedReply = (session: CaptureSession, flowId: number): Buffer =>
  encodeReply(session.flows.find((f) => f.flowId === flowId)!.handshake.at(-1)!.reply!.value);

/** Plays the recorded replica's part of one session with raw commands; returns the flow clients. */
async function playSession(
  port: number,
  session: CaptureSession,
  checks: { beforeSync?: (flows: RawClient[], replyLengths: number[]) => void } = {},
): Promise<{ main: RawClient; flows: RawClient[]; replyLengths: number[] }> {
  const main = await RawClient.connect(port);
  const handshake = session.main.exchanges.filter(
    (e) => !/^DFLY (SYNC|STARTSTABLE)/i.test(commandText(e.command.args)),
  );
  for (const e of handshake) {
    const line = commandText(e.command.args).replace(/listening-port \d+/, 'listening-port 7777');
    await main.call(line, encodeReply(e.reply!.value).toString('latin1'));
  }
  const flows: RawClient[] = [];
  const replyLengths: number[] = [];
  for (const flow of session.flows) {
    const client = await RawClient.connect(port);
    for (const e of flow.handshake) {
      await client.call(commandText(e.command.args), encodeReply(e.reply!.value).toString('latin1'));
    }
    flows[flow.flowId] = client;
    replyLengths[flow.flowId] = recordedReply(session, flow.flowId).length;
  }
  checks.beforeSync?.(flows, replyLengths);
  const phases = session.main.exchanges.filter((e) =>
    /^DFLY (SYNC|STARTSTABLE)/i.test(commandText(e.command.args)),
  );
  for (const e of phases) await main.call(commandText(e.command.args), '+OK\r\n');
  return { main, flows, replyLengths };
}

test('replays the types fixture: recorded replies, flow bytes in the recorded order, no mismatches', async () => {
  const [session] = fixtureSessions('types');
  const master = new ReplayMaster({ sessions: [session!] });
  const { port } = await master.start();
  try {
    let bytesBeforeSync = -1;
    const { main, flows, replyLengths } = await playSession(port, session!, {
      beforeSync: (flowClients, lengths) => {
        // in the recording no flow byte came before the replica's DFLY SYNC
        bytesBeforeSync = flowClients.reduce((n, c, i) => n + c.received.length - lengths[i]!, 0);
      },
    });
    assert.strictEqual(bytesBeforeSync, 0);
    await master.sessionServed(0);
    for (const flow of session!.flows) {
      const client = flows[flow.flowId]!;
      const expected = flowStream(session!, flow.flowId);
      await client.until(
        `flow ${flow.flowId} bytes`,
        () => client.received.length >= replyLengths[flow.flowId]! + expected.length,
      );
      assert.ok(
        client.received.subarray(replyLengths[flow.flowId]!).equals(expected),
        `flow ${flow.flowId} bytes`,
      );
    }
    const expectedMain = Buffer.concat(session!.main.exchanges.map((e) => encodeReply(e.reply!.value)));
    assert.ok(main.received.equals(expectedMain), 'main connection replies');
    flows[1]!.send('REPLCONF ACK 1');
    flows[1]!.send('REPLCONF ACK 106');
    await flows[1]!.until('ACKs logged', () => master.ackValues(1).length === 2);
    assert.deepStrictEqual(master.ackValues(1), [1, 106]);
    assert.deepStrictEqual(master.mismatches, []);
    assert.ok(!main.ended, 'the last session stays open');
  } finally {
    await master.stop();
  }
});

test('holds the flow bytes recorded after DFLY STARTSTABLE until the client sends it', async () => {
  const [session] = fixtureSessions('types');
  const master = new ReplayMaster({ sessions: [session!] });
  const { port } = await master.start();
  try {
    const main = await RawClient.connect(port);
    for (const e of session!.main.exchanges.slice(0, 6)) {
      await main.call(commandText(e.command.args), encodeReply(e.reply!.value).toString('latin1'));
    }
    const flows: RawClient[] = [];
    for (const flow of session!.flows) {
      flows[flow.flowId] = await RawClient.connect(port);
      await flows[flow.flowId]!.call(commandText(flow.handshake[0]!.command.args), '\r\n');
    }
    await main.call('DFLY SYNC SYNC1', '+OK\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stableIndex = session!.main.exchanges.find((e) =>
      commandText(e.command.args).startsWith('DFLY STARTSTABLE'),
    )!.command.recordIndex;
    for (const flow of session!.flows) {
      const beforeStable = flow.stream
        .filter((c) => c.recordIndex < stableIndex)
        .reduce((n, c) => n + c.bytes.length, 0);
      const got = flows[flow.flowId]!.received.length - recordedReply(session!, flow.flowId).length;
      assert.strictEqual(
        got,
        beforeStable,
        `flow ${flow.flowId} got exactly the bytes recorded before STARTSTABLE`,
      );
    }
    await main.call('DFLY STARTSTABLE SYNC1', '+OK\r\n');
    await master.sessionServed(0);
    assert.deepStrictEqual(master.mismatches, []);
  } finally {
    await master.stop();
  }
});

test('records a command the recorded replica did not send and answers it with an error', async () => {
  const [session] = fixtureSessions('types');
  const master = new ReplayMaster({ sessions: [session!] });
  const { port } = await master.start();
  try {
    const main = await RawClient.connect(port);
    await main.call('PING', '+PONG\r\n');
    await main.call('REPLCONF capa dragonfly', '-ERR test master: expected "REPLCONF listening-port 6391"');
    await main.call('REPLCONF listening-port 1234', '+OK\r\n');
    assert.strictEqual(master.mismatches.length, 1);
    assert.match(
      master.mismatches[0]!.message,
      /expected "REPLCONF listening-port 6391", got "REPLCONF capa dragonfly"/,
    );
    assert.deepStrictEqual(
      master.exchanges.map((e) => e.command),
      ['PING', 'REPLCONF capa dragonfly', 'REPLCONF listening-port 1234'],
    );
  } finally {
    await master.stop();
  }
});

test('reconnect fixture: resets the first session, then serves the partial sync only for the recorded LSNs', async () => {
  const sessions = fixtureSessions('reconnect');
  const master = new ReplayMaster({ sessions, endGraceMs: 20 });
  const { port } = await master.start();
  try {
    const first = await playSession(port, sessions[0]!);
    await master.sessionServed(0);
    await Promise.all([first.main, ...first.flows].map((c) => c.closedByPeer()));

    const second = sessions[1]!;
    const main = await RawClient.connect(port);
    for (const e of second.main.exchanges.slice(0, 6)) {
      await main.call(commandText(e.command.args), encodeReply(e.reply!.value).toString('latin1'));
    }
    const flow0 = second.flows.find((f) => f.flowId === 0)!;
    const wrong = await RawClient.connect(port);
    const args = commandText(flow0.handshake[0]!.command.args).replace(/ \d+$/, ' 1');
    await wrong.call(args, '-ERR test master: flow 0 asked for "1"');
    assert.match(master.mismatches.at(-1)!.message, /flow 0 asked for "1", the recorded replica for "472"/);
    assert.strictEqual(master.mismatches.length, 1);

    const flows: RawClient[] = [];
    for (const flow of second.flows) {
      flows[flow.flowId] = await RawClient.connect(port);
      await flows[flow.flowId]!.call(commandText(flow.handshake[0]!.command.args), '+PARTIAL\r\n');
    }
    await main.call('DFLY STARTSTABLE SYNC2', '+OK\r\n');
    await master.sessionServed(1);
    for (const flow of second.flows) {
      const client = flows[flow.flowId]!;
      const expected = flowStream(second, flow.flowId);
      const replyLength = recordedReply(second, flow.flowId).length;
      await client.until(
        `flow ${flow.flowId} bytes`,
        () => client.received.length >= replyLength + expected.length,
      );
      assert.ok(client.received.subarray(replyLength).equals(expected), `SYNC2 flow ${flow.flowId} bytes`);
    }
    assert.strictEqual(master.mismatches.length, 1);
  } finally {
    await master.stop();
  }
});
