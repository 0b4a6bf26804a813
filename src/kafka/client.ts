/**
 * One kafkajs client per process role, configured from the shared Kafka connection options (TLS,
 * SASL) and logging through our logger at debug level: kafkajs logs every request it retries as an
 * error, while the pipeline reports what failed for good itself, with what to do about it.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { KafkaConnectionConfig } from '../config/shared';
import type { Logger } from '../observability/logger';

export interface KafkaClientOptions {
  /** overrides config.brokers (the embedded local stack) */
  brokers?: string[];
  /** kafkajs retry policy for requests (connection, metadata, produce); kafkajs defaults otherwise */
  retry?: KafkaConfig['retry'];
  /** how long one request may go unanswered (kafkajs default 30 s) */
  requestTimeoutMs?: number;
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the Kafka ${what} file ${path}: ${(error as Error).message}; check kafka.ssl`,
      { cause: error },
    );
  }
}

function sslOptions(config: KafkaConnectionConfig): KafkaConfig['ssl'] {
  const { ssl } = config;
  if (!ssl.enabled) return undefined;
  return {
    rejectUnauthorized: ssl.rejectUnauthorized,
    ...(ssl.ca ? { ca: [readPem(ssl.ca, 'CA')] } : {}),
    ...(ssl.cert ? { cert: readPem(ssl.cert, 'client certificate') } : {}),
    ...(ssl.key ? { key: readPem(ssl.key, 'client key') } : {}),
  };
}

function saslOptions(config: KafkaConnectionConfig): SASLOptions | undefined {
  const { mechanism, username, password } = config.sasl;
  if (mechanism === 'none') return undefined;
  return { mechanism, username, password } as SASLOptions;
}

function logCreator(logger: Logger) {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry): void => {
      const { message, ...details } = log;
      // kafkajs logs every request it retries as an error; what fails for good is reported by our code
      kafkaLogger.debug({ ...details, kafkajsLevel: level }, `kafkajs: ${message}`);
    };
}

export function createKafkaClient(
  config: KafkaConnectionConfig,
  logger: Logger,
  options: KafkaClientOptions = {},
): Kafka {
  const brokers = options.brokers ?? config.brokers;
  if (brokers.length === 0) {
    throw new Error('no Kafka brokers configured: set kafka.brokers (KAFKA_BROKERS) to host:port');
  }
  return new Kafka({
    clientId: config.clientId,
    brokers,
    ssl: sslOptions(config),
    sasl: saslOptions(config),
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.requestTimeoutMs ? { requestTimeout: options.requestTimeoutMs } : {}),
  });
}

/** The kafkajs error type name (e.g. "CONCURRENT_TRANSACTIONS") of an error or of what caused it. */
export function kafkaErrorType(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    const next = current as { cause?: unknown; originalError?: unknown };
    current = next.originalError ?? next.cause;
  }
  return undefined;
}
