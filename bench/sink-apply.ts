/**
 * Sink apply rate against the limit of the same Redis: N SET events decoded (Avro), planned (applier)
 * and applied in batches through the apply script with their position, versus N pipelined SETs.
 * Prints both rates and their ratio. Kafka is left out: this measures the sink's own cost.
 *
 *   npx tsx bench/sink-apply.ts [events=200000] [redis-url]   (no URL: starts a redis-server)
 */
import Redis from 'ioredis';
import { loadSinkConfig } from '../src/config/sink';
import { EventCodec } from '../src/events/codec';
import type { ChangeEvent } from '../src/events/model';
import { startRedisServers } from '../src/localstack/redis-server';
import { Applier } from '../src/sink/applier';
import { keyMapping } from '../src/sink/db-mapping';
import type { Translation } from '../src/sink/translate/context';
import { detectCapabilities } from '../src/targets/capabilities';
import { RedisStandaloneWriter, type BatchEvent } from '../src/targets/redis-standalone';

const BATCH = 500;

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

async function sinkApply(redis: Redis, messages: Buffer[]): Promise<number> {
  await redis.flushall();
  const config = loadSinkConfig(['--topic', 'bench'], {});
  const codec = await EventCodec.create();
  const capabilities = await detectCapabilities(redis);
  const applier = new Applier({ capabilities, degrade: config.degrade, keys: keyMapping(config.db) });
  const writer = new RedisStandaloneWriter(redis);
  let position: string | null = null;
  const started = process.hrtime.bigint();
  for (let at = 0; at < messages.length; at += BATCH) {
    const events: BatchEvent[] = [];
    for (let i = at; i < Math.min(messages.length, at + BATCH); i++) {
      const event = await codec.decodeValue(messages[i] as Buffer);
      const plan = applier.plan(event, Date.now()) as Extract<Translation, { kind: 'commands' }>;
      events.push({ offset: String(i), after: String(i + 1), epoch: 1, commands: plan.commands });
    }
    const result = await writer.apply({
      checkpointKey: 'bench:checkpoint',
      positionField: 'bench/0',
      epochField: 'bench/0/epoch',
      expected: position,
      events,
    });
    if (result.status !== 'ok') throw new Error(`batch failed: ${JSON.stringify(result)}`);
    position = result.position;
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
    const sink = await sinkApply(redis, messages);
    const rate = (seconds: number): string => `${Math.round(count / seconds).toLocaleString('en')} /s`;
    console.log(`pipelined SETs (the limit): ${count} in ${limit.toFixed(2)} s = ${rate(limit)}`);
    console.log(
      `sink apply (decode + plan + script with position): ${count} in ${sink.toFixed(2)} s = ${rate(sink)}`,
    );
    console.log(`ratio sink / limit: ${(limit / sink).toFixed(2)}`);
  } finally {
    redis.disconnect();
    await servers?.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
