/**
 * The Kafka side: a consumer group over the topic. Partitions are consumed concurrently, each by its
 * PartitionWorker, events within a partition strictly in order (eachBatch, offsets resolved by hand
 * once applied, heartbeats between batches). On every (re)assignment a partition re-reads its
 * position from the target and seeks there; the group offset is committed after each applied batch
 * for lag tools only — the target's position is the truth.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { SinkConfig } from '../config/sink';
import type { EventCodec } from '../events/codec';
import type { Logger } from '../observability/logger';
import type { RedisStandaloneWriter } from '../targets/redis-standalone';
import { Applier, type ApplierOptions } from './applier';
import type { BarrierCoordinator, BarrierSpec } from './barrier';
import type { DeadLetterQueue } from './dead-letter';
import { sinkMetrics } from './metrics';
import { PartitionWorker } from './partition-worker';
import { nextOffset, positionField } from './checkpoint';

export interface SinkConsumerDeps {
  kafka: Kafka;
  config: SinkConfig;
  writer: RedisStandaloneWriter;
  codec: EventCodec;
  applier: ApplierOptions;
  barriers: BarrierCoordinator;
  deadLetters: DeadLetterQueue;
  logger: Logger;
  /** where partitions without a stored position start (start-position.ts) */
  starts: Map<number, string>;
}

/** More partitions than this are consumed in turns (a barrier needs every flow's partition running). */
const MAX_CONCURRENT_PARTITIONS = 256;
const BARRIER_POLL_MS = 100;
const SESSION_TIMEOUT_MS = 10_000;
/**
 * Fetch sizes: kafkajs fetches a broker's partitions again only once every batch of the previous
 * fetch is applied, so bigger fetches mean fewer idle round trips (kafkajs defaults: 1 MB / 10 MB).
 */
const MAX_BYTES_PER_PARTITION = 8 * 1024 * 1024;
const MAX_FETCH_BYTES = 64 * 1024 * 1024;
/**
 * How long a fetch waits for new data (kafkajs default 5 s): a stop, and a partition resumed after a
 * barrier, wait for the fetch in flight to return.
 */
const FETCH_MAX_WAIT_MS = 500;

interface PartitionState {
  worker: PartitionWorker;
  ready: boolean;
}

export class SinkConsumer {
  private readonly consumer: Consumer;
  private readonly partitions = new Map<number, PartitionState>();
  private failure: ((error: Error) => void) | null = null;
  private halted = false;
  private stopping = false;
  readonly failed: Promise<never>;

  constructor(private readonly deps: SinkConsumerDeps) {
    this.consumer = deps.kafka.consumer({
      groupId: deps.config.groupId,
      allowAutoTopicCreation: false,
      // a sink that died (kill -9) gives its partitions away after this, not after kafkajs's 30 s
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: SESSION_TIMEOUT_MS / 10,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      maxBytes: MAX_FETCH_BYTES,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
    });
    this.failed = new Promise<never>((_, reject) => {
      this.failure = reject;
    });
    this.failed.catch(() => undefined);
    // a rebalance may have moved partitions (and their positions) between processes
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const state of this.partitions.values()) state.ready = false;
      deps.logger.info({ assignment: payload.memberAssignment }, 'joined the consumer group');
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(payload.error);
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.deps.config.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: MAX_CONCURRENT_PARTITIONS,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
  }

  /** Stops all processing: after a failure no partition may go on past the event that failed. */
  private fail(error: Error): void {
    this.halted = true;
    this.failure?.(error);
  }

  private state(partition: number): PartitionState {
    let state = this.partitions.get(partition);
    if (state === undefined) {
      state = { worker: new PartitionWorker(this.workerDeps(partition)), ready: false };
      this.partitions.set(partition, state);
    }
    return state;
  }

  /** Where a partition without a stored position starts (start.from), agreed through the target. */
  private async startFor(partition: number): Promise<string | null> {
    const { config, writer, starts } = this.deps;
    const offset = starts.get(partition) ?? null;
    if (offset === null) return null;
    // every process proposes the same start; the first stored one wins
    await writer.initFields(
      config.checkpoint.key,
      new Map([[positionField(config.topic, partition), offset]]),
    );
    return this.partitions.get(partition)?.worker.load() ?? null;
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, heartbeat, resolveOffset, commitOffsetsIfNecessary } = payload;
    const topic = batch.topic;
    const partition = batch.partition;
    const active = (): boolean => !this.halted && isRunning() && !isStale();
    if (!active() || batch.messages.length === 0) return;
    const state = this.state(partition);
    try {
      if (!state.ready) {
        state.worker = new PartitionWorker(this.workerDeps(partition));
        let start = await state.worker.load();
        if (start === null) start = await this.startFor(partition);
        state.ready = true;
        if (start !== null && start !== batch.firstOffset()) {
          this.deps.logger.info(
            { partition, offset: start },
            `partition ${partition}: continuing at offset ${start}`,
          );
          this.consumer.seek({ topic, partition, offset: start });
          return;
        }
      }
      const result = await state.worker.process(batch.messages, {
        active,
        heartbeat,
        resolveOffset,
        endOffset: endOfMessages(batch),
      });
      if (result.kind === 'reseek') {
        state.ready = false;
        this.consumer.seek({ topic, partition, offset: result.offset });
        return;
      }
      if (result.kind === 'barrier') {
        this.waitAtBarrier(topic, partition, result.offset, result.spec);
        return;
      }
      sinkMetrics.lag.set({ topic, partition: String(partition) }, Number(batch.offsetLag()));
      await commitOffsetsIfNecessary();
    } catch (error) {
      if (leftTheGroup(error)) {
        // kafkajs rejoins the group; the partition reloads its position from the target afterwards
        state.ready = false;
        throw error;
      }
      this.fail(error as Error);
    }
  }

  /**
   * Pauses the partition until every flow has reached the barrier and it was executed, then reads
   * again from the barrier event. The other partitions go on meanwhile (they must, to get there).
   */
  private waitAtBarrier(topic: string, partition: number, offset: string, spec: BarrierSpec): void {
    this.consumer.pause([{ topic, partitions: [partition] }]);
    this.deps.logger.info(
      { partition, barrier: spec.id },
      `flow ${spec.flow} waits at barrier ${spec.id} for the other flows`,
    );
    const poll = async (): Promise<void> => {
      while (!this.halted && !this.stopping) {
        if (await this.deps.barriers.arrive(spec)) break;
        await new Promise((resolve) => setTimeout(resolve, BARRIER_POLL_MS));
      }
      if (this.halted || this.stopping) return;
      this.consumer.seek({ topic, partition, offset });
      this.consumer.resume([{ topic, partitions: [partition] }]);
    };
    poll().catch((error: unknown) => this.fail(error as Error));
  }

  private workerDeps(partition: number): ConstructorParameters<typeof PartitionWorker>[0] {
    const { config, writer, codec, barriers, deadLetters, logger } = this.deps;
    return {
      topic: config.topic,
      partition,
      config,
      writer,
      applier: new Applier(this.deps.applier),
      codec,
      barriers,
      deadLetters,
      logger: logger.child({ partition }),
      now: () => Date.now(),
    };
  }
}

/** Group-membership errors: kafkajs handles them by rejoining; they are no failure of the sink. */
const MEMBERSHIP_ERRORS = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
]);

function leftTheGroup(error: unknown): boolean {
  return MEMBERSHIP_ERRORS.has((error as { type?: string }).type ?? '');
}

/**
 * Where the partition's messages end, as far as this fetch saw. The source writes in transactions: a
 * partition ends in a commit marker, a control record that takes an offset but is never delivered,
 * so the high watermark is one past an offset no message has. `lastOffset()` counts the control
 * records of the batch: when it reaches the high watermark, this batch holds the last message.
 */
function endOfMessages(batch: EachBatchPayload['batch']): string {
  const reachesEnd = BigInt(batch.lastOffset()) + 1n >= BigInt(batch.highWatermark);
  const lastMessage = batch.messages[batch.messages.length - 1];
  return reachesEnd && lastMessage ? nextOffset(lastMessage.offset) : batch.highWatermark;
}
