/**
 * Before a sink consumes: its topic must exist (a sink started beside its source waits for the source
 * to create it), and a partition without a stored position needs a start (startFrom): earliest = the
 * first event Kafka still keeps; latest-snapshot = the SnapshotStarted of the most recent epoch whose
 * snapshot is complete on every flow's partition (snapshot-search.ts). With startWait the sink waits
 * for what is missing, saying what it waits for; without it, it stops with what to do.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { SinkConfig } from '../config/sink';
import type { EventCodec } from '../events/codec';
import { PartitionReader } from '../kafka/partition-reader';
import { topicPartitionCount } from '../kafka/topic';
import type { Logger } from '../observability/logger';
import { StartPositionError } from './errors';
import {
  SnapshotSearch,
  type FlowProgress,
  type PartitionBounds,
  type SnapshotSearchResult,
} from './snapshot-search';

/** How often a waiting sink looks again. */
const POLL_MS = 2000;
/** How often a waiting sink says again what it waits for. */
const WAIT_LOG_INTERVAL_MS = 10_000;
/** How long one read of the search may go without an answer from Kafka. */
const READ_TIMEOUT_MS = 60_000;
/** Per partition and fetch: the search reads single messages (the broker returns at least one batch). */
const SEARCH_FETCH_BYTES = 256 * 1024;

export interface StartContext {
  kafka: Kafka;
  config: SinkConfig;
  codec: EventCodec;
  logger: Logger;
  /** aborted: stop waiting (the functions below then return null) */
  signal: AbortSignal;
}

/** Sleeps, or returns false at once when the sink is stopped. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const done = (): void => {
      clearTimeout(timer);
      resolve(!signal.aborted);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Repeats `attempt` until it returns a value, logging `waiting(...)` at most every 10 s; null when stopped. */
async function waitUntil<T>(
  signal: AbortSignal,
  attempt: () => Promise<{ value: T } | { waiting: string }>,
  log: (message: string) => void,
): Promise<T | null> {
  let lastLog = 0;
  for (;;) {
    const outcome = await attempt();
    if ('value' in outcome) return outcome.value;
    if (Date.now() - lastLog >= WAIT_LOG_INTERVAL_MS) {
      log(outcome.waiting);
      lastLog = Date.now();
    }
    if (!(await pause(POLL_MS, signal))) return null;
  }
}

async function withAdmin<T>(kafka: Kafka, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the topic exists; its partition count, or null when stopped while waiting. */
export async function waitForTopic(context: StartContext): Promise<number | null> {
  const { kafka, config, logger, signal } = context;
  const { topic } = config;
  const started = Date.now();
  return withAdmin(kafka, (admin) =>
    waitUntil<number>(
      signal,
      async () => {
        const partitions = await topicPartitionCount(admin, topic);
        if (partitions !== null && partitions > 0) return { value: partitions };
        if (!config.startWait) {
          throw new StartPositionError(
            `topic "${topic}" does not exist on ${config.kafka.brokers.join(', ') || 'the brokers'}`,
            'Start the source first (it creates the topic), or check the setting topic; with startWait on, the sink waits for it',
          );
        }
        const seconds = Math.round((Date.now() - started) / 1000);
        return {
          waiting: `waiting for topic "${topic}" to be created (the source creates it when it starts) — ${seconds} s so far`,
        };
      },
      (message) => logger.info(message),
    ),
  );
}

async function partitionBounds(kafka: Kafka, topic: string): Promise<Map<number, PartitionBounds>> {
  const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
}

function describeFlows(flows: FlowProgress[]): string {
  return flows
    .map((f) =>
      f.absent
        ? `flow ${f.flow}: not started`
        : f.finished
          ? `flow ${f.flow}: finished`
          : `flow ${f.flow}: in its snapshot, ${f.offsetsSinceStart} offsets since its start`,
    )
    .join('; ');
}

function describeMissing(topic: string, result: Exclude<SnapshotSearchResult, { kind: 'found' }>): string {
  return result.kind === 'empty'
    ? `topic "${topic}" holds no events yet`
    : `no complete snapshot in topic "${topic}" yet: the snapshot of epoch ${result.epoch} is incomplete (${describeFlows(result.flows)})`;
}

/** The latest complete snapshot's start per partition, waiting for one when startWait; null when stopped. */
export async function latestSnapshotStarts(context: StartContext): Promise<Map<number, string> | null> {
  const { kafka, config, codec, logger, signal } = context;
  const { topic } = config;
  const reader = await PartitionReader.open(kafka, topic, {
    groupIdPrefix: `${config.groupId}.start-search`,
    timeoutMs: READ_TIMEOUT_MS,
    maxBytesPerPartition: SEARCH_FETCH_BYTES,
  });
  try {
    logger.info(`looking for the latest complete snapshot in topic "${topic}"`);
    return await waitUntil<Map<number, string>>(
      signal,
      async () => {
        const started = Date.now();
        const result = await new SnapshotSearch(
          topic,
          reader,
          codec,
          await partitionBounds(kafka, topic),
        ).run();
        if (result.kind === 'found') {
          const where = [...result.starts].map(([p, o]) => `partition ${p} at offset ${o}`).join(', ');
          logger.info(
            { epoch: result.epoch, searchMs: Date.now() - started },
            `starting at the snapshot of epoch ${result.epoch}: ${where} (found in ${Date.now() - started} ms)`,
          );
          return { value: result.starts };
        }
        const missing = describeMissing(topic, result);
        if (!config.startWait) {
          throw new StartPositionError(
            missing,
            'Let the source finish its snapshot (its log says "snapshot of epoch N is in Kafka"), turn startWait on to wait for it, or set startFrom=earliest',
          );
        }
        return { waiting: `${missing}; waiting for a complete snapshot` };
      },
      (message) => logger.info(message),
    );
  } finally {
    await reader.close();
  }
}

export async function earliestOffsets(kafka: Kafka, topic: string): Promise<Map<number, string>> {
  const bounds = await partitionBounds(kafka, topic);
  return new Map([...bounds].map(([p, b]) => [p, String(b.low)]));
}

/** Where partitions without a stored position start (startFrom); null when stopped while waiting. */
export async function startPositions(context: StartContext): Promise<Map<number, string> | null> {
  return context.config.startFrom === 'latest-snapshot'
    ? latestSnapshotStarts(context)
    : earliestOffsets(context.kafka, context.config.topic);
}
