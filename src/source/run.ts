/**
 * `runSource`: the source process. Starts the embedded local Kafka when no brokers are configured,
 * takes over the source's transactional id, recovers positions from the topic, and runs the pipeline
 * until `stopSignal` (graceful stop) or a fatal error (rejects with it).
 */
import { readFileSync } from 'node:fs';
import type { Admin, Kafka } from 'kafkajs';
import type { SourceConfig } from '../config/source';
import { EventCodec } from '../events/codec';
import { SingleObjectWireFormat, type SchemaWireFormat } from '../events/wire-format';
import { createKafkaClient } from '../kafka/client';
import { ensureTopic, topicPartitionCount } from '../kafka/topic';
import { startKafkaBroker, type KafkaBroker } from '../localstack/kafka-broker';
import type { Logger } from '../observability/logger';
import { parseMasterUrl } from '../replica/master-address';
import type { HttpSchemaRegistryClient } from '../schema-registry/client';
import { confluentWireFormat } from '../schema-registry/confluent-setup';
import type { BufferedUnit } from './event-buffer';
import { sourceMetrics } from './metrics';
import { SourcePipeline } from './pipeline';
import { decodeTails, recoverState, type RecoveredState } from './positions';
import { reportProgress } from './progress';
import { TransactionalPublisher } from './publisher';
import { readPartitionTails } from './tail-reader';

/** Room in a Kafka record for the key and the record/batch headers around an event value. */
const RECORD_ROOM_BYTES = 512;
const TAIL_READ_TIMEOUT_MS = 60_000;
/** Of a stop's grace period, kept for closing the Kafka clients (at most a quarter of it). */
const CLOSE_RESERVE_MS = 1000;
/** A source that failed publishes what it can for this long. */
const FAILED_STOP_MS = 2000;

async function wireFormatFor(
  config: SourceConfig,
  logger: Logger,
  resources: Resources,
): Promise<SchemaWireFormat> {
  if (config.encoding === 'single-object') return new SingleObjectWireFormat();
  const { wireFormat, registry } = await confluentWireFormat(config, 'publish', logger);
  resources.registry = registry;
  return wireFormat;
}

/** Everything the source holds open; closed in reverse order. */
interface Resources {
  /** the pipeline started (start-up is over) */
  started?: boolean;
  broker?: KafkaBroker;
  admin?: Admin;
  publisher?: TransactionalPublisher;
  registry?: HttpSchemaRegistryClient;
}

export async function runSource(
  config: SourceConfig,
  logger: Logger,
  stopSignal: AbortSignal,
): Promise<void> {
  const resources: Resources = {};
  const clock = new StopClock(stopSignal, config.replica.stopTimeoutMs);
  try {
    // a start-up step that waits for an unreachable Kafka is left behind at the stop's deadline
    const stuck = clock.workDeadlinePassed().then(() => {
      if (resources.started) return;
      logger.warn(
        'stopped while starting up (Kafka or the topic did not answer in time): nothing was published',
      );
    });
    await Promise.race([runWith(config, logger, clock, resources), stuck]);
  } finally {
    clock.dispose();
    const closed = closeResources(resources);
    const bound = clock.deadline();
    if (bound === null) await closed;
    else await Promise.race([closed, sleep(bound - Date.now())]);
  }
}

async function closeResources(resources: Resources): Promise<void> {
  await resources.publisher?.close();
  await resources.admin?.disconnect().catch(() => undefined);
  await resources.broker?.stop();
  resources.registry?.close();
}

async function runWith(
  config: SourceConfig,
  logger: Logger,
  clock: StopClock,
  resources: Resources,
): Promise<void> {
  const stopSignal = clock.signal;
  const topic = config.topic;
  let brokers = config.kafka.brokers;
  if (brokers.length === 0) {
    logger.warn(
      'kafka.brokers is empty: starting an embedded local Kafka broker (development only, nothing is kept)',
    );
    resources.broker = await startKafkaBroker({ log: (message) => logger.info(message) });
    brokers = [resources.broker.brokers];
  }
  const kafka = createKafkaClient(config.kafka, logger, { brokers, requestTimeoutMs: 15_000 });
  const codec = await EventCodec.create(await wireFormatFor(config, logger, resources));
  const admin = kafka.admin();
  resources.admin = admin;
  await admin.connect();
  if (stopSignal.aborted) return;

  const tailOptions = {
    groupIdPrefix: `${config.source.id}`,
    timeoutMs: TAIL_READ_TIMEOUT_MS,
    maxMessageBytes: config.kafka.maxMessageBytes,
  };
  const publisher = new TransactionalPublisher(
    kafka,
    {
      topic,
      transactionalId: `${config.source.id}-source`,
      compression: config.kafka.compression,
      transactionTimeoutMs: config.kafka.transactionTimeoutMs,
      maxMessageBytes: config.kafka.maxMessageBytes,
      retryInitialDelayMs: 500,
      retryMaxDelayMs: 10_000,
    },
    logger,
    (units) => unitsAreInTopic(kafka, topic, codec, units, tailOptions),
  );
  resources.publisher = publisher;
  if (stopSignal.aborted) return;
  // taking over the transactional id first aborts what a crashed predecessor left open
  await publisher.start();
  if (stopSignal.aborted) return;
  const recovered = await recoverFromTopic(kafka, admin, topic, codec, config.source.id, tailOptions);
  if (stopSignal.aborted) return;
  logRecovered(logger, topic, recovered);

  const address = parseMasterUrl(config.dragonfly.url, {
    user: config.dragonfly.username || null,
    password: config.dragonfly.password || null,
  });
  const metrics = sourceMetrics();
  const pipeline = new SourcePipeline(
    {
      sourceId: config.source.id,
      session: {
        address: { ...address, tls: address.tls || config.dragonfly.tls.enabled },
        connect: {
          connectTimeoutMs: config.replica.connectTimeoutMs,
          keepAliveMs: config.replica.keepAliveMs,
          tlsOptions: tlsOptions(config),
        },
        listeningPort: config.replica.listeningPort,
        ackIntervalMs: config.replica.ackIntervalMs,
        fullSyncStallTimeoutMs: config.replica.stallTimeoutMs,
        readAheadBytes: config.replica.readAheadBytes,
        stopTimeoutMs: Math.min(config.replica.stopTimeoutMs, 10_000),
        reconnect: config.replica.reconnect,
      },
      maxEventBytes: config.kafka.maxMessageBytes - RECORD_ROOM_BYTES,
      bufferMaxBytes: config.buffer.maxBytes,
      batchMaxEvents: config.batch.maxEvents,
      lingerMs: config.batch.lingerMs,
      heartbeatIntervalMs: config.heartbeat.intervalMs,
      maxUnreadMs: config.replica.maxUnreadMs,
      kafkaStallDetachMs: config.replica.kafkaStallDetachMs,
      ensurePartitions: async (flows) => {
        const partitions = await ensureTopic(
          admin,
          {
            topic,
            partitions: config.topicPartitions,
            replicationFactor: config.topicReplicationFactor,
            maxMessageBytes: config.kafka.maxMessageBytes,
          },
          flows,
        );
        logger.debug(`topic "${topic}" has ${partitions} partitions for ${flows} flows`);
      },
    },
    { codec, publisher, logger, metrics, recovered },
  );

  const stopRequested = new Promise<void>((resolve) => {
    if (stopSignal.aborted) resolve();
    else stopSignal.addEventListener('abort', () => resolve(), { once: true });
  });
  const failed = pipeline.failure();
  failed.catch(() => undefined);
  pipeline.start();
  resources.started = true;
  const progress = reportProgress(pipeline, logger);
  try {
    await Promise.race([stopRequested, failed]);
    logger.info('stopping: publishing what is buffered, then closing the replication');
  } catch (error) {
    logger.error(`source failed: ${(error as Error).message}`);
    await pipeline.stop(Date.now() + FAILED_STOP_MS);
    throw error;
  } finally {
    progress.stop();
  }
  await pipeline.stop(clock.workDeadline()!);
}

/**
 * The grace period of a stop: everything ends `graceMs` after the stop signal. The work (publishing
 * what is buffered, closing the replication) gets all but a reserve, which is kept for closing the
 * Kafka clients.
 */
class StopClock {
  private requestedAt: number | null = null;
  private readonly onAbort = (): void => {
    this.requestedAt = Date.now();
  };
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly signal: AbortSignal,
    private readonly graceMs: number,
  ) {
    if (signal.aborted) this.requestedAt = Date.now();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** When everything must have ended; null while no stop was asked. */
  deadline(): number | null {
    return this.requestedAt === null ? null : this.requestedAt + this.graceMs;
  }

  /** When the work must have ended (the deadline less the closing reserve); null while no stop was asked. */
  workDeadline(): number | null {
    const deadline = this.deadline();
    return deadline === null ? null : deadline - Math.min(CLOSE_RESERVE_MS, this.graceMs / 4);
  }

  /** Resolves once a stop was asked and the work deadline passed. */
  workDeadlinePassed(): Promise<void> {
    return new Promise((resolve) => {
      const arm = (): void => {
        this.timer = setTimeout(resolve, Math.max(0, this.workDeadline()! - Date.now()));
      };
      if (this.requestedAt !== null) arm();
      else this.signal.addEventListener('abort', arm, { once: true });
    });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this.onAbort);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function tlsOptions(config: SourceConfig) {
  const { tls } = config.dragonfly;
  if (!tls.enabled && !config.dragonfly.url.startsWith('rediss:')) return undefined;
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
    ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
    ...(tls.key ? { key: readFileSync(tls.key) } : {}),
  };
}

async function recoverFromTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  codec: EventCodec,
  sourceId: string,
  tailOptions: Parameters<typeof readPartitionTails>[2],
): Promise<RecoveredState> {
  const partitions = await topicPartitionCount(admin, topic);
  if (partitions === null) return { start: null, resume: null };
  const tails = await decodeTails(await readPartitionTails(kafka, topic, tailOptions), codec, topic);
  return recoverState(tails, sourceId, topic);
}

function logRecovered(logger: Logger, topic: string, recovered: RecoveredState): void {
  const { start, resume } = recovered;
  if (!start) {
    logger.info(`topic "${topic}" holds no events yet: starting with a full sync (epoch 1)`);
  } else if (resume) {
    logger.info(
      `resuming from topic "${topic}": master ${start.masterId}, epoch ${start.epoch}, next LSNs ${resume.nextLsns.join(', ')}`,
    );
  } else {
    logger.info(
      `topic "${topic}" ends inside the snapshot of epoch ${start.epoch} (or some flow has no position): full sync with epoch ${start.epoch + 1}`,
    );
  }
}

/** After a commit with no clear answer: is the last event of every partition in the batch in the topic? */
async function unitsAreInTopic(
  kafka: Kafka,
  topic: string,
  codec: EventCodec,
  units: BufferedUnit[],
  tailOptions: Parameters<typeof readPartitionTails>[2],
): Promise<boolean> {
  const lastKeys = new Map<number, { epoch: number; lsn: number; index: number }>();
  for (const unit of units) if (unit.lastKey) lastKeys.set(unit.flow, unit.lastKey);
  if (lastKeys.size === 0) return true;
  const tails = await readPartitionTails(kafka, topic, tailOptions);
  for (const [partition, wanted] of lastKeys) {
    const tail = tails[partition];
    if (!tail?.key) return false;
    const key = await codec.decodeKey(tail.key);
    const order = key.epoch - wanted.epoch || key.lsn - wanted.lsn || key.index - wanted.index;
    if (order < 0) return false;
  }
  return true;
}
