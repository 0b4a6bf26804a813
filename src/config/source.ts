/**
 * Configuration of `dragonfly-cdc source`: replicate a Dragonfly master into a Kafka topic.
 */
import { defineConfig, option, type ConfigDefinition } from './define';
import { loadConfig } from './loader';
import {
  commonChecks,
  encodingOptions,
  kafkaConnectionOptions,
  logOptions,
  metricsOptions,
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

export const COMPRESSIONS = ['none', 'gzip'] as const;

export interface SourceConfig {
  dragonfly: { url: string; username: string; password: string; tls: TlsConfig };
  replica: {
    listeningPort: number;
    connectTimeoutMs: number;
    stallTimeoutMs: number;
    ackIntervalMs: number;
    keepAliveMs: number;
    reconnect: { initialDelayMs: number; maxDelayMs: number; maxAttempts: number };
    maxUnreadMs: number;
    readAheadBytes: number;
    kafkaStallDetachMs: number;
    stopTimeoutMs: number;
  };
  kafka: KafkaConnectionConfig & {
    compression: (typeof COMPRESSIONS)[number];
    maxMessageBytes: number;
    transactionTimeoutMs: number;
  };
  topic: string;
  topicPartitions: number;
  topicReplicationFactor: number;
  batch: { maxEvents: number; lingerMs: number };
  source: { id: string };
  buffer: { maxBytes: number };
  heartbeat: { intervalMs: number };
  encoding: (typeof ENCODINGS)[number];
  schemaRegistry: SchemaRegistryConfig;
  log: LogConfig;
  metrics: MetricsConfig;
}

const ms = (doc: string, defaultMs: number, min = 0) =>
  option({ doc, default: defaultMs, format: 'whole-number', min });

export const sourceConfig: ConfigDefinition<SourceConfig> = defineConfig<SourceConfig>(
  'source',
  {
    dragonfly: {
      url: option({
        doc: 'Dragonfly master to replicate from (redis:// or rediss:// for TLS; may carry user:password@)',
        default: 'redis://127.0.0.1:6379',
        format: 'url',
        schemes: ['redis', 'rediss'],
        urlWithPassword: true,
      }),
      username: option({ doc: 'user for AUTH; overrides a user in the URL', default: '', format: 'text' }),
      password: option({
        doc: 'password for AUTH; overrides a password in the URL',
        default: '',
        format: 'text',
        sensitive: true,
      }),
      tls: tlsOptions(
        'Dragonfly master',
        'connect to the master over TLS (a rediss:// URL also turns this on)',
      ),
    },
    replica: {
      listeningPort: option({
        doc: 'port announced to the master in REPLCONF listening-port; informational only (INFO/ROLE on the master), nothing listens on it',
        default: 0,
        format: 'whole-number',
        max: 4294967295,
      }),
      connectTimeoutMs: ms('time allowed to open a connection and finish the handshake', 10000, 1),
      stallTimeoutMs: ms(
        'full sync only: give up and reconnect when no byte arrives on a flow for this long (0 = never)',
        60000,
      ),
      ackIntervalMs: ms(
        'how often each flow sends REPLCONF ACK with its next LSN during stable sync',
        1000,
        1,
      ),
      keepAliveMs: ms('TCP keep-alive delay on the master connections (0 = off)', 10000),
      reconnect: {
        initialDelayMs: ms('wait before the first reconnect attempt; doubles after each failure', 500),
        maxDelayMs: ms('longest wait between reconnect attempts', 30000),
        maxAttempts: option({
          doc: 'reconnect attempts before giving up with exit code 1 (0 = retry forever)',
          default: 0,
          format: 'whole-number',
        }),
      },
      maxUnreadMs: ms(
        'full sync: while reading is paused for Kafka, read each flow again after this long whenever Kafka made some room (the master drops a replica whose writes wait for its --replication_timeout, 30 s)',
        5000,
        1,
      ),
      readAheadBytes: option({
        doc: "full sync: while reading is paused for Kafka, each flow still takes up to this many raw (compressed) bytes off its socket, parsed once reading resumes, so the master's writes keep completing; the socket stops only when they are full",
        default: 64 * 1024 * 1024,
        format: 'whole-number',
        min: 64 * 1024,
      }),
      kafkaStallDetachMs: ms(
        "full sync: while reading is paused for Kafka, let go of the master when Kafka committed nothing for this long; keep it well below the master's --replication_timeout (30 s)",
        20000,
        1,
      ),
      stopTimeoutMs: ms(
        'on SIGINT/SIGTERM: time allowed to publish what is buffered and close cleanly before exiting anyway',
        30000,
        1,
      ),
    },
    kafka: {
      ...kafkaConnectionOptions(
        'dragonfly-cdc-source',
        'Kafka bootstrap brokers as host:port; empty = start the embedded local stack (development only)',
      ),
      compression: option<(typeof COMPRESSIONS)[number]>({
        doc: 'compression of produced record batches',
        default: 'none',
        format: 'one-of',
        values: COMPRESSIONS,
      }),
      maxMessageBytes: option({
        doc: "largest Kafka record the source produces; keep it at or below the topic's max.message.bytes",
        default: 1000000,
        format: 'whole-number',
        min: 1024,
      }),
      transactionTimeoutMs: ms('Kafka transaction timeout of the transactional producer', 60000, 1000),
    },
    topic: topicOption(),
    topicPartitions: option({
      doc: 'partitions when the source creates the topic; 0 = one per replication flow (shard) of the master',
      default: 0,
      format: 'whole-number',
    }),
    topicReplicationFactor: option({
      doc: "replication factor when the source creates the topic; 0 = the broker's default.replication.factor",
      default: 0,
      format: 'whole-number',
      max: 32767,
    }),
    batch: {
      maxEvents: option({
        doc: 'most events in one produce request (one transaction)',
        default: 1000,
        format: 'whole-number',
        min: 1,
      }),
      lingerMs: ms('how long to wait for more events before sending a partial batch', 20),
    },
    source: {
      id: option({
        doc: 'stable name of this source; prefixes the Kafka transactional ids, so two sources must not share it',
        default: 'dragonfly-cdc',
        format: 'text',
        pattern: /^[A-Za-z0-9._-]{1,200}$/,
        patternText: 'a name of 1-200 letters, digits, ".", "_" or "-"',
      }),
    },
    buffer: {
      maxBytes: option({
        doc: 'bytes of events held between the master and Kafka (bounds the memory they take); a full sync pauses reading at 3/4 of it and resumes at 1/2; in stable sync a full buffer makes the source let go of the master and resume once Kafka caught up',
        default: 256 * 1024 * 1024,
        format: 'whole-number',
        min: 1024 * 1024,
      }),
    },
    heartbeat: {
      intervalMs: ms('publish a heartbeat event per flow after this long without changes (0 = never)', 10000),
    },
    ...encodingOptions('source'),
    log: logOptions(),
    metrics: metricsOptions(),
  },
  [
    commonChecks,
    (config) => tlsPairCheck('dragonfly.tls', config.dragonfly.tls),
    ({ replica: { reconnect } }) =>
      reconnect.initialDelayMs <= reconnect.maxDelayMs
        ? []
        : [
            `replica.reconnect.initialDelayMs (${reconnect.initialDelayMs}) is above replica.reconnect.maxDelayMs (${reconnect.maxDelayMs}): lower the first or raise the second`,
          ],
    ({ kafka, buffer }) =>
      buffer.maxBytes >= kafka.maxMessageBytes
        ? []
        : [
            `buffer.maxBytes (${buffer.maxBytes}) is smaller than kafka.maxMessageBytes (${kafka.maxMessageBytes}): one record would not fit`,
          ],
  ],
);

/** Loads and validates the source configuration from flags (argv after "source") and env vars. */
export function loadSourceConfig(argv: readonly string[], env: NodeJS.ProcessEnv): SourceConfig {
  return loadConfig(sourceConfig, argv, env);
}
