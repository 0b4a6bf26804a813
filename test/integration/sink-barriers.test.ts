/**
 * Barriers (docs/sink.md, "Cross-partition order points"): partitions that begin in different
 * epochs (older events gone from one partition) do not wait for each other forever, and FLUSHALL,
 * FLUSHDB and an epoch change applied by two sink processes sharing the partitions, with the
 * partitions at different offsets, give the same final state as the master.
 */
import assert from 'node:assert';
import { test } from 'node:test';
import type { ChangeEvent } from '../../src/events/model';
import { dumpRedis } from '../support/redis-dump';
import { flowWriter, type FlowWriter } from './sink-events';
import {
  caughtUp,
  CHECKPOINT_KEY,
  createTopic,
  freshRedisForFile,
  kafka,
  produceFlows,
  runSinkToEnd,
  sinkArgs,
  sinkConfig,
  spawnSink,
  uniqueName,
  waitFor,
} from './sink-harness';

const redis = freshRedisForFile();

/** Every key of every database as "db:key=value" (strings only), sorted. */
async function state(): Promise<string[]> {
  const dump = await dumpRedis(redis.client, CHECKPOINT_KEY);
  return Object.entries(dump)
    .flatMap(([db, keys]) => Object.entries(keys).map(([key, v]) => `${db}:${key}=${String(v.value)}`))
    .sort();
}

async function replay(name: string, flows: ChangeEvent[][]): Promise<void> {
  const client = kafka();
  const topic = uniqueName(name);
  await createTopic(client, topic, flows.length);
  const ends = await produceFlows(client, topic, flows);
  await redis.client.flushall();
  await runSinkToEnd(sinkConfig(topic, redis.url), redis.client, ends, 60_000);
}

test('a partition that starts in the new epoch at its SnapshotStarted joins the epoch barrier', async () => {
  const old = flowWriter(0, 2).snapshotStarted(1).command('SET', ['old0', 'a']).snapshotFinished();
  old.snapshotStarted(2).command('SET', ['new0', 'b']).snapshotFinished();
  // partition 1 kept only epoch 2: no stored epoch when it reaches the barrier
  const fresh = flowWriter(1, 2, 2).snapshotStarted(2).command('SET', ['new1', 'c']).snapshotFinished();
  await replay('sink-epoch-fresh', [old.events, fresh.events]);
  assert.deepStrictEqual(await state(), ['0:new0=b', '0:new1=c']);
});

test('a partition that starts inside the new epoch lets the others pass its barrier (no wipe)', async () => {
  const old = flowWriter(0, 2).snapshotStarted(1).command('SET', ['old0', 'a']).snapshotFinished();
  old.snapshotStarted(2).command('SET', ['new0', 'b']).snapshotFinished();
  // partition 1 kept only the end of epoch 2: it never reaches the barrier
  const inside = flowWriter(1, 2, 2).command('SET', ['new1', 'c']);
  await replay('sink-epoch-inside', [old.events, inside.events]);
  assert.deepStrictEqual(await state(), ['0:new0=b', '0:new1=c', '0:old0=a']);
});

const FLOWS = 4;

/**
 * Per flow, with more events on higher flows (the partitions reach each barrier at different
 * offsets): epoch 1 writes, FLUSHALL, more writes; epoch 2 (a new full sync) writes in db 0 and 1,
 * FLUSHDB 1, writes in db 1 and counters.
 */
function barrierTraffic(): { flows: ChangeEvent[][]; expected: string[] } {
  const expected: string[] = [];
  const flows = Array.from({ length: FLOWS }, (_, f) => {
    const n = 20 * (f + 1) * (f + 1);
    const w: FlowWriter = flowWriter(f, FLOWS).snapshotStarted(1);
    for (let i = 0; i < n; i++) w.command('SET', [`e1:pre:${f}:${i}`, 'x']);
    w.snapshotFinished().command('FLUSHALL', [], { txid: 100 });
    for (let i = 0; i < n; i++) w.command('SET', [`e1:post:${f}:${i}`, 'x'], { db: 1 });
    w.snapshotStarted(2);
    for (let i = 0; i < n; i++) {
      w.command('SET', [`e2:a:${f}:${i}`, 'y']);
      w.command('SET', [`e2:a:${f}:${i}`, 'y'], { db: 1 });
      expected.push(`0:e2:a:${f}:${i}=y`);
    }
    w.snapshotFinished().command('FLUSHDB', [], { db: 1, txid: 200 });
    for (let i = 0; i < n; i++) {
      w.command('SET', [`e2:b:${f}:${i}`, 'z'], { db: 1 });
      w.command('INCR', [`count:${f}`], { db: 1 });
      expected.push(`1:e2:b:${f}:${i}=z`);
    }
    expected.push(`1:count:${f}=${n}`);
    return w.events;
  });
  return { flows, expected: expected.sort() };
}

test(
  'FLUSHALL, FLUSHDB and an epoch change with two sink processes sharing the partitions: the final state is exact',
  { timeout: 180_000 },
  async () => {
    const { flows, expected } = barrierTraffic();
    const client = kafka();
    const topic = uniqueName('sink-barriers-two');
    await createTopic(client, topic, FLOWS);
    const ends = await produceFlows(client, topic, flows);
    await redis.client.flushall();
    const args = sinkArgs(topic, redis.url, ['--batch-max-events', '7']);
    const sinks = [spawnSink(args), spawnSink(args)];
    try {
      await waitFor('both sinks to apply every event', () => caughtUp(redis.client, topic, ends), 150_000);
    } finally {
      for (const sink of sinks) sink.kill('SIGTERM');
      await Promise.all(
        sinks.map((s) => (s.exitCode !== null ? null : new Promise((r) => s.once('exit', r)))),
      );
    }
    assert.deepStrictEqual(await state(), expected);
  },
);
