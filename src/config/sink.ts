/**
 * Configuration of `dragonfly-cdc sink`: replay the change events of a Kafka topic into Redis.
 */
import { defineConfig, option, type ConfigDefinition } from './define';
import { loadConfig } from './loader';
import {
  commonChecks,
  encodingOptions,
  kafkaConnectionOptions,
  logOptions,
  metricsOptions,
  optionalTopicOption,
  tlsOptions,
  tlsPairCheck,
  topicOption,
  type ENCODINGS,
  type KafkaConnectionConfig,
  type LogConfig,
  type MetricsConfig,
  type SchemaRegistryConfig,
  type TlsConfig,
} from './shared';

export const START_POSITIONS = ['latest-snapshot', 'earliest'] as const;
export const EPOCH_POLICIES = ['flush', 'keep'] as const;
export const DB_MAPPINGS = ['keep', 'all-to-0-with-prefix'] as const;
export const ERROR_TOLERANCES = ['none', 'all'] as const;

export interface SinkConfig {
  kafka: KafkaConnectionConfig;
  topic: string;
  groupId: string;
  redis: { url: string; username: string; password: string; cluster: boolean; tls: TlsConfig };
  checkpoint: { key: string };
  startFrom: (typeof START_POSITIONS)[number];
  startWait: boolean;
  epochPolicy: (typeof EPOCH_POLICIES)[number];
  db: { mapping: (typeof DB_MAPPINGS)[number]; prefix: string };
  errors: { tolerance: (typeof ERROR_TOLERANCES)[number]; deadLetterTopic: string };
  batch: { maxEvents: number };
  retry: { maxAttempts: number; initialBackoffMs: number };
  degrade: { memberTtl: 'drop-ttl' | 'skip'; json: 'string' | 'skip'; sketch: 'skip' | 'dlq' };
  encoding: (typeof ENCODINGS)[number];
  schemaRegistry: SchemaRegistryConfig;
  log: LogConfig;
  metrics: MetricsConfig;
}

export const sinkConfig: ConfigDefinition<SinkConfig> = defineConfig<SinkConfig>(
  'sink',
  {
    kafka: kafkaConnectionOptions(
      'dragonfly-cdc-sink',
      'Kafka bootstrap brokers as host:port; empty = the embedded local stack (development only)',
    ),
    topic: topicOption(),
    groupId: option({
      doc: 'Kafka consumer group; sinks sharing it split the partitions between them',
      default: 'dragonfly-cdc-sink',
      format: 'text',
      pattern: /^\S{1,255}$/,
      patternText: 'a name of 1-255 characters without spaces',
    }),
    redis: {
      url: option({
        doc: 'target Redis (redis:// or rediss:// for TLS; may carry user:password@); empty = start the embedded local stack (development only)',
        default: '',
        format: 'url',
        schemes: ['redis', 'rediss'],
        allowEmpty: true,
        urlWithPassword: true,
      }),
      username: option({ doc: 'user for AUTH; overrides a user in the URL', default: '', format: 'text' }),
      password: option({
        doc: 'password for AUTH; overrides a password in the URL',
        default: '',
        format: 'text',
        sensitive: true,
      }),
      cluster: option({
        doc: 'the target is a Redis Cluster: the URL names one seed node and keys are routed by slot',
        default: false,
        format: 'flag',
      }),
      tls: tlsOptions('Redis server', 'connect to Redis over TLS (a rediss:// URL also turns this on)'),
    },
    checkpoint: {
      key: option({
        doc: 'Redis key (a hash) where the sink stores the last applied position of each partition, written in the same MULTI/EXEC as the data',
        default: 'dragonfly-cdc:checkpoint',
        format: 'text',
        pattern: /^.+$/,
        patternText: 'a non-empty string',
      }),
    },
    startFrom: option<(typeof START_POSITIONS)[number]>({
      doc: 'where a sink without a checkpoint starts: latest-snapshot = the last complete full sync on the topic, earliest = the first event kept by Kafka',
      default: 'latest-snapshot',
      format: 'one-of',
      values: START_POSITIONS,
    }),
    startWait: option({
      doc: 'at start, wait (saying what for) until the topic exists and, for latest-snapshot, until it holds a complete snapshot; off = exit with code 1 naming what is missing',
      default: true,
      format: 'flag',
    }),
    epochPolicy: option<(typeof EPOCH_POLICIES)[number]>({
      doc: 'when the source starts a new full sync (new epoch): flush = empty the target databases first, keep = write the snapshot over what is there',
      default: 'flush',
      format: 'one-of',
      values: EPOCH_POLICIES,
    }),
    db: {
      mapping: option<(typeof DB_MAPPINGS)[number]>({
        doc: 'where each source database goes: keep = the same database number, all-to-0-with-prefix = database 0 with every key prefixed by db.prefix (for Redis Cluster, which has only database 0)',
        default: 'keep',
        format: 'one-of',
        values: DB_MAPPINGS,
      }),
      prefix: option({
        doc: 'key prefix used by all-to-0-with-prefix; "{db}" is replaced by the source database number',
        default: 'db{db}:',
        format: 'text',
        pattern: /\{db\}/,
        patternText: 'text containing "{db}"',
      }),
    },
    errors: {
      tolerance: option<(typeof ERROR_TOLERANCES)[number]>({
        doc: 'an event that cannot be applied: none = stop with exit code 1, all = skip it (to errors.deadLetterTopic if set) and go on',
        default: 'none',
        format: 'one-of',
        values: ERROR_TOLERANCES,
      }),
      deadLetterTopic: optionalTopicOption(
        'topic that receives skipped events with the reason; "" = only log them',
      ),
    },
    batch: {
      maxEvents: option({
        doc: 'most events applied in one MULTI/EXEC',
        default: 500,
        format: 'whole-number',
        min: 1,
      }),
    },
    retry: {
      maxAttempts: option({
        doc: 'attempts for a failed Redis write before the sink stops with exit code 1',
        default: 5,
        format: 'whole-number',
        min: 1,
      }),
      initialBackoffMs: option({
        doc: 'wait before the first retry; doubles after each failure',
        default: 100,
        format: 'whole-number',
      }),
    },
    degrade: {
      memberTtl: option<'drop-ttl' | 'skip'>({
        doc: 'hash fields / set members with their own expiry (Dragonfly only): drop-ttl = write them without expiry, skip = do not write them',
        default: 'drop-ttl',
        format: 'one-of',
        values: ['drop-ttl', 'skip'],
      }),
      json: option<'string' | 'skip'>({
        doc: 'JSON values when the target has no RedisJSON: string = store the JSON text as a string, skip = do not write them',
        default: 'string',
        format: 'one-of',
        values: ['string', 'skip'],
      }),
      sketch: option<'skip' | 'dlq'>({
        doc: 'Bloom filters and other sketches a stock Redis lacks: skip = drop them, dlq = send them to errors.deadLetterTopic',
        default: 'skip',
        format: 'one-of',
        values: ['skip', 'dlq'],
      }),
    },
    ...encodingOptions('sink'),
    log: logOptions(),
    metrics: metricsOptions(),
  },
  [
    commonChecks,
    (config) => tlsPairCheck('redis.tls', config.redis.tls),
    ({ degrade, errors }) =>
      degrade.sketch === 'dlq' && errors.deadLetterTopic === ''
        ? [
            'degrade.sketch is "dlq" but errors.deadLetterTopic is empty: name a dead-letter topic, or use "skip"',
          ]
        : [],
  ],
);

/** Loads and validates the sink configuration from flags (argv after "sink") and env vars. */
export function loadSinkConfig(argv: readonly string[], env: NodeJS.ProcessEnv): SinkConfig {
  return loadConfig(sinkConfig, argv, env);
}
