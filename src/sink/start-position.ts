/**
 * Where a sink without a stored position starts (start.from): earliest = the first event Kafka still
 * keeps; latest-snapshot = the SnapshotStarted of the most recent epoch whose snapshot is complete
 * (SnapshotStarted and SnapshotFinished present) on every flow's partition. Finding the latter reads
 * the topic once with a throw-away consumer group, up to the end offsets seen at the start.
 */
import type { Kafka } from 'kafkajs';
import type { EventCodec } from '../events/codec';
import type { Logger } from '../observability/logger';

interface PartitionMarks {
  started: Map<number, { offset: string; flows: number }>;
  finished: Set<number>;
}

/** The latest complete epoch and where it starts, from what each partition holds (pure). */
export function latestCompleteSnapshot(marks: Map<number, PartitionMarks>): Map<number, string> | null {
  const epochs = new Set<number>();
  for (const m of marks.values()) for (const e of m.finished) epochs.add(e);
  for (const epoch of [...epochs].sort((a, b) => b - a)) {
    const anyStart = [...marks.values()].map((m) => m.started.get(epoch)).find((s) => s !== undefined);
    if (anyStart === undefined) continue;
    const starts = new Map<number, string>();
    let complete = true;
    for (let flow = 0; flow < anyStart.flows; flow++) {
      const m = marks.get(flow);
      const start = m?.started.get(epoch);
      if (!m || !start || !m.finished.has(epoch)) {
        complete = false;
        break;
      }
      starts.set(flow, start.offset);
    }
    if (complete) return starts;
  }
  return null;
}

export async function earliestOffsets(kafka: Kafka, topic: string): Promise<Map<number, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, o.low]));
  } finally {
    await admin.disconnect();
  }
}

/** Reads the topic once and finds the latest complete snapshot; null when there is none. */
export async function findLatestSnapshot(
  kafka: Kafka,
  topic: string,
  groupId: string,
  codec: EventCodec,
  logger: Logger,
): Promise<Map<number, string> | null> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  const scanGroup = `${groupId}.start-scan.${process.pid}.${Date.now()}`;
  const consumer = kafka.consumer({ groupId: scanGroup });
  const marks = new Map<number, PartitionMarks>();
  const remaining = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  logger.info(
    `looking for the latest complete snapshot in ${topic} (reading ${remaining.size} partitions once)`,
  );
  try {
    if (remaining.size > 0) {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            partitionsConsumedConcurrently: Math.max(1, ends.size),
            eachBatch: async ({ batch }) => {
              const m = marks.get(batch.partition) ?? { started: new Map(), finished: new Set() };
              marks.set(batch.partition, m);
              for (const message of batch.messages) {
                if (message.value === null) continue;
                const event = await codec.decodeValue(message.value).catch(() => null);
                const payload = event?.payload;
                if (payload?.type === 'SnapshotStarted' && !m.started.has(payload.epoch))
                  m.started.set(payload.epoch, { offset: message.offset, flows: payload.flows });
                if (payload?.type === 'SnapshotFinished' && event) m.finished.add(event.source.epoch);
                if (BigInt(message.offset) + 1n >= (ends.get(batch.partition) ?? 0n))
                  remaining.delete(batch.partition);
              }
              if (remaining.size === 0) resolve();
            },
          })
          .catch(reject);
      });
    }
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([scanGroup]).catch(() => undefined);
    await admin.disconnect();
  }
  return latestCompleteSnapshot(marks);
}
