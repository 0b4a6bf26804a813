/**
 * Effectively-once delivery against a real Kafka and redis-server: a sink process killed with
 * SIGKILL at random points while it applies non-idempotent traffic (INCR, INCRBYFLOAT, LPUSH,
 * APPEND), two sink processes sharing the partitions through a rebalance, and a poison event with
 * errors.tolerance none (clear stop, position before it) and all (dead-letter topic, then on).
 */
import assert from 'node:assert';
import { test } from 'node:test';
import type { ChangeEvent, EventPayload } from '../../src/events/model';
import { DLQ_HEADERS } from '../../src/sink/dead-letter';
import { EventApplyError } from '../../src/sink/errors';
import { runSink } from '../../src/sink/run';
import { createLogger } from '../../src/observability/logger';
import {
  caughtUp,
  createTopic,
  freshRedisForFile,
  kafka,
  positions,
  produceFlows,
  runSinkToEnd,
  sinkArgs,
  sinkConfig,
  spawnSink,
  uniqueName,
  waitFor,
} from './sink-harness';

const redis = freshRedisForFile();

function command(flow: number, lsn: number, name: string, ...args: string[]): ChangeEvent {
  const payload: EventPayload = {
    type: 'JournalCommand',
    db: 0,
    command: name,
    args: args.map((a) => Buffer.from(a)),
    txid: 0,
    shardCount: 4,
    inSnapshot: false,
    multi: false,
    chunk: { index: 0, count: 1, mode: 'REPLACE' },
  };
  return {
    source: {
      sourceId: 'test',
      masterId: 'm',
      dragonflyVersion: '1.40.1',
      epoch: 1,
      flow,
      shardCount: 4,
      phase: 'STABLE',
      lsn,
      index: 0,
      txid: 0,
      db: 0,
      timestampMs: Date.now(),
    },
    payload,
  };
}

const ROUNDS = 5000;

/** Per partition: ROUNDS × (INCR, INCRBYFLOAT 0.5, LPUSH i, APPEND x). */
function trafficFlows(partitions: number): ChangeEvent[][] {
  return Array.from({ length: partitions }, (_, flow) => {
    const events: ChangeEvent[] = [];
    let lsn = 1;
    for (let i = 0; i < ROUNDS; i++) {
      events.push(command(flow, lsn++, 'INCR', `c${flow}`));
      events.push(command(flow, lsn++, 'INCRBYFLOAT', `f${flow}`, '0.5'));
      events.push(command(flow, lsn++, 'LPUSH', `l${flow}`, String(i)));
      events.push(command(flow, lsn++, 'APPEND', `s${flow}`, 'x'));
    }
    return events;
  });
}

async function assertTrafficExact(partitions: number): Promise<void> {
  for (let p = 0; p < partitions; p++) {
    assert.strictEqual(await redis.client.get(`c${p}`), String(ROUNDS), `c${p}`);
    assert.strictEqual(Number(await redis.client.get(`f${p}`)), ROUNDS * 0.5, `f${p}`);
    const list = await redis.client.lrange(`l${p}`, 0, -1);
    assert.strictEqual(list.length, ROUNDS, `l${p} length`);
    assert.deepStrictEqual(list.slice(0, 3), [String(ROUNDS - 1), String(ROUNDS - 2), String(ROUNDS - 3)]);
    assert.strictEqual((await redis.client.get(`s${p}`))?.length, ROUNDS, `s${p}`);
  }
}

const sum = (values: number[]): number => values.reduce((a, b) => a + Math.max(b, 0), 0);

test(
  'kill -9 of the sink at random points, 10 times: the final state is exact',
  { timeout: 600_000 },
  async (t) => {
    const client = kafka();
    const topic = uniqueName('sink-kill');
    await createTopic(client, topic, 2);
    const ends = await produceFlows(client, topic, trafficFlows(2));
    await redis.client.flushall();
    let kills = 0;
    while (kills < 10 && !(await caughtUp(redis.client, topic, ends))) {
      const before = sum(await positions(redis.client, topic, 2));
      // a group of its own: joining the old group would wait for the killed member's session
      // timeout; the positions live in the target, so the group changes nothing else
      const child = spawnSink(
        sinkArgs(topic, redis.url, ['--batch-max-events', '20', '--group-id', `${topic}-${kills}`]),
      );
      // kill once it has made progress, at a random point of what follows
      await waitFor(
        'progress',
        async () => sum(await positions(redis.client, topic, 2)) > before || child.exitCode !== null,
        60_000,
      );
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 50));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      kills++;
      t.diagnostic(`kill ${kills} at positions ${(await positions(redis.client, topic, 2)).join(', ')}`);
    }
    assert.ok(kills >= 10, `only ${kills} kills before the sink finished: make the traffic longer`);
    await runSinkToEnd(sinkConfig(topic, redis.url), redis.client, ends, 120_000);
    await assertTrafficExact(2);
  },
);

test(
  'two sink processes in one group, with rebalances: the final state is exact',
  { timeout: 300_000 },
  async () => {
    const client = kafka();
    const topic = uniqueName('sink-rebalance');
    await createTopic(client, topic, 4);
    const ends = await produceFlows(client, topic, trafficFlows(4));
    await redis.client.flushall();
    const args = sinkArgs(topic, redis.url, ['--batch-max-events', '20']);
    const first = spawnSink(args);
    await waitFor('progress', async () => sum(await positions(redis.client, topic, 4)) > 0, 60_000);
    const second = spawnSink(args);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    first.kill('SIGTERM');
    await new Promise((resolve) => first.once('exit', resolve));
    await waitFor('the second sink to finish', () => caughtUp(redis.client, topic, ends), 180_000);
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));
    await assertTrafficExact(4);
  },
);

function poisonFlows(): ChangeEvent[][] {
  return [[command(0, 1, 'SET', 'k', 'a'), command(0, 2, 'LPUSH', 'k', 'x'), command(0, 3, 'SET', 'z', '1')]];
}

test(
  'poison event with errors.tolerance=none: clear stop, position stays before it',
  { timeout: 120_000 },
  async () => {
    const client = kafka();
    const topic = uniqueName('sink-poison-none');
    await createTopic(client, topic, 1);
    await produceFlows(client, topic, poisonFlows());
    await redis.client.flushall();
    const logger = createLogger({ role: 'sink', level: 'silent', format: 'json' });
    const error = await runSink(sinkConfig(topic, redis.url), logger, new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof EventApplyError, String(error));
    assert.match(error.message, new RegExp(`${topic}/0@1 was not applied: LPUSH failed: WRONGTYPE`));
    assert.deepStrictEqual(await positions(redis.client, topic, 1), [1]);
    assert.strictEqual(await redis.client.get('z'), null);
  },
);

test(
  'poison event with errors.tolerance=all: dead-lettered with headers and original bytes, then on',
  { timeout: 120_000 },
  async () => {
    const client = kafka();
    const topic = uniqueName('sink-poison-all');
    const dlq = `${topic}-dlq`;
    await createTopic(client, topic, 1);
    await createTopic(client, dlq, 1);
    const ends = await produceFlows(client, topic, poisonFlows());
    await redis.client.flushall();
    await runSinkToEnd(
      sinkConfig(topic, redis.url, ['--errors-tolerance', 'all', '--errors-dead-letter-topic', dlq]),
      redis.client,
      ends,
      60_000,
    );
    assert.strictEqual(await redis.client.get('z'), '1');
    assert.strictEqual(await redis.client.get('k'), 'a');
    const consumer = client.consumer({ groupId: `${dlq}-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    const letters: { headers: Record<string, string>; value: Buffer | null }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        );
        letters.push({ headers, value: message.value });
      },
    });
    await waitFor('the dead letter', () => Promise.resolve(letters.length > 0), 30_000);
    await consumer.disconnect();
    assert.strictEqual(letters.length, 1);
    const letter = letters[0]!;
    assert.strictEqual(letter.headers[DLQ_HEADERS.topic], topic);
    assert.strictEqual(letter.headers[DLQ_HEADERS.offset], '1');
    assert.strictEqual(letter.headers[DLQ_HEADERS.kind], 'redis-error');
    assert.match(letter.headers[DLQ_HEADERS.reason] ?? '', /WRONGTYPE/);
    const original = await fetchOriginal(client, topic);
    assert.ok(letter.value?.equals(original), 'the dead letter carries the original value bytes');
  },
);

async function fetchOriginal(client: ReturnType<typeof kafka>, topic: string): Promise<Buffer> {
  const consumer = client.consumer({ groupId: `${topic}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let value: Buffer | null = null;
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.offset === '1') value = message.value;
    },
  });
  await waitFor('offset 1', () => Promise.resolve(value !== null), 30_000);
  await consumer.disconnect();
  return value as unknown as Buffer;
}
