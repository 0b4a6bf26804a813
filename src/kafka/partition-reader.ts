/**
 * Reads chosen offset ranges of a topic's partitions (read-committed), for searches that must not read
 * the whole topic. kafkajs has no manual partition assignment, so a throw-away consumer group holds
 * every partition, keeps the idle ones paused, and seeks a partition to the range asked for.
 *
 * A range [from, to) is done when the consumer's position passed to - 1 counting every offset,
 * including control records (transaction commit/abort markers) and aborted records, which are never
 * delivered as messages: the last offset of a transactional topic is always such a marker, so
 * waiting for a message there would wait forever.
 */
import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';

export interface PartitionReaderOptions {
  /** prefix of the throw-away consumer group's id */
  groupIdPrefix: string;
  /** how long one read may go without reaching its end before it fails */
  timeoutMs: number;
  /** bytes fetched per partition and request (the broker still returns one whole batch if larger) */
  maxBytesPerPartition: number;
}

interface PendingRead {
  partition: number;
  from: bigint;
  to: bigint;
  /** next offset not seen yet */
  cursor: bigint;
  messages: KafkaMessage[];
  enough: (messages: KafkaMessage[]) => boolean;
  resolve: (messages: KafkaMessage[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** How long a fetch waits for data: a seek takes effect at the next fetch. */
const FETCH_MAX_WAIT_MS = 50;

export class PartitionReader {
  private readonly pending = new Map<number, PendingRead>();
  private partitions: number[] = [];

  private constructor(
    private readonly topic: string,
    private readonly consumer: Consumer,
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly options: PartitionReaderOptions,
  ) {}

  /** Joins a throw-away group over `topic` and waits (bounded) until it holds the partitions. */
  static async open(kafka: Kafka, topic: string, options: PartitionReaderOptions): Promise<PartitionReader> {
    const groupId = `${options.groupIdPrefix}-${randomBytes(6).toString('hex')}`;
    const consumer = kafka.consumer({
      groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: options.maxBytesPerPartition,
      sessionTimeout: 30_000,
    });
    const admin = kafka.admin();
    const reader = new PartitionReader(topic, consumer, admin, groupId, options);
    await admin.connect();
    try {
      await reader.start();
    } catch (error) {
      await reader.close();
      throw error;
    }
    return reader;
  }

  private async start(): Promise<void> {
    const { consumer, topic } = this;
    let joined!: () => void;
    const assigned = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.partitions = payload.memberAssignment[topic] ?? [];
      // idle partitions stay paused; reads in progress continue where they were
      const idle = this.partitions.filter((p) => !this.pending.has(p));
      if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
      for (const read of this.pending.values())
        consumer.seek({ topic, partition: read.partition, offset: String(read.cursor) });
      joined();
    });
    consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
      // a fetch that held only markers or aborted records reaches no eachBatch
      if (payload.batchSize === 0)
        this.onBatch(payload.partition, payload.firstOffset, payload.lastOffset, []);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) =>
        this.onBatch(batch.partition, batch.firstOffset(), batch.lastOffset(), batch.messages),
    });
    await withTimeout(
      assigned,
      this.options.timeoutMs,
      () =>
        new Error(
          `could not join a consumer group to read topic "${topic}" within ${this.options.timeoutMs} ms; ` +
            'check that kafka.brokers are reachable and that this client may read the topic',
        ),
    );
  }

  /**
   * The committed messages in [from, to) of a partition, in offset order; stops early once `enough`
   * says so (it sees the messages read so far). Fails after options.timeoutMs without reaching `to`.
   */
  read(
    partition: number,
    from: bigint,
    to: bigint,
    enough: (messages: KafkaMessage[]) => boolean = () => false,
  ): Promise<KafkaMessage[]> {
    if (from >= to) return Promise.resolve([]);
    if (this.pending.has(partition))
      return Promise.reject(new Error(`partition ${partition} is already being read`));
    return new Promise<KafkaMessage[]>((resolve, reject) => {
      const read: PendingRead = {
        partition,
        from,
        to,
        cursor: from,
        messages: [],
        enough,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.finish(read);
          reject(
            new Error(
              `reading topic "${this.topic}" partition ${partition} offsets ${from} to ${to - 1n}: ` +
                `no further than offset ${read.cursor} after ${this.options.timeoutMs} ms; ` +
                'check that the brokers are reachable and that this client may read the topic',
            ),
          );
        }, this.options.timeoutMs),
      };
      this.pending.set(partition, read);
      this.consumer.seek({ topic: this.topic, partition, offset: String(from) });
      this.consumer.resume([{ topic: this.topic, partitions: [partition] }]);
    });
  }

  async close(): Promise<void> {
    for (const read of [...this.pending.values()]) {
      this.finish(read);
      read.reject(new Error(`reading topic "${this.topic}" was stopped`));
    }
    await this.consumer.disconnect().catch(() => undefined);
    await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }

  private onBatch(
    partition: number,
    firstOffset: string | null,
    lastOffset: string,
    messages: KafkaMessage[],
  ): void {
    const read = this.pending.get(partition);
    // a fetch from before the latest seek, or one that does not continue where the read is
    if (!read || firstOffset === null || BigInt(firstOffset) > read.cursor) return;
    for (const message of messages) {
      const offset = BigInt(message.offset);
      if (offset >= read.cursor && offset < read.to) read.messages.push(message);
    }
    const next = BigInt(lastOffset) + 1n;
    if (next > read.cursor) read.cursor = next;
    if (read.cursor >= read.to || read.enough(read.messages)) {
      this.finish(read);
      read.resolve(read.messages);
    }
  }

  private finish(read: PendingRead): void {
    clearTimeout(read.timer);
    this.pending.delete(read.partition);
    this.consumer.pause([{ topic: this.topic, partitions: [read.partition] }]);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(error()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
