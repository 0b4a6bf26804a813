/**
 * Option groups that the source and the sink share. Each is a function so that every schema gets
 * its own objects (defineConfig writes the env/flag names into them).
 */
import { option } from './define';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const SASL_MECHANISMS = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const;
export const ENCODINGS = ['single-object', 'confluent'] as const;
/** Schema Registry compatibility levels (Confluent's names; the registry enforces them). */
export const COMPATIBILITY_LEVELS = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** Kafka topic names: 1-249 of letters, digits, ".", "_" and "-" (the broker's own rule). */
const TOPIC_NAME = {
  pattern: /^[A-Za-z0-9._-]{1,249}$/,
  patternText: 'a topic name of 1-249 letters, digits, ".", "_" or "-"',
};

export interface TlsConfig {
  enabled: boolean;
  ca: string;
  cert: string;
  key: string;
  rejectUnauthorized: boolean;
}

export interface KafkaConnectionConfig {
  brokers: string[];
  clientId: string;
  ssl: TlsConfig;
  sasl: { mechanism: (typeof SASL_MECHANISMS)[number]; username: string; password: string };
}

export interface SchemaRegistryConfig {
  url: string;
  username: string;
  password: string;
  compatibility: CompatibilityLevel;
  timeoutMs: number;
  retryForMs: number;
  tls: Omit<TlsConfig, 'enabled'>;
}

export interface LogConfig {
  level: LogLevel;
  format: LogFormat;
}

export interface MetricsConfig {
  port: number;
  host: string;
}

export function tlsOptions(peer: string, enabledDoc: string) {
  return {
    enabled: option({ doc: enabledDoc, default: false, format: 'flag' }),
    ca: option({
      doc: `PEM file with the CA certificate(s) that signed the ${peer} certificate ("" = the system CAs)`,
      default: '',
      format: 'text',
    }),
    cert: option({
      doc: `PEM file with the client certificate presented to the ${peer} (mutual TLS; needs the key too)`,
      default: '',
      format: 'text',
    }),
    key: option({
      doc: `PEM file with the private key of the client certificate for the ${peer}`,
      default: '',
      format: 'text',
      sensitive: true,
    }),
    rejectUnauthorized: option({
      doc: `refuse a ${peer} certificate that does not verify against the CA (false only for testing)`,
      default: true,
      format: 'flag',
    }),
  };
}

export function kafkaConnectionOptions(clientId: string, brokersDoc: string) {
  return {
    brokers: option<string[]>({ doc: brokersDoc, default: [], format: 'host-list' }),
    clientId: option({
      doc: 'client id sent to the brokers (shows in broker logs and quotas)',
      default: clientId,
      format: 'text',
      pattern: /^[A-Za-z0-9._-]+$/,
      patternText: 'one or more letters, digits, ".", "_" or "-"',
    }),
    ssl: tlsOptions('Kafka broker', 'connect to the brokers over TLS'),
    sasl: {
      mechanism: option<(typeof SASL_MECHANISMS)[number]>({
        doc: 'SASL mechanism for the brokers; "none" = no SASL authentication',
        default: 'none',
        format: 'one-of',
        values: SASL_MECHANISMS,
      }),
      username: option({
        doc: 'SASL user name (needed unless mechanism is none)',
        default: '',
        format: 'text',
      }),
      password: option({ doc: 'SASL password', default: '', format: 'text', sensitive: true }),
    },
  };
}

export function topicOption() {
  return option({
    doc: 'Kafka topic that carries the change events',
    default: 'dragonfly.changes',
    format: 'text',
    ...TOPIC_NAME,
  });
}

export function optionalTopicOption(doc: string) {
  return option({
    doc,
    default: '',
    format: 'text',
    pattern: /^([A-Za-z0-9._-]{1,249})?$/,
    patternText: `${TOPIC_NAME.patternText}, or "" for none`,
  });
}

export function encodingOptions(role: string) {
  return {
    encoding: option<(typeof ENCODINGS)[number]>({
      doc:
        `how event values are framed on the topic (the ${role} must match the other side): ` +
        '"single-object" = Avro single-object encoding with the schema fingerprint (no registry needed), ' +
        '"confluent" = Confluent wire format with schema ids from schemaRegistry.url',
      default: 'single-object',
      format: 'one-of',
      values: ENCODINGS,
    }),
    schemaRegistry: {
      url: option({
        doc: 'Confluent-compatible schema registry; required when encoding is confluent',
        default: '',
        format: 'url',
        schemes: ['http', 'https'],
        allowEmpty: true,
      }),
      username: option({ doc: 'schema registry basic-auth user name', default: '', format: 'text' }),
      password: option({
        doc: 'schema registry basic-auth password',
        default: '',
        format: 'text',
        sensitive: true,
      }),
      compatibility: option<CompatibilityLevel>({
        doc:
          'compatibility level the source sets on its subjects (<topic>-key, <topic>-value) and checks its ' +
          'schemas against before publishing; the registry then refuses any writer that breaks it',
        default: 'BACKWARD',
        format: 'one-of',
        values: COMPATIBILITY_LEVELS,
      }),
      timeoutMs: option({
        doc: 'how long one schema registry request may take before it counts as failed',
        default: 10_000,
        format: 'whole-number',
        min: 1,
      }),
      retryForMs: option({
        doc:
          'how long an unreachable or failing (5xx, timeout) schema registry is retried before the process ' +
          'stops with an error (nothing is published or applied without a schema meanwhile)',
        default: 60_000,
        format: 'whole-number',
      }),
      tls: registryTlsOptions(),
    },
  };
}

/** TLS to the registry is on when its URL is https://; these tune it. */
function registryTlsOptions() {
  const { ca, cert, key, rejectUnauthorized } = tlsOptions('schema registry', '');
  return { ca, cert, key, rejectUnauthorized };
}

export function logOptions() {
  return {
    level: option<LogLevel>({
      doc: 'least severe log level that is written',
      default: 'info',
      format: 'one-of',
      values: LOG_LEVELS,
    }),
    format: option<LogFormat>({
      doc: 'log line format on stderr: json = one JSON object per line, pretty = human-readable, auto = pretty when stderr is a terminal, else json',
      default: 'auto',
      format: 'one-of',
      values: LOG_FORMATS,
    }),
  };
}

export function metricsOptions() {
  return {
    port: option({
      doc: 'port of the HTTP endpoint serving /metrics (Prometheus) and /health; 0 = no endpoint',
      default: 0,
      format: 'whole-number',
      max: 65535,
    }),
    host: option({
      doc: 'address the metrics endpoint listens on (0.0.0.0 to expose it, e.g. in a container)',
      default: '127.0.0.1',
      format: 'text',
      pattern: /^\S+$/,
      patternText: 'a host name or IP address',
    }),
  };
}

/** Problems shared by both commands' cross-option rules. */
export function commonChecks(config: {
  kafka: KafkaConnectionConfig;
  encoding: string;
  schemaRegistry: SchemaRegistryConfig;
}): string[] {
  const problems: string[] = [];
  if (config.encoding === 'confluent' && config.schemaRegistry.url === '') {
    problems.push('encoding is "confluent" but schemaRegistry.url is empty: set the schema registry URL');
  }
  const { sasl, ssl } = config.kafka;
  if (sasl.mechanism !== 'none' && (sasl.username === '' || sasl.password === '')) {
    problems.push(
      `kafka.sasl.mechanism is "${sasl.mechanism}": set kafka.sasl.username and kafka.sasl.password`,
    );
  }
  problems.push(...tlsPairCheck('kafka.ssl', ssl));
  problems.push(...tlsPairCheck('schemaRegistry.tls', config.schemaRegistry.tls));
  if ((config.schemaRegistry.username === '') !== (config.schemaRegistry.password === '')) {
    problems.push(
      'schemaRegistry.username and schemaRegistry.password go together: set both for basic auth, or neither',
    );
  }
  return problems;
}

export function tlsPairCheck(prefix: string, tls: Pick<TlsConfig, 'cert' | 'key'>): string[] {
  if ((tls.cert === '') === (tls.key === '')) return [];
  return [`${prefix}.cert and ${prefix}.key go together: set both for mutual TLS, or neither`];
}
