import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { ResumePositions } from '../../../src/replica/session';
import type { MasterScript, ScriptCommand } from '../../../src/testmaster/script';
import { startReplica, type RunningReplica } from '../../support/replica-harness';
import { startScriptedMaster } from '../../support/test-master';

const FLOWS = 2;
const RECORDS = 40;

function journal(flowId: number): ScriptCommand[] {
  return Array.from({ length: RECORDS }, (_, i) => ({ args: ['SET', `f${flowId}:k${i}`, `v${i}`] }));
}

function script(faults: MasterScript['faults'] = {}, extra: Partial<MasterScript> = {}): MasterScript {
  return {
    flowCount: FLOWS,
    dataset: Array.from({ length: FLOWS }, (_, f) =>
      Array.from({ length: 50 }, (_, i) => ({
        key: `snap:${f}:${i}`,
        value: { type: 'string', value: `s${i}` },
      })),
    ),
    journal: Array.from({ length: FLOWS }, (_, f) => journal(f)),
    faults,
    ...extra,
  } as MasterScript;
}

/** Every flow's stable LSNs, across sessions, are exactly 1..RECORDS: no gap, no duplicate. */
function assertNoGap(replica: RunningReplica, from = 1): void {
  for (let f = 0; f < FLOWS; f++) {
    const lsns = replica.stableLsns(f);
    assert.deepEqual(
      lsns,
      Array.from({ length: lsns.length }, (_, i) => from + i),
      `flow ${f}: LSNs ${lsns.join(',')}`,
    );
    assert.equal(lsns.length, RECORDS, `flow ${f}: all ${RECORDS} records arrived`);
  }
}

const snapshotKeys = (replica: RunningReplica, syncId: string): number =>
  (replica.recording.items.get(syncId) ?? []).flat().filter((p) => p.item.kind === 'entry').length;

for (const how of ['rst', 'fin'] as const) {
  test(`disconnect mid-RDB (${how}): the replica reconnects and full-syncs again`, async () => {
    const m = await startScriptedMaster(script({ disconnect: { phase: 'rdb', flowId: 1, how } }));
    const replica = startReplica(m.url);
    try {
      await replica.waitFor('stable after the reconnect', () => replica.recording.stableCount === 1);
      await replica.waitFor(
        'all records',
        () => replica.stableLsns(0).length + replica.stableLsns(1).length === 2 * RECORDS,
      );
      assert.equal(replica.recording.errors.length, 1, 'one failed attempt');
      assert.ok(replica.recording.errors[0]!.willRetry);
      assert.deepEqual(
        replica.recording.starts.map((s) => s.mode),
        ['full', 'full'],
      );
      const last = replica.recording.starts[1]!.info.syncId;
      assert.equal(snapshotKeys(replica, last), FLOWS * 50, 'the second full sync carried the whole dataset');
      assertNoGap(replica);
    } finally {
      await replica.session.stop();
      await m.stop();
    }
  });

  test(`disconnect mid-journal (${how}): the replica resumes by partial sync with no gap`, async () => {
    const m = await startScriptedMaster(script({ disconnect: { phase: 'journal', how, afterRecords: 15 } }));
    const replica = startReplica(m.url);
    try {
      await replica.waitFor(
        'all records',
        () => replica.stableLsns(0).length + replica.stableLsns(1).length === 2 * RECORDS,
      );
      assert.deepEqual(
        replica.recording.starts.map((s) => s.mode),
        ['full', 'partial'],
      );
      assert.deepEqual(m.master.sessions[1]!.modes, ['PARTIAL', 'PARTIAL']);
      assertNoGap(replica);
    } finally {
      await replica.session.stop();
      await m.stop();
    }
  });
}

test('a partial sync whose backlog is gone becomes a full sync (new snapshot), still without a gap', async () => {
  const m = await startScriptedMaster(
    script({ disconnect: { phase: 'journal', how: 'rst', afterRecords: 15 } }, { backlogLen: 4 }),
  );
  const replica = startReplica(m.url);
  try {
    await replica.waitFor('second stable', () => replica.recording.stableCount === 2);
    assert.deepEqual(
      replica.recording.starts.map((s) => [s.mode, s.reason]),
      [
        ['full', 'first-sync'],
        ['full', 'resync-stale-position'],
      ],
    );
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('mixed FULL/PARTIAL answers are refused and retried, never half-applied', async () => {
  const m = await startScriptedMaster(script({ flowReplies: ['PARTIAL', 'FULL'] }));
  const replica = startReplica(m.url);
  try {
    await replica.waitFor('a refused attempt', () => replica.recording.errors.length >= 1);
    assert.match(replica.recording.errors[0]!.error.message, /partial sync and others need a full sync/);
    assert.equal(replica.recording.starts.length, 0, 'no sync started on mixed answers');
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('mixed answers to offered positions: the retry is a full sync without positions, for stale positions', async () => {
  const m = await startScriptedMaster(
    script({ disconnect: { phase: 'journal', how: 'rst', afterRecords: 15 }, flowReplies: ['auto', 'FULL'] }),
  );
  const replica = startReplica(m.url);
  try {
    await replica.waitFor('the second full sync', () => replica.recording.starts.length === 2);
    assert.deepEqual(
      replica.recording.starts.map((s) => [s.mode, s.reason]),
      [
        ['full', 'first-sync'],
        ['full', 'resync-stale-position'],
      ],
    );
    assert.match(replica.recording.errors[1]!.error.message, /partial sync and others need a full sync/);
    const requested = m.master.sessions.map((s) => s.modes.join(','));
    assert.deepEqual(requested.slice(0, 3), ['FULL,FULL', 'PARTIAL,FULL', 'FULL,FULL']);
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('an error reply to DFLY SYNC fails the attempt with the master named, then the retry succeeds', async () => {
  const m = await startScriptedMaster(
    script({ errorReplies: [{ command: 'DFLY SYNC', reply: 'ERR invalid state', times: 1 }] }),
  );
  const replica = startReplica(m.url);
  try {
    await replica.waitFor('stable', () => replica.recording.stableCount === 1);
    const error = replica.recording.errors[0]!.error;
    assert.match(error.message, new RegExp(`master redis://127.0.0.1:${m.port}`));
    assert.match(error.message, /DFLY SYNC failed: ERR invalid state/);
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('a slow flow (bytes trickled) still completes the full sync', async () => {
  const m = await startScriptedMaster(
    script({ slowFlows: [{ flowId: 0, bytesPerWrite: 64, intervalMs: 1 }] }),
  );
  const replica = startReplica(m.url);
  try {
    await replica.waitFor(
      'all records',
      () => replica.stableLsns(0).length + replica.stableLsns(1).length === 2 * RECORDS,
    );
    assert.equal(replica.recording.errors.length, 0);
    assertNoGap(replica);
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('a stalled flow during full sync fails the attempt after the stall timeout', async () => {
  const m = await startScriptedMaster(script({ stalledFlows: [{ flowId: 1, afterBytes: 200 }] }));
  const replica = startReplica(m.url, { fullSyncStallTimeoutMs: 300 });
  try {
    await replica.waitFor('a stall error', () => replica.recording.errors.length >= 1);
    assert.match(
      replica.recording.errors[0]!.error.message,
      /full sync stalled: no data on any flow for 300 ms/,
    );
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('a master that never answers: a clear timeout, backoff, and a bounded stop', async () => {
  const m = await startScriptedMaster(script({ silent: true }));
  const replica = startReplica(m.url, {
    connect: { connectTimeoutMs: 500, keepAliveMs: 1000, replyTimeoutMs: 200 },
    reconnect: { initialDelayMs: 100, maxDelayMs: 100, maxAttempts: 0 },
  });
  try {
    await replica.waitFor('a timeout error', () => replica.recording.errors.length >= 1);
    assert.match(replica.recording.errors[0]!.error.message, /no reply to PING within 200 ms/);
  } finally {
    const started = Date.now();
    await replica.session.stop();
    assert.ok(Date.now() - started < 1500, `stop took ${Date.now() - started} ms`);
    await m.stop();
  }
});

test('a plain Redis is refused as not a Dragonfly master, without hammering it', async () => {
  const m = await startScriptedMaster(script({ plainRedis: true }));
  const replica = startReplica(m.url, {
    reconnect: { initialDelayMs: 200, maxDelayMs: 400, maxAttempts: 0 },
  });
  try {
    await replica.waitFor('an error', () => replica.recording.errors.length >= 1);
    await new Promise((r) => setTimeout(r, 1000));
    const error = replica.recording.errors[0]!.error;
    assert.match(error.message, /not a Dragonfly master: REPLCONF capa dragonfly answered "OK"/);
    assert.ok(replica.recording.errors.length <= 5, `${replica.recording.errors.length} attempts in ~1 s`);
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('a wrong password is reported as an authentication failure naming the master', async () => {
  const m = await startScriptedMaster(script({}, { password: 'right' }));
  const replica = startReplica(m.url.replace(':right@', ':wrong@'));
  try {
    await replica.waitFor('an error', () => replica.recording.errors.length >= 1);
    const error = replica.recording.errors[0]!.error;
    assert.match(
      error.message,
      new RegExp(`master redis://127.0.0.1:${m.port}: authentication failed: WRONGPASS`),
    );
    assert.doesNotMatch(error.message, /wrong/, 'the password is never printed');
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('an unknown (newer) master version is served with CLIENT-VERSION capped at 5', async () => {
  const m = await startScriptedMaster(script({}, { version: 9 }));
  const replica = startReplica(m.url);
  try {
    await replica.waitFor('stable', () => replica.recording.stableCount === 1);
    const sent = m.master.connections[0]!.commands.map((c) => c.args.map((a) => a.toString()).join(' '));
    assert.ok(sent.includes('REPLCONF CLIENT-VERSION 5'), sent.join(' | '));
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('stop: ACKs stop, then every connection is closed with FIN (not RST), within the bound', async () => {
  const m = await startScriptedMaster(script());
  const replica = startReplica(m.url);
  await replica.waitFor(
    'all records',
    () => replica.stableLsns(0).length + replica.stableLsns(1).length === 2 * RECORDS,
  );
  await new Promise((r) => setTimeout(r, 120));
  const acksBefore = [0, 1].map((f) => m.master.ackValues(f).length);
  const started = Date.now();
  await replica.session.stop();
  assert.ok(Date.now() - started < 1000);
  const closes = await Promise.all(m.master.connections.map((c) => c.closed));
  assert.deepEqual(
    closes,
    closes.map(() => 'fin'),
  );
  assert.deepEqual(
    [0, 1].map((f) => m.master.ackValues(f).length),
    acksBefore,
    'no ACK after stop began',
  );
  assert.deepEqual(
    [0, 1].map((f) => m.master.ackValues(f).at(-1)),
    [RECORDS + 1, RECORDS + 1],
  );
  await m.stop();
});

test('an idle journal stream never times out (the stall timeout applies to full sync only)', async () => {
  const m = await startScriptedMaster(script());
  const replica = startReplica(m.url, { fullSyncStallTimeoutMs: 100 });
  try {
    await replica.waitFor('stable', () => replica.recording.stableCount === 1);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(replica.recording.errors.length, 0);
    assert.equal(replica.session.state, 'stable');
    m.master.write(0, { args: ['SET', 'late', '1'] });
    await replica.waitFor('the late record', () => replica.stableLsns(0).length === RECORDS + 1);
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('a FLUSHALL inside a JOURNAL_BLOB during full sync restarts the full sync (spec 3.7)', async () => {
  const m = await startScriptedMaster(
    script({}, { fullSyncJournal: [[{ args: ['FLUSHALL'], txid: 9 }], [{ args: ['FLUSHALL'], txid: 9 }]] }),
  );
  const replica = startReplica(m.url);
  try {
    await replica.waitFor('a restart', () => replica.recording.errors.length >= 1);
    assert.match(replica.recording.errors[0]!.error.message, /a FLUSH arrived during the full sync/);
    assert.ok(replica.recording.starts.length >= 1);
    assert.ok(replica.recording.starts.every((s) => s.mode === 'full'));
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('resume positions are asked at reconnect time, so positions that became durable meanwhile give a partial sync', async () => {
  const m = await startScriptedMaster(
    script({ disconnect: { phase: 'journal', how: 'rst', afterRecords: 15 } }),
  );
  // until the failure is reported, what is durable downstream is an older master's position
  let durable: ResumePositions | null = { masterId: 'f'.repeat(40), nextLsns: [1, 1] };
  const replica = startReplica(m.url, {
    reconnect: { initialDelayMs: 200, maxDelayMs: 200, maxAttempts: 0 },
    resumePositions: () => durable,
  });
  try {
    await replica.waitFor('the disconnect', () => replica.recording.errors.length === 1);
    // what a downstream commit would report a moment after the failure, before the reconnect
    durable = {
      masterId: m.master.masterId,
      nextLsns: [0, 1].map((f) => replica.stableLsns(f).length + 1),
    };
    await replica.waitFor(
      'all records',
      () => replica.stableLsns(0).length + replica.stableLsns(1).length === 2 * RECORDS,
    );
    assert.deepEqual(
      replica.recording.starts.map((s) => s.mode),
      ['full', 'partial'],
    );
    assertNoGap(replica);
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});

test('with nothing durable downstream (ackPosition null) no ACK is sent', async () => {
  const m = await startScriptedMaster(script());
  const replica = startReplica(m.url, { ackPosition: () => null });
  try {
    await replica.waitFor(
      'all records',
      () => replica.stableLsns(0).length + replica.stableLsns(1).length === 2 * RECORDS,
    );
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(
      [0, 1].map((f) => m.master.ackValues(f)),
      [[], []],
    );
  } finally {
    await replica.session.stop();
    await m.stop();
  }
});
