/**
 * The changes topic: one per source, partition = flow id. Created when absent with one partition per
 * flow (or the configured count); an existing topic must have at least as many partitions as the
 * master has flows, else events of some flows would have nowhere to go.
 */
import type { Admin } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  /** partitions when creating; 0 = one per flow */
  partitions: number;
  /** replication factor when creating; 0 = the broker's default */
  replicationFactor: number;
  /** the topic's max.message.bytes when creating */
  maxMessageBytes: number;
}

/** The topic cannot carry this source's events; the message says what to change. */
export class TopicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicError';
  }
}

/** Partition count of the topic, or null when it does not exist. */
export async function topicPartitionCount(admin: Admin, topic: string): Promise<number | null> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) return null;
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions.length ?? 0;
}

export function tooFewPartitions(topic: string, partitions: number, flows: number): TopicError {
  return new TopicError(
    `topic "${topic}" has ${partitions} partition(s) but the master has ${flows} flows (one partition per flow): ` +
      `add partitions (kafka-topics.sh --alter --topic ${topic} --partitions ${flows}), ` +
      'or use a new topic (setting "topic") — the source never changes an existing topic',
  );
}

/** Makes sure the topic exists with at least `flows` partitions; returns its partition count. */
export async function ensureTopic(admin: Admin, spec: TopicSpec, flows: number): Promise<number> {
  const existing = await topicPartitionCount(admin, spec.topic);
  if (existing !== null) {
    if (existing < flows) throw tooFewPartitions(spec.topic, existing, flows);
    return existing;
  }
  const partitions = spec.partitions > 0 ? spec.partitions : flows;
  if (partitions < flows) {
    throw new TopicError(
      `topicPartitions is ${partitions} but the master has ${flows} flows: set topicPartitions to 0 (one per flow) or at least ${flows}`,
    );
  }
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: spec.topic,
        numPartitions: partitions,
        replicationFactor: spec.replicationFactor > 0 ? spec.replicationFactor : -1,
        configEntries: [{ name: 'max.message.bytes', value: String(spec.maxMessageBytes) }],
      },
    ],
  });
  // createTopics answers false when another client created it first: check what is there now
  const now = await topicPartitionCount(admin, spec.topic);
  if (now === null) throw new TopicError(`topic "${spec.topic}" was created but the brokers do not list it`);
  if (now < flows) throw tooFewPartitions(spec.topic, now, flows);
  return now;
}
