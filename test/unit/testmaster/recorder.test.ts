import { test } from 'node:test';
import assert from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureRecorder } from '../../../src/capture/recorder';
import { commandText } from '../../../src/protocol/resp-commands';
import { readCaptureSessions, type CaptureSession } from '../../../src/capture/session';
import { recordReplication } from '../../../src/cli/commands/capture-record';
import { encodeReply } from '../../../src/testmaster/reply';
import { startReplayMaster } from '../../support/test-master';
import { findFixture } from '../../support/fixtures';
import { RawClient } from './raw-client';

const fixture = (): CaptureSession =>
  readCaptureSessions(findFixture('dragonfly-v1.40.1/types').capturePath).sessions[0]!;

const masterBytes = (session: CaptureSession): { main: Buffer; flows: Buffer[] } => ({
  main: Buffer.concat(session.main.exchanges.filter((e) => e.reply).map((e) => encodeReply(e.reply!.value))),
  flows: session.flows.map((f) =>
    Buffer.concat([encodeReply(f.handshake.at(-1)!.reply!.value), ...f.stream.map((c) => c.bytes)]),
  ),
});

function assertSameMasterBytes(recorded: CaptureSession, original: CaptureSession): void {
  const got = masterBytes(recorded);
  const want = masterBytes(original);
  assert.ok(got.main.equals(want.main), 'main connection: the same replies');
  assert.deepStrictEqual(
    recorded.flows.map((f) => f.flowId),
    original.flows.map((f) => f.flowId),
  );
  got.flows.forEach((bytes, i) => assert.ok(bytes.equals(want.flows[i]!), `flow ${i}: the same bytes`));
}

test('the recording proxy writes every byte both ways: a raw replica in front of the types replay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfcap-'));
  const replay = await startReplayMaster('dragonfly-v1.40.1/types');
  const out = join(dir, 'raw.dfcap.gz');
  const recorder = new CaptureRecorder({ upstream: { host: '127.0.0.1', port: replay.port }, out });
  try {
    const { port } = await recorder.start();
    const original = fixture();
    const main = await RawClient.connect(port);
    const handshake = original.main.exchanges.slice(0, 6);
    for (const e of handshake)
      await main.call(commandText(e.command.args), encodeReply(e.reply!.value).toString('latin1'));
    const flows: RawClient[] = [];
    for (const f of original.flows) {
      flows.push(await RawClient.connect(port));
      await flows.at(-1)!.call(commandText(f.handshake[0]!.command.args), '\r\n');
    }
    await main.call('DFLY SYNC SYNC1', '+OK\r\n');
    await main.call('DFLY STARTSTABLE SYNC1', '+OK\r\n');
    await replay.master.sessionServed(0);
    const total = original.flows.reduce((n, f) => n + f.stream.reduce((m, c) => m + c.bytes.length, 0), 0);
    await main.until(
      'all flow bytes through the proxy',
      () => flows.reduce((n, c) => n + c.received.length, 0) >= total,
    );
    for (const c of [main, ...flows]) c.socket.end();
    await Promise.all([main, ...flows].map((c) => c.closedByPeer()));
    await recorder.stop();
    assert.strictEqual(readFileSync(out)[0], 0x1f, 'gzip, as the name says');
    const { records, sessions } = readCaptureSessions(out);
    assert.strictEqual(sessions.length, 1);
    assertSameMasterBytes(sessions[0]!, original);
    assert.strictEqual(records.filter((r) => r.direction === 2).length, 5, 'five connections opened');
    assert.strictEqual(records.filter((r) => r.direction === 3).length, 5, 'and closed');
    assert.deepStrictEqual(replay.master.mismatches, []);
  } finally {
    await replay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('capture record: our replica against the types replay gives a session with the fixture master bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfcap-'));
  const replay = await startReplayMaster('dragonfly-v1.40.1/types');
  const out = join(dir, 'replica.dfcap');
  const log: string[] = [];
  try {
    const stop = new AbortController();
    const recording = recordReplication({
      dragonflyUrl: replay.url,
      out,
      durationMs: 10000,
      stop: stop.signal,
      log: (l) => log.push(l),
    });
    await replay.master.sessionServed(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop.abort();
    const result = await recording;
    assert.strictEqual(result.connections, 5, log.join('\n'));
    const { sessions } = readCaptureSessions(out);
    assert.strictEqual(sessions.length, 1);
    // our replica also asks INFO server (the release for the first events), answered off the recording
    const main = sessions[0]!.main;
    const isInfo = (e: (typeof main.exchanges)[number]): boolean =>
      commandText(e.command.args).toUpperCase().startsWith('INFO');
    const info = main.exchanges.filter(isInfo);
    assert.strictEqual(info.length, 1, 'one INFO server');
    assert.match(String(info[0]!.reply?.value), /dragonfly_version:df-v1\.40\.1/);
    const withoutInfo = {
      ...sessions[0]!,
      main: { ...main, exchanges: main.exchanges.filter((e) => !isInfo(e)) },
    };
    assertSameMasterBytes(withoutInfo, fixture());
    assert.deepStrictEqual(replay.master.mismatches, [], 'our replica sent what the real one sent');
    assert.ok(
      log.some((l) => l.includes('SYNC1: stable sync')),
      log.join('\n'),
    );
  } finally {
    await replay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
