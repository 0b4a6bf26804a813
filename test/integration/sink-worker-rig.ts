/**
 * The sink's partition workers against a real redis-server, without Kafka: each partition's events
 * (encoded as the source encodes them) are handed to PartitionWorker in fetches as kafkajs would,
 * re-reads (reseek) and barriers are followed as consumer.ts does, a process restart is a new set
 * of workers reading the stored positions, and faults of the network are injected at the writer
 * (a request lost, a reply lost after the script ran, the connection killed). Used by the tests of
 * the apply path's correctness under faults and by the sink's property test.
 */
import Redis from 'ioredis';
import type { KafkaMessage } from 'kafkajs';
import type { SinkConfig } from '../../src/config/sink';
import { EventCodec } from '../../src/events/codec';
import type { ChangeEvent } from '../../src/events/model';
import { createLogger } from '../../src/observability/logger';
import { Applier } from '../../src/sink/applier';
import { BarrierCoordinator, type BarrierSpec } from '../../src/sink/barrier';
import { keyMapping } from '../../src/sink/db-mapping';
import { DeadLetterQueue, type DeadLetter } from '../../src/sink/dead-letter';
import { PartitionWorker } from '../../src/sink/partition-worker';
import type { TargetCapabilities } from '../../src/targets/capabilities';
import {
  RedisStandaloneWriter,
  type BatchRequest,
  type BatchResult,
} from '../../src/targets/redis-standalone';

/** What can go wrong between the sink and Redis around one apply call. */
export type WriterFault = 'lose-request' | 'lose-reply' | 'kill-connection' | 'oom';

export const WRITER_FAULTS: WriterFault[] = ['lose-request', 'lose-reply', 'kill-connection', 'oom'];

/**
 * The sink's writer with faults injected at chosen apply calls: the request never reaches Redis,
 * or the script runs and its reply is lost, or the connection is killed by Redis (CLIENT KILL)
 * right after the request was sent, or Redis is out of memory while the call runs (maxmemory 1:
 * the script's first write fails with OOM).
 */
export class FaultyWriter extends RedisStandaloneWriter {
  private readonly planned = new Map<number, WriterFault>();
  /** apply calls so far */
  calls = 0;
  /** asked at every call without a planned fault */
  chooser: () => WriterFault | null = () => null;
  readonly injected: Record<WriterFault, number> = {
    'lose-request': 0,
    'lose-reply': 0,
    'kill-connection': 0,
    oom: 0,
  };

  constructor(
    redis: Redis,
    private readonly admin: Redis,
  ) {
    super(redis);
  }

  static async open(url: string): Promise<FaultyWriter> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    // killed connections are intended here: the failed calls report them, the log need not
    redis.on('error', () => undefined);
    await redis.connect();
    const writer = new FaultyWriter(redis, new Redis(url));
    await writer.loadScripts();
    return writer;
  }

  /** Makes apply call number `call` (from now: 0 = the next one) meet `fault`. */
  inject(call: number, fault: WriterFault): void {
    this.planned.set(this.calls + call, fault);
  }

  override async apply(request: BatchRequest): Promise<BatchResult> {
    const fault = this.planned.get(this.calls) ?? this.chooser();
    this.planned.delete(this.calls);
    this.calls++;
    if (fault !== undefined && fault !== null) this.injected[fault]++;
    if (fault === 'lose-request') throw new Error('Connection is closed. (injected: the request was lost)');
    if (fault === 'oom') return this.outOfMemory(request);
    const reply = super.apply(request);
    if (fault === 'lose-reply') {
      await reply.catch(() => undefined);
      throw new Error('Connection is closed. (injected: the reply was lost)');
    }
    if (fault === 'kill-connection') {
      const local = this.redis.stream;
      await this.admin.client('KILL', 'ADDR', `${local.localAddress}:${local.localPort}`).catch(() => 0);
    }
    return reply;
  }

  private async outOfMemory(request: BatchRequest): Promise<BatchResult> {
    await this.admin.config('SET', 'maxmemory', '1');
    try {
      return await super.apply(request);
    } finally {
      await this.admin.config('SET', 'maxmemory', '0');
    }
  }

  override async close(): Promise<void> {
    this.admin.disconnect();
    await super.close();
  }
}

/** Dead letters kept in memory (the rig has no Kafka). */
class RecordingDeadLetters extends DeadLetterQueue {
  readonly letters: DeadLetter[] = [];

  override send(letter: DeadLetter): Promise<void> {
    this.letters.push(letter);
    return Promise.resolve();
  }
}

export interface RigPartition {
  messages: KafkaMessage[];
  /** next offset to hand to the worker */
  at: number;
  worker: PartitionWorker | null;
  /** waiting at this barrier: ask again, then read from `offset` */
  barrier: { offset: string; spec: BarrierSpec } | null;
}

export interface RigOptions {
  config: SinkConfig;
  capabilities: TargetCapabilities;
  /** messages per fetch (default: all that are left) */
  fetchSize?: () => number;
  /** where the partitions end as the worker is told (default: after their last message) */
  endOffset?: number;
}

/** Encodes each flow's events as the messages of the partition of the same number. */
export async function partitionMessages(flows: ChangeEvent[][]): Promise<KafkaMessage[][]> {
  const codec = await EventCodec.create();
  return flows.map((events) =>
    events.map(
      (event, offset) =>
        ({ offset: String(offset), value: codec.encodeValue(event), headers: {} }) as unknown as KafkaMessage,
    ),
  );
}

/**
 * One sink process over the partitions: `step` hands one fetch of one partition to its worker.
 * `restart` is a process restart (new workers and appliers, a new connection; positions come from
 * the target).
 */
export class SinkRig {
  writer!: FaultyWriter;
  readonly deadLetters: RecordingDeadLetters;
  private readonly logger = createLogger({ role: 'sink', level: 'silent', format: 'json' });
  private codec!: EventCodec;
  readonly partitions: RigPartition[];

  private constructor(
    private readonly url: string,
    private readonly options: RigOptions,
    messages: KafkaMessage[][],
  ) {
    this.deadLetters = new RecordingDeadLetters(null, '', options.config.groupId, this.logger);
    this.partitions = messages.map((m) => ({ messages: m, at: 0, worker: null, barrier: null }));
  }

  static async start(url: string, options: RigOptions, messages: KafkaMessage[][]): Promise<SinkRig> {
    const rig = new SinkRig(url, options, messages);
    rig.codec = await EventCodec.create();
    rig.writer = await FaultyWriter.open(url);
    return rig;
  }

  /** Every partition's position reached its last message. */
  done(): boolean {
    return this.partitions.every((p) => p.worker !== null && p.at >= p.messages.length && p.barrier === null);
  }

  async restart(): Promise<void> {
    await this.writer.close();
    const { injected, chooser } = this.writer;
    this.writer = await FaultyWriter.open(this.url);
    Object.assign(this.writer.injected, injected);
    this.writer.chooser = chooser;
    for (const p of this.partitions) {
      p.worker = null;
      p.barrier = null;
    }
  }

  async stop(): Promise<void> {
    await this.writer.close();
  }

  /** Hands the next fetch of `partition` to its worker (or asks its barrier again). */
  async step(partition: number): Promise<void> {
    const p = this.partitions[partition]!;
    const { config } = this.options;
    if (p.barrier !== null) {
      if (!(await this.barriers().arrive(p.barrier.spec))) return;
      p.at = Number(p.barrier.offset);
      p.barrier = null;
    }
    if (p.worker === null) {
      p.worker = new PartitionWorker({
        topic: config.topic,
        partition,
        config,
        writer: this.writer,
        applier: new Applier({
          capabilities: this.options.capabilities,
          degrade: config.degrade,
          keys: keyMapping(config.db),
        }),
        codec: this.codec,
        barriers: this.barriers(),
        deadLetters: this.deadLetters,
        logger: this.logger,
        now: () => Date.now(),
      });
      const start = await p.worker.load();
      p.at = start === null ? 0 : Number(start);
    }
    if (p.at >= p.messages.length) return;
    const size = this.options.fetchSize?.() ?? p.messages.length;
    const fetched = p.messages.slice(p.at, p.at + Math.max(1, size));
    const result = await p.worker.process(fetched, {
      active: () => true,
      heartbeat: () => Promise.resolve(),
      resolveOffset: () => undefined,
      endOffset: String(this.options.endOffset ?? p.messages.length),
    });
    if (result.kind === 'done') p.at += fetched.length;
    else if (result.kind === 'reseek') {
      p.worker = null;
      p.at = Number(result.offset);
    } else p.barrier = { offset: result.offset, spec: result.spec };
  }

  /** Steps every partition in turn until all reached their end; errors of the workers propagate. */
  async runToEnd(maxSteps = 100_000): Promise<void> {
    for (let steps = 0; !this.done(); steps++) {
      if (steps > maxSteps) throw new Error(`the rig made no end after ${maxSteps} steps`);
      await this.step(steps % this.partitions.length);
    }
  }

  private barriers(): BarrierCoordinator {
    const { config } = this.options;
    return new BarrierCoordinator(
      this.writer,
      config.checkpoint.key,
      config.topic,
      keyMapping(config.db),
      this.logger,
    );
  }
}
