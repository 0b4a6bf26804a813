/**
 * What a sink without a position does before it can start (issues 16, 17, 18): it waits for its topic
 * (a sink started beside its source, as docker compose does), and for a complete snapshot, saying
 * which epoch and how far each flow is; with startWait off it stops with what is missing; a topic
 * written by something else is refused naming topic, partition and offset.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSink } from '../../src/sink/run';
import { createLogger } from '../../src/observability/logger';
import { assertEqualsMaster, captureAndStop, lastEventEnds, masterScript } from './replay-helpers';
import { flowWriter } from './sink-events';
import {
  capturingLogger,
  caughtUp,
  createTopic,
  freshRedisForFile,
  kafka,
  produceEncoded,
  produceFlows,
  sinkConfig,
  startSinkInProcess,
  uniqueName,
  waitFor,
} from './sink-harness';

const redis = freshRedisForFile();

const quiet = createLogger({ role: 'sink', level: 'silent', format: 'json' });

test(
  'a sink started before its source waits for the topic, then replays it',
  { timeout: 180_000 },
  async () => {
    await redis.client.flushall();
    const topic = uniqueName('sink-first');
    const script = masterScript('first');
    const log = capturingLogger();
    const sink = startSinkInProcess(
      sinkConfig(topic, redis.url, ['--start-from', 'latest-snapshot']),
      log.logger,
    );
    try {
      await log.waitForMessage(new RegExp(`waiting for topic "${topic}" to be created`), 20_000);
      sink.check();
      await captureAndStop(script, topic, uniqueName('src'));
      const ends = await lastEventEnds(topic);
      await waitFor(
        'the sink to apply every event',
        async () => {
          sink.check();
          return caughtUp(redis.client, topic, ends);
        },
        90_000,
      );
    } finally {
      await sink.stop();
    }
    await assertEqualsMaster(redis.client, script);
  },
);

test(
  'a snapshot not complete yet: the sink says which epoch and how far each flow is, and starts once it completes',
  { timeout: 120_000 },
  async () => {
    await redis.client.flushall();
    const client = kafka();
    const topic = uniqueName('sink-incomplete');
    await createTopic(client, topic, 2);
    const flow0 = flowWriter(0, 2).snapshotStarted(1).command('SET', ['a', '1']).snapshotFinished();
    const flow1 = flowWriter(1, 2).snapshotStarted(1).command('SET', ['b', '1']);
    await produceFlows(client, topic, [flow0.events, flow1.events]);

    await assert.rejects(
      runSink(
        sinkConfig(topic, redis.url, ['--start-from', 'latest-snapshot', '--no-start-wait']),
        quiet,
        new AbortController().signal,
      ),
      new RegExp(
        `no complete snapshot in topic "${topic}" yet: the snapshot of epoch 1 is incomplete ` +
          `\\(flow 0: finished; flow 1: in its snapshot, 1 offsets since its start\\).*startFrom=earliest`,
      ),
    );

    const log = capturingLogger();
    const sink = startSinkInProcess(
      sinkConfig(topic, redis.url, ['--start-from', 'latest-snapshot']),
      log.logger,
    );
    try {
      await log.waitForMessage(
        /the snapshot of epoch 1 is incomplete .*; waiting for a complete snapshot/,
        20_000,
      );
      assert.ok(
        !log.messages.some((m) => m.startsWith('applied ')),
        'no "applied N events" line while waiting',
      );
      const rest = flowWriter(1, 2);
      rest.snapshotStarted(1).command('SET', ['b', '1']);
      const finished = rest.snapshotFinished().events.at(-1)!;
      const ends = await produceFlows(client, topic, [[], [finished]]);
      await log.waitForMessage(/starting at the snapshot of epoch 1/, 20_000);
      await waitFor(
        'the sink to apply every event',
        async () => {
          sink.check();
          return caughtUp(redis.client, topic, ends);
        },
        30_000,
      );
    } finally {
      await sink.stop();
    }
    assert.equal(await redis.client.get('a'), '1');
    assert.equal(await redis.client.get('b'), '1');
  },
);

test('no topic and startWait off: the sink stops naming the topic', { timeout: 60_000 }, async () => {
  const topic = uniqueName('sink-no-topic');
  await assert.rejects(
    runSink(sinkConfig(topic, redis.url, ['--no-start-wait']), quiet, new AbortController().signal),
    new RegExp(`topic "${topic}" does not exist on .*Start the source first`),
  );
});

test(
  'a topic written by something else: the sink stops naming topic, partition and offset',
  { timeout: 60_000 },
  async () => {
    const client = kafka();
    const topic = uniqueName('sink-foreign');
    await createTopic(client, topic, 1);
    await produceEncoded(client, topic, [[{ key: Buffer.from('k'), value: Buffer.from('not an event') }]]);
    await assert.rejects(
      runSink(
        sinkConfig(topic, redis.url, ['--start-from', 'latest-snapshot']),
        quiet,
        new AbortController().signal,
      ),
      new RegExp(
        `topic "${topic}" partition 0 offset 0 cannot be read as a change event .*Set topic to the source's topic`,
      ),
    );
  },
);
