import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDatasets } from '../../src/reference-dataset/expected-json';
import type { MasterScript, ScriptCommand } from '../../src/testmaster/script';
import { kafkaBrokers } from '../support/env';
import { startSourceProcess } from '../support/source-process';
import { startScriptedMaster } from '../support/test-master';
import { datasetFromTopic, keyProblems, readTopic, scriptedDataset, uniqueName } from './source-helpers';
import { seededRandom } from '../support/fuzz';

/**
 * (b) The source process killed with SIGKILL at random points, during the snapshot and during the
 * journal, against a master that keeps writing: after every restart the topic still has each flow's
 * records exactly once (read-committed), partial sync is used while the master's backlog holds the
 * position, and a new epoch starts when it does not.
 */

const FLOWS = 4;
const BACKLOG = 3000;
const KILLS = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test(
  '(b) kill -9 during snapshot and journal: no gap, no duplicate; partial sync while the backlog lasts',
  { timeout: 240_000 },
  async () => {
    const random = seededRandom(20261122);
    const script: MasterScript = {
      flowCount: FLOWS,
      backlogLen: BACKLOG,
      dataset: Array.from({ length: FLOWS }, (_, flow) =>
        Array.from({ length: 4000 }, (_, i) => ({
          key: `f${flow}:init:${i}`,
          value: { type: 'string' as const, value: 'v'.repeat(200) },
        })),
      ),
    };
    const master = await startScriptedMaster(script);
    const journaled: ScriptCommand[][] = Array.from({ length: FLOWS }, () => []);
    let n = 0;
    const write = (flow: number): void => {
      const command = { args: ['SET', `f${flow}:k${n % 500}`, String(n++)] };
      journaled[flow]!.push(command);
      master.master.write(flow, command);
    };
    const writer = setInterval(() => {
      for (let i = 0; i < 8; i++) write(Math.floor(random() * FLOWS));
    }, 10);
    const topic = uniqueName('crash');
    let snapshotKills = 0;
    let journalKills = 0;
    let lastFullKilledInSnapshot = false;
    const sourceId = uniqueName('crash-src');
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const source = startSourceProcess(master.url, topic, sourceId);
        const sync = await source.logged('full sync of', 'partial sync of');
        // full syncs alternate: killed inside the snapshot, then killed after it in the journal
        if (sync === 'full sync of' && !lastFullKilledInSnapshot) {
          lastFullKilledInSnapshot = true;
          await sleep(Math.floor(random() * 150));
          snapshotKills++;
        } else {
          if (sync === 'full sync of') lastFullKilledInSnapshot = false;
          await source.logged('snapshot of epoch');
          await sleep(Math.floor(random() * 1500));
          journalKills++;
        }
        source.child.kill('SIGKILL');
        await source.exited;
        if (kill === 3 || kill === 6) {
          // while the source is down the backlog overflows on flow 0: the next start needs a new epoch
          for (let i = 0; i < BACKLOG + 50; i++) write(0);
        }
      }
      const last = startSourceProcess(master.url, topic, sourceId);
      await last.logged('stable sync on all');
      clearInterval(writer);
      await sleep(2000);
      last.child.kill('SIGTERM');
      assert.equal(await last.exited, 0);
    } finally {
      clearInterval(writer);
      await master.stop();
    }

    assert.ok(
      snapshotKills >= 3 && journalKills >= 3,
      `${snapshotKills} kills in snapshots, ${journalKills} in journals`,
    );
    const partitions = await readTopic(kafkaBrokers(), topic);
    assert.deepEqual(keyProblems(partitions, true).slice(0, 10), []);
    const sessions = master.master.sessions.filter(
      (s) => s.modes.length === FLOWS && s.modes.every((m) => m !== undefined),
    );
    const partial = sessions.filter((s) => s.modes.every((m) => m === 'PARTIAL')).length;
    const full = sessions.filter((s) => s.modes.every((m) => m === 'FULL')).length;
    assert.ok(partial >= 3, `partial syncs: ${partial} of ${sessions.length}`);
    const starts = partitions[0]!
      .filter((e) => e.event.payload.type === 'SnapshotStarted')
      .map((e) => e.event.payload);
    assert.ok(starts.length >= 3 && starts.length <= full, `${starts.length} epochs for ${full} full syncs`);
    assert.ok(
      starts.some((p) => p.type === 'SnapshotStarted' && p.reason === 'RESYNC_STALE_POSITION'),
      `a new epoch after the backlog overflowed: ${JSON.stringify(starts)}`,
    );
    const nowMs = Date.now();
    const diffs = compareDatasets(
      datasetFromTopic(partitions, () => nowMs, nowMs),
      scriptedDataset(script, journaled, nowMs),
      nowMs,
    );
    assert.deepEqual(diffs.slice(0, 10), [], `${diffs.length} differences`);
  },
);
