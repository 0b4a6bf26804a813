import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FlowConnection } from '../../../src/replica/flow';
import { parseMasterUrl } from '../../../src/replica/master-address';
import { ReplicaSession } from '../../../src/replica/session';
import type { ScriptedMaster } from '../../../src/testmaster/scripted-master';
import { replicaOptions } from '../../support/replica-harness';
import { startScriptedMaster, type RunningTestMaster } from '../../support/test-master';

/**
 * A stop must close every connection, also the ones whose connect was still under way when the stop
 * began (their socket appears only after the teardown ran): left open, they keep the process alive and
 * the master keeps a replica that nobody reads.
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function openConnections(m: RunningTestMaster<ScriptedMaster>): Promise<number> {
  // the connect completes after the stop; let the late handshake run and the close arrive
  await sleep(300);
  return m.master.connections.filter((c) => c.isOpen).length;
}

test('a session stopped while its main connection is connecting closes it once it connects', async () => {
  const m = await startScriptedMaster({ flowCount: 2 });
  try {
    const session = new ReplicaSession(replicaOptions(m.url), {
      onSyncStart: () => undefined,
      onItems: () => undefined,
      onStable: () => undefined,
      onError: () => undefined,
    });
    session.start();
    await session.stop();
    assert.equal(await openConnections(m), 0, 'no connection of the stopped session left open');
  } finally {
    await m.stop();
  }
});

test('a flow closed while it is connecting closes its socket once it connects', async () => {
  const m = await startScriptedMaster({ flowCount: 1 });
  try {
    const address = parseMasterUrl(m.url, { user: null, password: null });
    const flow = new FlowConnection(
      {
        flowId: 0,
        address,
        master: m.url,
        connect: { connectTimeoutMs: 2000, keepAliveMs: 1000 },
        info: {
          masterId: m.master.masterId,
          syncId: 'SYNC1',
          flowCount: 1,
          version: 5,
          lineageId: null,
          dragonflyVersion: null,
        },
        requestLsn: null,
        ackIntervalMs: 1000,
      },
      { onItems: () => undefined, onFullSyncEnd: () => undefined, onFailure: () => undefined },
    );
    const opening = flow.open();
    await flow.close(Date.now() + 1000);
    await opening.catch(() => undefined);
    assert.equal(await openConnections(m), 0, 'the flow socket was closed');
  } finally {
    await m.stop();
  }
});
