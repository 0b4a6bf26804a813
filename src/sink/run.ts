/**
 * `dragonfly-cdc sink`: wires Kafka, the target and the consumer together and runs until the stop
 * signal (graceful: the current batches finish, offsets are committed, the group is left) or a
 * failure. With kafka.brokers or redis.url empty it starts the embedded local stack (development).
 */
import type { Producer } from 'kafkajs';
import type { SinkConfig } from '../config/sink';
import { EventCodec } from '../events/codec';
import { SingleObjectWireFormat, type SchemaWireFormat } from '../events/wire-format';
import { createKafkaClient } from '../kafka/client';
import { startLocalStack, type LocalStack } from '../localstack/local-stack';
import type { Logger } from '../observability/logger';
import type { HttpSchemaRegistryClient } from '../schema-registry/client';
import { confluentWireFormat } from '../schema-registry/confluent-setup';
import { describeCapabilities, detectCapabilities } from '../targets/capabilities';
import { RedisStandaloneWriter } from '../targets/redis-standalone';
import { BarrierCoordinator } from './barrier';
import { positionField } from './checkpoint';
import { SinkConsumer } from './consumer';
import { keyMapping } from './db-mapping';
import { DeadLetterQueue } from './dead-letter';
import { classifyRedisError, TargetError } from './errors';
import { sinkMetrics } from './metrics';
import { startPositions, waitForTopic, type StartContext } from './start-position';

const PROGRESS_INTERVAL_MS = 10_000;

async function connectTarget(config: SinkConfig['redis'], logger: Logger): Promise<RedisStandaloneWriter> {
  if (config.cluster) {
    throw new TargetError(
      'redis.cluster is set, but this sink writes to a standalone Redis only',
      'point redis.url at a standalone Redis (with db.mapping=all-to-0-with-prefix if it must use database 0 only)',
    );
  }
  try {
    return await RedisStandaloneWriter.connect(config);
  } catch (e) {
    const failure = classifyRedisError((e as Error).message);
    logger.debug({ err: e }, 'connecting to the target failed');
    throw new TargetError(`cannot connect to the target Redis: ${failure.what}`, failure.hint);
  }
}

function stopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function startProgressLog(topic: string, logger: Logger): () => void {
  let last = 0;
  let lastAt = Date.now();
  const timer = setInterval(() => {
    void sinkMetrics.eventsApplied.get().then((m) => {
      const total = m.values.find((v) => v.labels.topic === topic)?.value ?? 0;
      const now = Date.now();
      const rate = ((total - last) * 1000) / Math.max(1, now - lastAt);
      logger.info(
        { applied: total, perSecond: Math.round(rate) },
        `applied ${total} events (${Math.round(rate)}/s)`,
      );
      last = total;
      lastAt = now;
    });
  }, PROGRESS_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Waits for the topic, then works out where partitions without a stored position start (only when
 * there is such a partition); null when the sink was stopped while waiting.
 */
async function prepareStart(
  context: StartContext,
  writer: RedisStandaloneWriter,
): Promise<Map<number, string> | null> {
  const partitions = await waitForTopic(context);
  if (partitions === null) return null;
  const { config } = context;
  const fields = Array.from({ length: partitions }, (_, p) => positionField(config.topic, p));
  const stored = await writer.readFields(config.checkpoint.key, fields);
  if (stored.every((position) => position !== null && position !== undefined)) return new Map();
  return startPositions(context);
}

export async function runSink(config: SinkConfig, logger: Logger, stopSignal: AbortSignal): Promise<void> {
  let stack: LocalStack | undefined;
  let producer: Producer | null = null;
  let writer: RedisStandaloneWriter | undefined;
  let consumer: SinkConsumer | undefined;
  let stopProgress = (): void => undefined;
  let registry: HttpSchemaRegistryClient | undefined;
  try {
    if (config.kafka.brokers.length === 0 || config.redis.url === '') {
      logger.warn(
        'kafka.brokers or redis.url is empty: starting the embedded local stack (development only)',
      );
      stack = await startLocalStack({ log: (m) => logger.info(m), stopOnSignals: false });
    }
    const brokers = config.kafka.brokers.length > 0 ? config.kafka.brokers : [stack!.kafkaBrokers];
    const redisConfig = config.redis.url === '' ? { ...config.redis, url: stack!.redisUrl } : config.redis;
    const kafka = createKafkaClient(config.kafka, logger, { brokers });
    writer = await connectTarget(redisConfig, logger);
    const capabilities = await detectCapabilities(writer.redis);
    logger.info(`target: ${describeCapabilities(capabilities)}`);
    let wireFormat: SchemaWireFormat = new SingleObjectWireFormat();
    if (config.encoding === 'confluent') {
      ({ wireFormat, registry } = await confluentWireFormat(config, 'consume', logger));
    }
    const codec = EventCodec.forDecoding(wireFormat);
    if (config.errors.deadLetterTopic !== '') {
      producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
    }
    const starts = await prepareStart({ kafka, config, codec, logger, signal: stopSignal }, writer);
    if (starts === null) return;
    const keys = keyMapping(config.db);
    consumer = new SinkConsumer({
      kafka,
      config,
      writer,
      codec,
      applier: { capabilities, degrade: config.degrade, keys },
      barriers: new BarrierCoordinator(writer, config.checkpoint.key, config.topic, keys, logger),
      deadLetters: new DeadLetterQueue(producer, config.errors.deadLetterTopic, config.groupId, logger),
      logger,
      starts,
    });
    await consumer.start();
    logger.info(`consuming ${config.topic} as group ${config.groupId}`);
    stopProgress = startProgressLog(config.topic, logger);
    await Promise.race([stopped(stopSignal), consumer.failed]);
    logger.info('stopping: finishing the current batches');
  } finally {
    stopProgress();
    await consumer
      ?.stop()
      .catch((e: unknown) => logger.warn({ err: e }, 'leaving the consumer group failed'));
    await producer?.disconnect().catch(() => undefined);
    await writer?.close();
    await stack?.stop();
    registry?.close();
  }
}
