import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureStartMs } from '../../src/capture/decode';
import { readCaptureSessions } from '../../src/capture/session';
import { compareDatasets } from '../../src/model/expected-json';
import { FlowStreamParser } from '../../src/protocol/flow-parser';
import { runSource } from '../../src/source/run';
import { ReplayMaster } from '../../src/testmaster/replay-master';
import { kafkaBrokers } from '../support/env';
import { listFixtures, loadExpected, loadMeta } from '../support/fixtures';
import {
  createTopic,
  datasetFromTopic,
  keyProblems,
  payloadCounts,
  quietLogger,
  readTopic,
  sourceConfig,
  uniqueName,
} from './source-helpers';

/**
 * (a) Every recorded session, replayed by the test master at recorded speed, goes through the source
 * into a real Kafka topic; the topic read back with the .avsc files and avsc alone rebuilds exactly
 * the master's dataset (expected.json), with keys that grow strictly on every partition.
 */

for (const fixture of listFixtures().filter(
  (f) => !process.env.FIXTURE || f.name.includes(process.env.FIXTURE),
)) {
  test(`${fixture.name}: the topic rebuilds expected.json`, { timeout: 120_000 }, async () => {
    const { sessions } = readCaptureSessions(fixture.capturePath);
    const master = new ReplayMaster({ sessions, speed: 1, endGraceMs: 3000 });
    const { port } = await master.start();
    const password = /--requirepass (\S+)/.exec(loadMeta(fixture).masterFlags)?.[1];
    const topic = uniqueName('fixture');
    // created beforehand: when the recorded master cuts the connection, Kafka must already have what
    // the source received, so that it asks for the recorded partial sync
    await createTopic(kafkaBrokers(), topic, sessions[0]!.flows.length);
    const stop = new AbortController();
    const running = runSource(
      sourceConfig({
        'dragonfly-url': `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}`,
        'kafka-brokers': kafkaBrokers(),
        topic,
        'source-id': uniqueName('src'),
        'batch-linger-ms': 5,
        'batch-max-events': 5000,
        // a recording cannot serve the partial sync that follows a detach: hold the whole session
        'buffer-max-bytes': 1024 * 1024 * 1024,
        'replica-reconnect-initial-delay-ms': 100,
      }),
      quietLogger(),
      stop.signal,
    );
    try {
      await Promise.race([master.sessionServed(sessions.length - 1), running]);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      stop.abort();
      await running;
      await master.stop();
    }
    assert.deepEqual(master.mismatches, [], 'the source spoke to the master like the recorded replica');
    const partitions = await readTopic(kafkaBrokers(), topic);
    assert.deepEqual(keyProblems(partitions, false), []);
    const counts = payloadCounts(partitions);
    assert.ok((counts.SnapshotStarted ?? 0) >= 1, JSON.stringify(counts));

    const createParser = (o: { flowId: number; start: 'rdb' | 'journal'; eofToken?: string }) =>
      new FlowStreamParser(o);
    const captureMs =
      captureStartMs(sessions, createParser)! + sessions[0]!.main.exchanges[0]!.command.micros / 1000;
    const firstEventMs = partitions
      .flat()
      .reduce((min, e) => Math.min(min, e.event.source.timestampMs), Infinity);
    const nowMs = Date.now();
    const actual = datasetFromTopic(
      partitions,
      (event) => captureMs + (event.source.timestampMs - firstEventMs),
      nowMs,
    );
    const diffs = compareDatasets(actual, loadExpected(fixture), nowMs);
    assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} differences`);
  });
}
