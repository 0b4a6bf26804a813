/**
 * Subject names under Confluent's default TopicNameStrategy: the key and value schemas of topic T are
 * registered as `T-key` and `T-value`, which is what Kafka Connect, ksqlDB and the Confluent serdes
 * look up unless told otherwise.
 */
import type { SchemaRole } from '../events/schemas';

export type Subjects = Record<SchemaRole, string>;

export function topicNameSubjects(topic: string): Subjects {
  return { key: `${topic}-key`, value: `${topic}-value` };
}
