/**
 * Sink apply rate against the limit of the same Redis: N SET events through the sink's partition
 * worker (decoded from Avro, planned, applied in pipelined batches through the apply script with
 * their position), versus N pipelined SETs. Prints both rates and their ratio. Kafka is left out:
 * this measures the sink's own cost.
 *
 *   npx tsx bench/sink-apply.ts [events=200000] [redis-url]   (no URL: starts a redis-server)
 */
import Redis from 'ioredis';
import type { KafkaMessage } from 'kafkajs';
import { loadSinkConfig } from '../src/config/sink';
import { EventCodec } from '../src/events/codec';
import type { ChangeEvent } from '../src/events/model';
import { startRedisServers } from '../src/localstack/redis-server';
import { Applier } from '../src/sink/applier';
import { keyMapping } from '../src/sink/db-mapping';
import { createLogger } from '../src/observability/logger';
import { BarrierCoordinator } from '../src/sink/barrier';
import { DeadLetterQueue } from '../src/sink/dead-letter';
import { PartitionWorker } from '../src/sink/partition-worker';
import { detectCapabilities } from '../src/targets/capabilities';
import { RedisStandaloneWriter } from '../src/targets/redis-standalone';

const BATCH = 500;
/** messages per kafkajs fetch (8 MB per partition of ~100-byte events) */
const FETCH = 50_000;

function setEvent(i: number): ChangeEvent {
  return {
    source: {
      sourceId: 'bench',
      masterId: 'm',
      dragonflyVersion: '1.40.1',
      epoch: 1,
      flow: 0,
      shardCount: 1,
      phase: 'STABLE',
      lsn: i + 1,
      index: 0,
      txid: 0,
      db: 0,
      timestampMs: Date.now(),
    },
    payload: {
      type: 'JournalCommand',
      db: 0,
      command: 'SET',
      args: [Buffer.from(`key:${i}`), Buffer.from(`value-${i}`)],
      txid: 0,
      shardCount: 1,
      inSnapshot: false,
      multi: false,
      chunk: { index: 0, count: 1, mode: 'REPLACE' },
    },
  };
}

async function pipelinedSets(redis: Redis, count: number): Promise<number> {
  await redis.flushall();
  const started = process.hrtime.bigint();
  for (let at = 0; at < count; at += BATCH) {
    const pipeline = redis.pipeline();
    for (let i = at; i < Math.min(count, at + BATCH); i++) pipeline.set(`key:${i}`, `value-${i}`);
    await pipeline.exec();
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The sink's own partition worker (decode, plan, pipelined batches with their position), without Kafka. */
async function sinkApply(redis: Redis, messages: Buffer[], maxEvents: number): Promise<number> {
  await redis.flushall();
  const config = loadSinkConfig(['--topic', 'bench', '--batch-max-events', String(maxEvents)], {});
  const codec = await EventCodec.create();
  const capabilities = await detectCapabilities(redis);
  const keys = keyMapping(config.db);
  const writer = new RedisStandaloneWriter(redis);
  await writer.loadScripts();
  const logger = createLogger({ role: 'bench', level: 'warn', format: 'json' });
  const worker = new PartitionWorker({
    topic: 'bench',
    partition: 0,
    config,
    writer,
    applier: new Applier({ capabilities, degrade: config.degrade, keys }),
    codec,
    barriers: new BarrierCoordinator(writer, config.checkpoint.key, 'bench', keys, logger),
    deadLetters: new DeadLetterQueue(null, '', config.groupId, logger),
    logger,
    now: () => Date.now(),
  });
  await worker.load();
  const control = {
    active: () => true,
    heartbeat: () => Promise.resolve(),
    resolveOffset: () => undefined,
    endOffset: String(messages.length),
  };
  const started = process.hrtime.bigint();
  // kafkajs hands over a fetch of messages at a time: about 8 MB per partition
  for (let at = 0; at < messages.length; at += FETCH) {
    const fetched = messages
      .slice(at, at + FETCH)
      .map((value, i) => ({ offset: String(at + i), value }) as unknown as KafkaMessage);
    const result = await worker.process(fetched, control);
    if (result.kind !== 'done') throw new Error(`the worker stopped: ${JSON.stringify(result)}`);
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 200_000);
  const servers = process.argv[3] ? undefined : await startRedisServers({ instances: 1 });
  const url = process.argv[3] ?? servers!.instances[0]!.url;
  const redis = new Redis(url);
  try {
    const codec = await EventCodec.create();
    const messages = Array.from({ length: count }, (_, i) => codec.encodeValue(setEvent(i)));
    const limit = await pipelinedSets(redis, count);
    const rate = (seconds: number): string => `${Math.round(count / seconds).toLocaleString('en')} /s`;
    console.log(`pipelined SETs (the limit): ${count} in ${limit.toFixed(2)} s = ${rate(limit)}`);
    for (const maxEvents of [500, 2000]) {
      const sink = await sinkApply(redis, messages, maxEvents);
      console.log(
        `sink worker, batch.maxEvents=${maxEvents} (decode + plan + pipelined scripts with position): ${count} in ${sink.toFixed(2)} s = ${rate(sink)}, ratio sink / limit ${(limit / sink).toFixed(2)}`,
      );
    }
  } finally {
    redis.disconnect();
    await servers?.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
