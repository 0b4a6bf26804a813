/**
 * start.from=latest-snapshot end to end: a fresh target starts at the SnapshotStarted of the latest
 * epoch whose snapshot is complete on every partition. Each partition counts its events in a
 * counter (one INCR before the first snapshot, one in each epoch), so the final state tells where
 * the sink started (epochPolicy=keep: no wipe hides it).
 */
import assert from 'node:assert';
import { test } from 'node:test';
import { flowWriter } from './sink-events';
import {
  createTopic,
  freshRedisForFile,
  kafka,
  produceFlows,
  runSinkToEnd,
  sinkConfig,
  uniqueName,
} from './sink-harness';

const redis = freshRedisForFile();

const FLOWS = 2;

function twoEpochs(secondCompleteOnFlow1: boolean): ReturnType<typeof flowWriter>['events'][] {
  return Array.from({ length: FLOWS }, (_, f) => {
    // before the first snapshot (epoch 0): a SnapshotStarted is the first event of its epoch on a flow
    const w = flowWriter(f, FLOWS, 0).command('INCR', [`n${f}`]);
    w.snapshotStarted(1)
      .command('SET', [`a${f}`, '1'])
      .snapshotFinished()
      .command('INCR', [`n${f}`]);
    w.snapshotStarted(2).command('SET', [`b${f}`, '2']);
    if (f === 0 || secondCompleteOnFlow1) w.snapshotFinished();
    w.command('INCR', [`n${f}`]);
    return w.events;
  });
}

async function startFromLatestSnapshot(name: string, secondComplete: boolean): Promise<void> {
  const client = kafka();
  const topic = uniqueName(name);
  await createTopic(client, topic, FLOWS);
  const ends = await produceFlows(client, topic, twoEpochs(secondComplete));
  await redis.client.flushall();
  const config = sinkConfig(topic, redis.url, ['--start-from', 'latest-snapshot', '--epoch-policy', 'keep']);
  await runSinkToEnd(config, redis.client, ends, 60_000);
}

test('latest-snapshot: the second epoch incomplete on one partition → the first epoch’s start', async () => {
  await startFromLatestSnapshot('sink-start-first', false);
  for (let f = 0; f < FLOWS; f++) {
    assert.strictEqual(await redis.client.get(`n${f}`), '2', `n${f}: the events from epoch 1's start`);
    assert.strictEqual(await redis.client.get(`a${f}`), '1');
    assert.strictEqual(await redis.client.get(`b${f}`), '2');
  }
});

test('latest-snapshot: both epochs complete → the second epoch’s start', async () => {
  await startFromLatestSnapshot('sink-start-second', true);
  for (let f = 0; f < FLOWS; f++) {
    assert.strictEqual(await redis.client.get(`n${f}`), '1', `n${f}: the events from epoch 2's start`);
    assert.strictEqual(await redis.client.get(`a${f}`), null);
    assert.strictEqual(await redis.client.get(`b${f}`), '2');
  }
});
