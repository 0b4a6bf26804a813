/**
 * Reads the last committed message of every partition of a topic (read-committed: records of aborted
 * or still-open transactions are invisible). kafkajs has no manual partition assignment, so this runs
 * a throw-away consumer group that seeks each partition a few records before its end, and further back
 * when that window held only transaction markers or aborted records.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface TailMessage {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
}

export interface TailReadOptions {
  /** prefix of the throw-away consumer group's id */
  groupIdPrefix: string;
  timeoutMs: number;
  /** largest message the topic may hold, so one fetch can always return it */
  maxMessageBytes: number;
}

interface PartitionScan {
  partition: number;
  low: number;
  high: number;
  window: number;
  start: number;
  found: TailMessage | null;
  done: boolean;
}

const FIRST_WINDOW = 16;
const WINDOW_GROWTH = 8;

/** Last committed message per partition (index = partition); null for partitions without one. */
export async function readPartitionTails(
  kafka: Kafka,
  topic: string,
  options: TailReadOptions,
): Promise<(TailMessage | null)[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${options.groupIdPrefix}-tail-${randomBytes(6).toString('hex')}`;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const scans: PartitionScan[] = offsets
      .map(({ partition, low, high }) => {
        const [l, h] = [Number(low), Number(high)];
        const start = Math.max(l, h - FIRST_WINDOW);
        return { partition, low: l, high: h, window: FIRST_WINDOW, start, found: null, done: h <= l };
      })
      .sort((a, b) => a.partition - b.partition);
    if (scans.some((s) => !s.done)) await scanTails(kafka, topic, groupId, scans, options);
    const tails: (TailMessage | null)[] = [];
    for (const scan of scans) tails[scan.partition] = scan.found;
    return tails;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

async function scanTails(
  kafka: Kafka,
  topic: string,
  groupId: string,
  scans: PartitionScan[],
  options: TailReadOptions,
): Promise<void> {
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: Math.max(1024 * 1024, options.maxMessageBytes * 2),
    sessionTimeout: 30_000,
  });
  const byPartition = new Map(scans.map((s) => [s.partition, s]));
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const seek = (scan: PartitionScan): void =>
    consumer.seek({ topic, partition: scan.partition, offset: String(scan.start) });

  const handle = (partition: number, messages: KafkaMessage[], lastOffset: string): void => {
    const scan = byPartition.get(partition);
    if (!scan || scan.done) return;
    for (const m of messages) {
      const offset = Number(m.offset);
      if (offset >= scan.high || (scan.found && scan.found.offset >= offset)) continue;
      scan.found = { partition, offset, key: m.key, value: m.value };
    }
    if (Number(lastOffset) < scan.high - 1) return;
    if (scan.found || scan.start <= scan.low) {
      scan.done = true;
      if (scans.every((s) => s.done)) finish();
      return;
    }
    // the window held only markers or aborted records: look further back
    scan.window *= WINDOW_GROWTH;
    scan.start = Math.max(scan.low, scan.high - scan.window);
    seek(scan);
  };

  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: false });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const scan of scans) if (!scan.done) seek(scan);
    });
    consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) handle(payload.partition, [], payload.lastOffset);
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch }) => handle(batch.partition, batch.messages, batch.lastOffset()),
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const pending = scans.filter((s) => !s.done).map((s) => s.partition);
        reject(
          new Error(
            `could not read the end of topic "${topic}" within ${options.timeoutMs} ms (partitions ${pending.join(', ')} unfinished); ` +
              'check that the brokers are reachable and the topic is readable by this client',
          ),
        );
      }, options.timeoutMs);
    });
    try {
      await Promise.race([finished, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
  }
}
