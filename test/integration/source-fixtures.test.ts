import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureStartMs } from '../../src/capture/decode';
import { compareDatasets } from '../../src/reference-dataset/expected-json';
import { FlowStreamParser } from '../../src/protocol/flow-parser';
import { kafkaBrokers } from '../support/env';
import { listFixtures, loadExpected, loadMeta } from '../support/fixtures';
import {
  datasetFromTopic,
  keyProblems,
  payloadCounts,
  readTopic,
  replayFixtureIntoTopic,
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
    const { topic, sessions, mismatches } = await replayFixtureIntoTopic(fixture, {
      'batch-max-events': 5000,
    });
    assert.deepEqual(mismatches, [], 'the source spoke to the master like the recorded replica');
    const partitions = await readTopic(kafkaBrokers(), topic);
    assert.deepEqual(keyProblems(partitions, false), []);
    const version = loadMeta(fixture).dragonflyVersion.replace(/^df-/, '');
    const versions = new Set(partitions.flat().map((e) => e.event.source.dragonflyVersion));
    assert.deepEqual(
      [...versions],
      [version],
      'every event, the first SnapshotStarted too, names the version',
    );
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
