/**
 * Replaying a topic whose source has stopped (issue 16): the source captures a scripted master into a
 * fresh topic and is stopped; only then do sinks replay the topic into fresh Redis servers. A
 * transactional topic ends in a commit (or abort) marker that no consumer receives, so nothing may
 * wait for a message at the partition's last offset. The target must equal the master key by key.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareDatasets } from '../../src/model/expected-json';
import { runSource } from '../../src/source/run';
import type { MasterScript, ScriptCommand } from '../../src/testmaster/script';
import { kafkaBrokers } from '../support/env';
import { dumpRedis } from '../support/redis-dump';
import { startScriptedMaster } from '../support/test-master';
import { CHECKPOINT_KEY, freshRedisForFile, runSinkToEnd, sinkConfig, type FreshRedis } from './sink-harness';
import { quietLogger, readTopic, scriptedDataset, sourceConfig, uniqueName } from './source-helpers';

const first = freshRedisForFile();
const second = freshRedisForFile();

const FLOWS = 2;
const SINK_TIMEOUT_MS = 90_000;

/** A master holding keys of every core type on each flow, and a journal touching some of them. */
function masterScript(tag: string): MasterScript {
  return {
    flowCount: FLOWS,
    dataset: Array.from({ length: FLOWS }, (_, flow) =>
      Array.from({ length: 300 }, (_, i) => {
        const key = `${tag}:f${flow}:${i}`;
        switch (i % 5) {
          case 0:
            return { key, value: { type: 'string' as const, value: `v${i}` } };
          case 1:
            return { key, value: { type: 'list' as const, items: ['a', 'b', `${i}`] } };
          case 2:
            return { key, value: { type: 'set' as const, members: ['x', 'y', `${i}`] } };
          case 3:
            return { key, value: { type: 'hash' as const, fields: [['f', `${i}`]] as [string, string][] } };
          default:
            return { key, value: { type: 'zset' as const, entries: [['m', i]] as [string, number][] } };
        }
      }),
    ),
    journal: Array.from({ length: FLOWS }, (_, flow) => [
      { args: ['SET', `${tag}:f${flow}:0`, 'changed'] },
      { args: ['INCR', `${tag}:counter:${flow}`] },
      { args: ['RPUSH', `${tag}:f${flow}:1`, 'c'] },
      { args: ['DEL', `${tag}:f${flow}:2`] },
      { args: ['HSET', `${tag}:f${flow}:3`, 'g', 'h'] },
    ]),
  };
}

/** Runs the source against the master until it is in stable sync with the journal published, then stops it. */
async function captureAndStop(script: MasterScript, topic: string, sourceId: string): Promise<void> {
  const master = await startScriptedMaster(script);
  const stop = new AbortController();
  const running = runSource(
    sourceConfig({
      'dragonfly-url': master.url,
      'kafka-brokers': kafkaBrokers(),
      topic,
      'source-id': sourceId,
      'batch-linger-ms': 5,
    }),
    quietLogger(),
    stop.signal,
  );
  try {
    const deadline = Date.now() + 30_000;
    while (master.master.sessions.at(-1)?.state !== 'stable') {
      if (Date.now() > deadline) throw new Error('the source did not reach stable sync within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
  } finally {
    stop.abort();
    await running;
    await master.stop();
  }
}

/** Per partition, one past the offset of its last committed event (what a sink's position reaches). */
async function lastEventEnds(topic: string): Promise<number[]> {
  const partitions = await readTopic(kafkaBrokers(), topic);
  return partitions.map((events) => (events.at(-1)?.offset ?? -1) + 1);
}

async function replay(target: FreshRedis, topic: string, ends: number[], extra: string[]): Promise<void> {
  await target.client.flushall();
  const config = sinkConfig(topic, target.url, ['--group-id', uniqueName(`${topic}-sink`), ...extra]);
  await runSinkToEnd(config, target.client, ends, SINK_TIMEOUT_MS);
}

async function assertEqualsMaster(target: FreshRedis, script: MasterScript): Promise<void> {
  const nowMs = Date.now();
  const journaled: ScriptCommand[][] = script.journal ?? [];
  const diffs = compareDatasets(
    await dumpRedis(target.client, CHECKPOINT_KEY),
    scriptedDataset(script, journaled, nowMs),
    nowMs,
  );
  assert.deepEqual(diffs.slice(0, 10), [], `${diffs.length} differences`);
}

test(
  'a stopped source’s topic replays into a fresh Redis (latest-snapshot), and into two at once',
  { timeout: 240_000 },
  async () => {
    const script = masterScript('one');
    const topic = uniqueName('stopped');
    await captureAndStop(script, topic, uniqueName('src'));
    const ends = await lastEventEnds(topic);
    await replay(first, topic, ends, ['--start-from', 'latest-snapshot']);
    await assertEqualsMaster(first, script);
    await Promise.all([
      replay(first, topic, ends, ['--start-from', 'latest-snapshot']),
      replay(second, topic, ends, ['--start-from', 'latest-snapshot']),
    ]);
    await assertEqualsMaster(first, script);
    await assertEqualsMaster(second, script);
  },
);

test('a stopped source’s topic replays with start.from=earliest', { timeout: 240_000 }, async () => {
  const script = masterScript('early');
  const topic = uniqueName('stopped-earliest');
  await captureAndStop(script, topic, uniqueName('src'));
  await replay(first, topic, await lastEventEnds(topic), ['--start-from', 'earliest']);
  await assertEqualsMaster(first, script);
});

test('a stopped topic holding two epochs: the later one is replayed', { timeout: 240_000 }, async () => {
  const older = masterScript('old');
  const newer = masterScript('new');
  const topic = uniqueName('stopped-two-epochs');
  const sourceId = uniqueName('src');
  await captureAndStop(older, topic, sourceId);
  // another master (another id): the source cannot continue, it takes a new snapshot (epoch 2)
  await captureAndStop(newer, topic, sourceId);
  await replay(first, topic, await lastEventEnds(topic), ['--start-from', 'latest-snapshot']);
  await assertEqualsMaster(first, newer);
});
