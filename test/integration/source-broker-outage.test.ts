import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDatasets } from '../../src/reference-dataset/expected-json';
import { startKafkaBroker } from '../../src/localstack/kafka-broker';
import { sourceMetrics } from '../../src/source/metrics';
import { runSource } from '../../src/source/run';
import type { MasterScript, ScriptCommand } from '../../src/testmaster/script';
import { kafkaLibsDir } from '../support/env';
import { startScriptedMaster } from '../support/test-master';
import {
  datasetFromTopic,
  keyProblems,
  quietLogger,
  readTopic,
  scriptedDataset,
  sourceConfig,
  uniqueName,
} from './source-helpers';

/**
 * (c) The broker stops answering (SIGSTOP) for longer than the source's buffer lasts while the master
 * keeps writing: the source detaches gracefully instead of stalling the master, and once the broker
 * is back it publishes what it holds, re-attaches with a partial sync, and the topic is complete. Runs
 * against a broker of its own, so the shared one stays up.
 */

const FLOWS = 4;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

test(
  '(c) a broker outage longer than the buffer: graceful detach, recovery, complete topic',
  { timeout: 180_000 },
  async () => {
    const broker = await startKafkaBroker({ libsDir: kafkaLibsDir() });
    const script: MasterScript = {
      flowCount: FLOWS,
      dataset: Array.from({ length: FLOWS }, (_, flow) => [
        { key: `f${flow}:init`, value: { type: 'string' as const, value: 'v' } },
      ]),
    };
    const master = await startScriptedMaster(script);
    const journaled: ScriptCommand[][] = Array.from({ length: FLOWS }, () => []);
    let n = 0;
    const value = 'x'.repeat(1000);
    const writer = setInterval(() => {
      for (let flow = 0; flow < FLOWS; flow++) {
        const command = { args: ['SET', `f${flow}:k${n % 300}`, `${n++}:${value}`] };
        journaled[flow]!.push(command);
        master.master.write(flow, command);
      }
    }, 10);
    const metrics = sourceMetrics();
    const topic = uniqueName('outage');
    const stop = new AbortController();
    const running = runSource(
      sourceConfig({
        'dragonfly-url': master.url,
        'kafka-brokers': broker.brokers,
        topic,
        'source-id': uniqueName('outage-src'),
        'batch-linger-ms': 5,
        'buffer-max-bytes': 1024 * 1024,
        'kafka-max-message-bytes': 100_000,
        'replica-reconnect-initial-delay-ms': 100,
        // a transaction left open by the freeze is aborted by the broker only after this timeout:
        // with the 60 s default, recovery could outlast the wait below
        'kafka-transaction-timeout-ms': 10_000,
      }),
      quietLogger(),
      stop.signal,
    );
    let frozen = false;
    try {
      await waitFor('stable sync', () => master.master.sessions[0]?.state === 'stable', 30_000);
      await sleep(1000);
      process.kill(broker.pid, 'SIGSTOP');
      frozen = true;
      await waitFor(
        'a detach',
        async () => ((await metrics.detaches.get()).values[0]?.value ?? 0) >= 1,
        30_000,
      );
      await sleep(3000);
      process.kill(broker.pid, 'SIGCONT');
      frozen = false;
      await waitFor(
        'a later session in stable sync',
        // the backlog that built up while frozen can fill the buffer again: the source may detach
        // and come back more than once, which is fine as long as each return is a partial sync
        () => master.master.sessions.length >= 2 && master.master.sessions.at(-1)!.state === 'stable',
        60_000,
      );
      await sleep(1000);
      clearInterval(writer);
      await waitFor(
        'every journaled record committed',
        async () => {
          const committed = (await metrics.committedLsn.get()).values;
          return Array.from({ length: FLOWS }, (_, flow) => flow).every(
            (flow) =>
              committed.find((v) => v.labels.flow === String(flow))?.value === master.master.nextLsn(flow),
          );
        },
        30_000,
      );
    } finally {
      clearInterval(writer);
      if (frozen) process.kill(broker.pid, 'SIGCONT');
      stop.abort();
      await running.catch(() => undefined);
      await master.stop();
    }
    try {
      await running;
      for (const later of master.master.sessions.slice(1)) {
        assert.deepEqual(
          later.modes,
          Array(FLOWS).fill('PARTIAL'),
          `the source came back with a partial sync (session ${later.number})`,
        );
      }
      const partitions = await readTopic(broker.brokers, topic);
      assert.deepEqual(keyProblems(partitions, true).slice(0, 10), []);
      assert.equal(
        partitions.flat().filter((e) => e.event.payload.type === 'SnapshotStarted').length,
        FLOWS,
        'one epoch',
      );
      const nowMs = Date.now();
      const diffs = compareDatasets(
        datasetFromTopic(partitions, () => nowMs, nowMs),
        scriptedDataset(script, journaled, nowMs),
        nowMs,
      );
      assert.deepEqual(diffs.slice(0, 10), [], `${diffs.length} differences`);
    } finally {
      await broker.stop();
    }
  },
);
