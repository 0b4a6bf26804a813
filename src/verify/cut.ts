/**
 * At-a-cut verification of a live pipeline: before comparing, fix a cut and wait until the sink has
 * applied everything up to it, so every difference left is either a real one or a key written after
 * the cut (which the re-checks sort out).
 * - `master`: the master's per-flow journal positions (DFLY REPLICAOFFSET, the next LSN of each
 *   shard); wait until the topic's last event of every flow is at or past them (the source has
 *   published the cut), and take those events' offsets as the cut.
 * - `topic`: the offsets of the topic's last events at start (what the source had published then;
 *   for a source that is not a Dragonfly master, or when the master cannot be asked).
 * Then wait until the sink's checkpoint (next offset to apply per partition, in the target's db 0)
 * reaches the cut on every partition.
 */
import type { Kafka } from 'kafkajs';
import { EventCodec } from '../events/codec';
import { createKafkaClient } from '../kafka/client';
import { topicPartitionCount } from '../kafka/topic';
import { createLogger } from '../observability/logger';
import { nextLsnAfter } from '../source/positions';
import { readPartitionTails, type TailMessage } from '../source/tail-reader';
import type { VerifyConfig } from './config';
import type { Clock } from './rate-limit';
import type { VerifyServer } from './server';

/** The cut cannot be fixed or is not reached in time. */
export class CutError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CutError';
  }
}

const POLL_MS = 500;
const TAIL_READ_TIMEOUT_MS = 30_000;
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Per partition: the sink's checkpoint must reach this offset (null = the partition holds nothing). */
export type CutOffsets = (number | null)[];

export interface CutResult {
  offsets: CutOffsets;
  /** the cut in words, for the summary */
  description: string;
}

/** Fails fast, and says so, when the topic is not there (reading its ends would retry for long). */
async function checkTopicExists(kafka: Kafka, topic: string, brokers: string[]): Promise<void> {
  const admin = kafka.admin();
  let partitions: number | null;
  try {
    await admin.connect();
    partitions = await topicPartitionCount(admin, topic);
  } catch (error) {
    throw new CutError(
      `cannot reach Kafka at ${brokers.join(',')} (${(error as Error).message}): check --kafka-brokers`,
      { cause: error },
    );
  } finally {
    await admin.disconnect();
  }
  if (partitions === null) {
    throw new CutError(
      `topic "${topic}" does not exist on ${brokers.join(',')}: set --topic to the pipeline's topic`,
    );
  }
}

async function tails(kafka: Kafka, topic: string): Promise<(TailMessage | null)[]> {
  try {
    return await readPartitionTails(kafka, topic, {
      groupIdPrefix: 'dragonfly-cdc-verify',
      timeoutMs: TAIL_READ_TIMEOUT_MS,
      maxMessageBytes: MAX_MESSAGE_BYTES,
    });
  } catch (error) {
    throw new CutError(
      `cannot read the ends of topic "${topic}" (${(error as Error).message}): check --kafka-brokers and --topic`,
      { cause: error },
    );
  }
}

/** The master's next LSN per flow, as DFLY REPLICAOFFSET reports it. */
export async function masterLsns(source: VerifyServer): Promise<number[]> {
  let reply: unknown;
  try {
    reply = await source.redis.call('DFLY', 'REPLICAOFFSET');
  } catch (error) {
    throw new CutError(
      `the source does not report its journal positions (DFLY REPLICAOFFSET: ${(error as Error).message}): ` +
        'it is not a Dragonfly master; use --cut-mode topic',
    );
  }
  return (reply as unknown[]).map(Number);
}

/** Offsets where every flow's published events reach `lsns` (the first tail at or past them). */
async function offsetsReaching(
  kafka: Kafka,
  topic: string,
  lsns: number[],
  deadlineMs: number,
  clock: Clock,
): Promise<CutOffsets> {
  const codec = await EventCodec.create();
  for (;;) {
    const ends = await tails(kafka, topic);
    const offsets: CutOffsets = [];
    const behind: string[] = [];
    for (let flow = 0; flow < lsns.length; flow++) {
      const tail = ends[flow];
      const wanted = lsns[flow]!;
      const next = tail?.value ? nextLsnAfter(await codec.decodeValue(tail.value)) : null;
      if (wanted === 0 || (next !== null && next >= wanted)) offsets[flow] = tail ? tail.offset + 1 : null;
      else behind.push(`flow ${flow} published up to LSN ${next ?? 'none'} of ${wanted}`);
    }
    if (behind.length === 0) return offsets;
    if (clock.now() > deadlineMs) {
      throw new CutError(
        `the source has not published the master's cut in time (${behind.join('; ')}): ` +
          'is the source running and attached to this master? Raise --cut-timeout-ms, or use --cut-mode topic',
      );
    }
    await clock.sleep(POLL_MS);
  }
}

/** Waits until the sink's checkpoint in the target reaches every partition's cut offset. */
async function sinkReaches(
  target: VerifyServer,
  checkpointKey: string,
  topic: string,
  offsets: CutOffsets,
  deadlineMs: number,
  clock: Clock,
): Promise<void> {
  const partitions = offsets.flatMap((offset, partition) => (offset === null ? [] : [partition]));
  if (partitions.length === 0) return;
  await target.select(0);
  for (;;) {
    const applied = await target.redis.hmget(checkpointKey, ...partitions.map((p) => `${topic}/${p}`));
    const behind = partitions.filter((p, i) => Number(applied[i] ?? -1) < offsets[p]!);
    if (behind.length === 0) return;
    if (clock.now() > deadlineMs) {
      const where = behind.map(
        (p) => `partition ${p} at ${applied[partitions.indexOf(p)] ?? 'nothing'} of ${offsets[p]}`,
      );
      throw new CutError(
        `the sink has not applied the cut in time (${where.join('; ')}; checkpoint hash "${checkpointKey}" in db 0 of the target): ` +
          'is the sink running against this target and topic? Raise --cut-timeout-ms',
      );
    }
    await clock.sleep(POLL_MS);
  }
}

export async function waitForCut(
  config: VerifyConfig,
  source: VerifyServer,
  target: VerifyServer,
  clock: Clock,
): Promise<CutResult> {
  const deadlineMs = clock.now() + config.cut.timeoutMs;
  const kafka = createKafkaClient(
    config.kafka,
    createLogger({ role: 'verify', level: 'silent', format: 'json' }),
  );
  await checkTopicExists(kafka, config.topic, config.kafka.brokers);
  let offsets: CutOffsets;
  let description: string;
  if (config.cut.mode === 'master') {
    const lsns = await masterLsns(source);
    offsets = await offsetsReaching(kafka, config.topic, lsns, deadlineMs, clock);
    description = `master LSNs ${lsns.join(',')} = topic offsets ${offsets.map((o) => o ?? '-').join(',')}`;
  } else {
    offsets = (await tails(kafka, config.topic)).map((tail) => (tail ? tail.offset + 1 : null));
    description = `topic end at start, offsets ${offsets.map((o) => o ?? '-').join(',')}`;
  }
  await sinkReaches(target, config.cut.checkpointKey, config.topic, offsets, deadlineMs, clock);
  return { offsets, description: `${description}, applied by the sink` };
}
