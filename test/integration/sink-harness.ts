/**
 * Helpers of the sink integration tests: topics, producing events per partition, a sink run in this
 * process until it has applied everything, a sink in a child process (for kill -9), a fresh Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { loadSinkConfig, type SinkConfig } from '../../src/config/sink';
import { EventCodec } from '../../src/events/codec';
import { eventKey, type ChangeEvent } from '../../src/events/model';
import { startRedisServers, type RedisServers } from '../../src/localstack/redis-server';
import { createLogger, type Logger } from '../../src/observability/logger';
import { runSink } from '../../src/sink/run';
import { kafkaBrokers, redisServerBin } from '../support/env';
import { after, before } from 'node:test';

export const CHECKPOINT_KEY = 'dragonfly-cdc:checkpoint';
const ROOT = join(__dirname, '..', '..');

export function kafka(): Kafka {
  return new Kafka({ clientId: 'sink-tests', brokers: [kafkaBrokers()], logLevel: logLevel.NOTHING });
}

let unique = 0;
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now()}-${unique++}`;
}

export async function createTopic(client: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/**
 * kafkajs groups a send's messages by partition with a copy per message (quadratic in the count:
 * 40k small messages in one send took minutes), so one send carries at most this many.
 */
const MAX_REQUEST_MESSAGES = 2000;

/** A change event as Kafka holds it. */
export interface EncodedEvent {
  key: Buffer;
  value: Buffer;
}

/** Encodes events as the source would (single-object encoding). */
export async function eventEncoder(): Promise<(event: ChangeEvent) => EncodedEvent> {
  const codec = await EventCodec.create();
  return (event) => ({ key: codec.encodeKey(eventKey(event)), value: codec.encodeValue(event) });
}

/** Produces each flow's events to the partition of the same number, in order; returns end offsets. */
export async function produceFlows(client: Kafka, topic: string, flows: ChangeEvent[][]): Promise<number[]> {
  const encode = await eventEncoder();
  return produceEncoded(
    client,
    topic,
    flows.map((events) => events.map(encode)),
  );
}

/**
 * Produces each partition's encoded events to it, in order; returns end offsets. Partitions are
 * produced concurrently, each one's requests one after another (order kept).
 */
export async function produceEncoded(
  client: Kafka,
  topic: string,
  partitions: EncodedEvent[][],
): Promise<number[]> {
  const producer = client.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const producePartition = async (partition: number): Promise<void> => {
    let messages: (EncodedEvent & { partition: number })[] = [];
    let bytes = 0;
    const send = async (): Promise<void> => {
      if (messages.length > 0) await producer.send({ topic, acks: -1, messages });
      messages = [];
      bytes = 0;
    };
    for (const event of partitions[partition]!) {
      if (bytes + event.value.length > MAX_REQUEST_BYTES || messages.length >= MAX_REQUEST_MESSAGES)
        await send();
      messages.push({ ...event, partition });
      bytes += event.value.length;
    }
    await send();
  };
  try {
    await Promise.all(partitions.map((_, partition) => producePartition(partition)));
  } finally {
    await producer.disconnect();
  }
  return endOffsets(client, topic);
}

export async function endOffsets(client: Kafka, topic: string): Promise<number[]> {
  const admin = client.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
  } finally {
    await admin.disconnect();
  }
}

/** The flags of a sink for this test run. */
export function sinkArgs(topic: string, redisUrl: string, extra: string[] = []): string[] {
  return [
    '--kafka-brokers',
    kafkaBrokers(),
    '--topic',
    topic,
    '--group-id',
    `${topic}-group`,
    '--redis-url',
    redisUrl,
    '--start-from',
    'earliest',
    '--log-level',
    'warn',
    '--log-format',
    'json',
    ...extra,
  ];
}

export function sinkConfig(topic: string, redisUrl: string, extra: string[] = []): SinkConfig {
  return loadSinkConfig(sinkArgs(topic, redisUrl, extra), {});
}

/** Stored positions per partition (-1 where none). */
export async function positions(redis: Redis, topic: string, partitions: number): Promise<number[]> {
  const fields = Array.from({ length: partitions }, (_, p) => `${topic}/${p}`);
  const values = await redis.hmget(CHECKPOINT_KEY, ...fields);
  return values.map((v) => (v === null ? -1 : Number(v)));
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function caughtUp(redis: Redis, topic: string, ends: number[]): Promise<boolean> {
  const stored = await positions(redis, topic, ends.length);
  return stored.every((p, i) => p >= ends[i]!);
}

/** A sink running in this process. */
export interface InProcessSink {
  /** throws the sink's failure, if it failed */
  check(): void;
  /** stops it gracefully */
  stop(): Promise<void>;
}

export function startSinkInProcess(config: SinkConfig, logger = quietSinkLogger()): InProcessSink {
  const stop = new AbortController();
  const running = runSink(config, logger, stop.signal);
  let failure: unknown;
  running.catch((e: unknown) => {
    failure = e;
  });
  return {
    check: () => {
      if (failure !== undefined) throw failure;
    },
    stop: async () => {
      stop.abort();
      await running.catch(() => undefined);
    },
  };
}

function quietSinkLogger(): Logger {
  return createLogger({ role: 'sink', level: 'warn', format: 'json' });
}

/** A logger keeping every line's message, and a way to wait (bounded) for one. */
export function capturingLogger(role = 'sink'): {
  logger: Logger;
  messages: string[];
  waitForMessage(pattern: RegExp, timeoutMs: number): Promise<string>;
} {
  const messages: string[] = [];
  const logger = createLogger({
    role,
    level: 'info',
    format: 'json',
    destination: {
      write: (line: string) => {
        messages.push(String((JSON.parse(line) as { msg?: unknown }).msg ?? ''));
      },
    },
  });
  const waitForMessage = async (pattern: RegExp, timeoutMs: number): Promise<string> => {
    await waitFor(
      `a log message matching ${pattern}`,
      async () => messages.some((m) => pattern.test(m)),
      timeoutMs,
    );
    return messages.find((m) => pattern.test(m))!;
  };
  return { logger, messages, waitForMessage };
}

/**
 * Runs the sink in this process until every partition's stored position reached its end offset
 * (or the sink fails), then stops it gracefully.
 */
export async function runSinkToEnd(
  config: SinkConfig,
  redis: Redis,
  ends: number[],
  timeoutMs: number,
  logger?: Logger,
): Promise<void> {
  const sink = startSinkInProcess(config, logger);
  try {
    await waitFor(
      'the sink to apply every event',
      async () => {
        sink.check();
        return caughtUp(redis, config.topic, ends);
      },
      timeoutMs,
    );
  } finally {
    await sink.stop();
  }
}

/** `dragonfly-cdc sink` in a child process (for kill -9). */
export function spawnSink(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'sink', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
  });
}

/** A throw-away redis-server for one test file. */
export async function freshRedis(): Promise<{ servers: RedisServers; url: string; client: Redis }> {
  const servers = await startRedisServers({ instances: 1, binary: redisServerBin(), install: false });
  const url = servers.instances[0]!.url;
  const client = new Redis(url);
  return { servers, url, client };
}

export type FreshRedis = Awaited<ReturnType<typeof freshRedis>>;

/** A fresh redis-server for the calling test file: started before its tests, stopped after them. */
export function freshRedisForFile(): FreshRedis {
  const holder = {} as FreshRedis;
  before(async () => {
    Object.assign(holder, await freshRedis());
  });
  after(async () => {
    holder.client.disconnect();
    await holder.servers.stop();
  });
  return holder;
}
