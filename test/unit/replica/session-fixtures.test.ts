import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { readCaptureSessions, type CaptureSession } from '../../../src/capture/session';
import { FlowStreamParser } from '../../../src/protocol/flow-parser';
import type { FlowItem } from '../../../src/protocol/types';
import type { PositionedItem } from '../../../src/replica/flow';
import { ReplayMaster } from '../../../src/testmaster/replay-master';
import { listFixtures, loadMeta } from '../../support/fixtures';
import { startReplica } from '../../support/replica-harness';

/** The items of each recorded flow stream, parsed directly (what the session must deliver). */
function recordedItems(session: CaptureSession): FlowItem[][] {
  return session.flows.map((flow) => {
    if (!flow.reply || flow.reply.mode === 'error') return [];
    const parser = new FlowStreamParser({
      flowId: flow.flowId,
      start: flow.reply.mode === 'FULL' ? 'rdb' : 'journal',
      eofToken: flow.reply.eofToken,
    });
    const items = flow.stream.flatMap((c) => parser.feed(c.bytes));
    return [...items, ...parser.end()];
  });
}

function passwordOf(session: CaptureSession): string | null {
  const auth = session.main.exchanges.find((e) => e.command.args[0]?.toString().toUpperCase() === 'AUTH');
  return auth ? auth.command.args[auth.command.args.length - 1]!.toString() : null;
}

/** Expected LSN of every stable record: JOURNAL_OFFSET (or the requested LSN) counting up (spec 5.2). */
function expectedLsns(items: FlowItem[], start: number | null): (number | null)[] {
  let next = start;
  return items.map((item) => {
    if (item.kind === 'journalOffset') next = item.lsn;
    if (item.kind !== 'journal' || item.inSnapshot) return null;
    return next!++;
  });
}

for (const fixture of listFixtures()) {
  test(`replica session against the recorded ${fixture.name} master`, async () => {
    const { sessions } = readCaptureSessions(fixture.capturePath);
    const usable = sessions.filter((s) => s.kind !== 'unusable');
    const dragonflyVersion = loadMeta(fixture).dragonflyVersion;
    const master = new ReplayMaster({ sessions, endGraceMs: 100, dragonflyVersion });
    const { port } = await master.start();
    const password = passwordOf(sessions[0]!);
    const auth = password === null ? '' : `:${encodeURIComponent(password)}@`;
    const replica = startReplica(`redis://${auth}127.0.0.1:${port}`, {
      reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 5 },
    });
    try {
      for (const s of usable) {
        const index = sessions.indexOf(s);
        let served = false;
        void master.sessionServed(index).then(() => (served = true));
        await replica.waitFor(`recorded session ${s.syncId} served`, () => served, 60_000);
      }
      // let the last bytes and a couple of ACK intervals pass
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await replica.session.stop();
      await master.stop();
    }
    const { starts, items: received } = replica.recording;

    assert.deepEqual(master.mismatches, [], 'the client deviated from the recorded replica');
    assert.deepEqual(
      starts.map((s) => s.mode),
      usable.map((s) => s.kind),
      'full/partial decisions as in the recording',
    );
    for (const start of starts) {
      assert.equal(start.info.dragonflyVersion, dragonflyVersion.replace(/^df-/, ''), 'INFO server read');
    }
    for (const session of usable) {
      const got = received.get(session.syncId);
      assert.ok(got, `no items for ${session.syncId}`);
      const want = recordedItems(session);
      for (const flow of session.flows) {
        const items: PositionedItem[] = got[flow.flowId]!;
        assert.deepEqual(
          items.map((p) => p.item),
          want[flow.flowId],
          `${session.syncId} flow ${flow.flowId}: items differ from the recorded stream`,
        );
        const lsns = expectedLsns(want[flow.flowId]!, flow.requestedLsn);
        assert.deepEqual(
          items.map((p) => p.lsn),
          lsns,
          `${session.syncId} flow ${flow.flowId}: LSNs`,
        );
        if (flow.reply?.mode === 'FULL') {
          assert.equal(items.filter((p) => p.item.kind === 'rdbEnd').length, 1, 'EOF token verified once');
        }
        const acks = master.ackValues(flow.flowId, session.syncId);
        const lastLsn = lsns.filter((l) => l !== null).pop();
        assert.ok(acks.length > 0, `${session.syncId} flow ${flow.flowId}: no ACK`);
        if (lastLsn !== undefined) assert.equal(acks[acks.length - 1], lastLsn + 1, 'last ACK = next LSN');
      }
    }
  });
}
