/**
 * Replaying a topic whose source has stopped (issue 16): the source captures a scripted master into a
 * fresh topic and is stopped; only then do sinks replay the topic into fresh Redis servers. A
 * transactional topic ends in a commit (or abort) marker that no consumer receives, so nothing may
 * wait for a message at the partition's last offset. The target must equal the master key by key.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kafkaBrokers } from '../support/env';
import { assertEqualsMaster, captureAndStop, lastEventEnds, masterScript } from './replay-helpers';
import { freshRedisForFile, runSinkToEnd, sinkConfig, type FreshRedis } from './sink-harness';
import { readTopic, uniqueName } from './source-helpers';

const first = freshRedisForFile();
const second = freshRedisForFile();

const SINK_TIMEOUT_MS = 90_000;

async function replay(target: FreshRedis, topic: string, ends: number[], extra: string[]): Promise<void> {
  await target.client.flushall();
  const config = sinkConfig(topic, target.url, ['--group-id', uniqueName(`${topic}-sink`), ...extra]);
  await runSinkToEnd(config, target.client, ends, SINK_TIMEOUT_MS);
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
    await assertEqualsMaster(first.client, script);
    await Promise.all([
      replay(first, topic, ends, ['--start-from', 'latest-snapshot']),
      replay(second, topic, ends, ['--start-from', 'latest-snapshot']),
    ]);
    await assertEqualsMaster(first.client, script);
    await assertEqualsMaster(second.client, script);
  },
);

test('a stopped source’s topic replays with start.from=earliest', { timeout: 240_000 }, async () => {
  const script = masterScript('early');
  const topic = uniqueName('stopped-earliest');
  await captureAndStop(script, topic, uniqueName('src'));
  await replay(first, topic, await lastEventEnds(topic), ['--start-from', 'earliest']);
  await assertEqualsMaster(first.client, script);
});

test('a stopped topic holding two epochs: the later one is replayed', { timeout: 240_000 }, async () => {
  const older = masterScript('old');
  const newer = masterScript('new');
  const topic = uniqueName('stopped-two-epochs');
  const sourceId = uniqueName('src');
  await captureAndStop(older, topic, sourceId);
  // another master (another id): the source cannot continue, it takes a new snapshot (epoch 2)
  await captureAndStop(newer, topic, sourceId);
  const epochs = (await readTopic(kafkaBrokers(), topic))[0]!.flatMap((e) =>
    e.event.payload.type === 'SnapshotStarted' ? [e.event.payload.epoch] : [],
  );
  assert.deepEqual(epochs, [1, 2]);
  await replay(first, topic, await lastEventEnds(topic), ['--start-from', 'latest-snapshot']);
  await assertEqualsMaster(first.client, newer);
});
