import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../../src/config/errors';
import { redactConfig, redactUrl } from '../../../src/config/redact';
import { loadSinkConfig, sinkConfig } from '../../../src/config/sink';
import { loadSourceConfig, sourceConfig } from '../../../src/config/source';

const dir = mkdtempSync(join(tmpdir(), 'dfcdc-config-'));
let fileCount = 0;
function writeConfig(extension: string, text: string): string {
  const path = join(dir, `config-${fileCount++}${extension}`);
  writeFileSync(path, text);
  return path;
}

/** Runs `load` and returns the ConfigError it must throw. */
function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the configuration to be rejected');
}

test('defaults of the source', () => {
  const config = loadSourceConfig([], {});
  assert.equal(config.dragonfly.url, 'redis://127.0.0.1:6379');
  assert.deepEqual(config.kafka.brokers, []);
  assert.equal(config.topic, 'dragonfly.changes');
  assert.equal(config.topicPartitions, 0);
  assert.equal(config.replica.ackIntervalMs, 1000);
  assert.equal(config.replica.reconnect.maxAttempts, 0);
  assert.equal(config.kafka.compression, 'none');
  assert.equal(config.kafka.maxMessageBytes, 1000000);
  assert.equal(config.buffer.maxBytes, 256 * 1024 * 1024);
  assert.equal(config.encoding, 'single-object');
  assert.equal(config.log.level, 'info');
  assert.equal(config.log.format, 'auto');
  assert.equal(config.metrics.port, 0);
  assert.equal(config.dragonfly.tls.rejectUnauthorized, true);
});

test('defaults of the sink', () => {
  const config = loadSinkConfig([], {});
  assert.equal(config.redis.url, '');
  assert.equal(config.groupId, 'dragonfly-cdc-sink');
  assert.equal(config.checkpoint.key, 'dragonfly-cdc:checkpoint');
  assert.equal(config.startFrom, 'latest-snapshot');
  assert.equal(config.epochPolicy, 'flush');
  assert.equal(config.db.mapping, 'keep');
  assert.equal(config.errors.tolerance, 'none');
  assert.equal(config.degrade.memberTtl, 'drop-ttl');
  assert.equal(config.redis.cluster, false);
});

test('the fixed flags and env vars exist', () => {
  const flags = (options: { flag: string; env: string }[]) => options.map((option) => option.flag);
  for (const flag of ['--dragonfly-url', '--kafka-brokers', '--topic'])
    assert.ok(flags(sourceConfig.options).includes(flag));
  for (const flag of ['--kafka-brokers', '--topic', '--redis-url'])
    assert.ok(flags(sinkConfig.options).includes(flag));
  const envs = [...sourceConfig.options, ...sinkConfig.options].map((option) => option.env);
  for (const env of ['DRAGONFLY_URL', 'KAFKA_BROKERS', 'REDIS_URL']) assert.ok(envs.includes(env));
});

test('every option has a doc, an env var and a flag', () => {
  for (const option of [...sourceConfig.options, ...sinkConfig.options]) {
    assert.ok(option.doc.length > 10, `${option.path} has no doc`);
    assert.match(option.env, /^[A-Z][A-Z0-9_]+$/);
    assert.match(option.flag, /^--[a-z][a-z0-9-]+$/);
  }
});

test('flags win over env vars, env vars over the file, the file over defaults', () => {
  const file = writeConfig('.yaml', 'topic: from-file\nreplica:\n  ackIntervalMs: 111\n  keepAliveMs: 222\n');
  const env = { TOPIC: 'from-env', REPLICA_ACK_INTERVAL_MS: '333' };
  const all = loadSourceConfig(
    ['--config', file, '--topic', 'from-flag', '--replica-ack-interval-ms=444'],
    env,
  );
  assert.equal(all.topic, 'from-flag');
  assert.equal(all.replica.ackIntervalMs, 444);
  assert.equal(all.replica.keepAliveMs, 222);
  const noFlags = loadSourceConfig(['--config', file], env);
  assert.equal(noFlags.topic, 'from-env');
  assert.equal(noFlags.replica.ackIntervalMs, 333);
  const fileOnly = loadSourceConfig([`--config=${file}`], {});
  assert.equal(fileOnly.topic, 'from-file');
  assert.equal(fileOnly.replica.ackIntervalMs, 111);
  assert.equal(fileOnly.replica.stallTimeoutMs, 60000);
});

test('an empty env var counts as unset', () => {
  const config = loadSourceConfig([], { TOPIC: '', KAFKA_BROKERS: '' });
  assert.equal(config.topic, 'dragonfly.changes');
  assert.deepEqual(config.kafka.brokers, []);
});

test('YAML and JSON files give the same configuration', () => {
  const yaml = writeConfig(
    '.yml',
    [
      'kafka:',
      '  brokers: [k1:9092, "k2:9093"]',
      '  compression: gzip',
      'dragonfly:',
      '  tls:',
      '    enabled: true',
    ].join('\n'),
  );
  const json = writeConfig(
    '.json',
    JSON.stringify({
      kafka: { brokers: ['k1:9092', 'k2:9093'], compression: 'gzip' },
      dragonfly: { tls: { enabled: true } },
    }),
  );
  const fromYaml = loadSourceConfig(['--config', yaml], {});
  assert.deepEqual(fromYaml.kafka.brokers, ['k1:9092', 'k2:9093']);
  assert.equal(fromYaml.kafka.compression, 'gzip');
  assert.equal(fromYaml.dragonfly.tls.enabled, true);
  assert.deepEqual(loadSourceConfig(['--config', json], {}), fromYaml);
});

test('an empty file and an empty group are accepted', () => {
  assert.equal(
    loadSinkConfig(['--config', writeConfig('.yaml', '# nothing yet\n')], {}).topic,
    'dragonfly.changes',
  );
  assert.equal(loadSinkConfig(['--config', writeConfig('.yaml', 'redis:\n')], {}).redis.url, '');
});

test('lists and on/off options from env vars and flags', () => {
  const config = loadSourceConfig(['--kafka-ssl-enabled', '--no-dragonfly-tls-reject-unauthorized'], {
    KAFKA_BROKERS: 'a:1, b:2,',
    DRAGONFLY_TLS_ENABLED: 'yes',
  });
  assert.deepEqual(config.kafka.brokers, ['a:1', 'b:2']);
  assert.equal(config.kafka.ssl.enabled, true);
  assert.equal(config.dragonfly.tls.enabled, true);
  assert.equal(config.dragonfly.tls.rejectUnauthorized, false);
  assert.equal(
    loadSourceConfig(['--kafka-ssl-enabled=false'], { KAFKA_SSL_ENABLED: 'true' }).kafka.ssl.enabled,
    false,
  );
});

test('flag values are kept as given (no number guessing)', () => {
  const config = loadSourceConfig(['--dragonfly-password', '1e3', '--source-id', '007'], {});
  assert.equal(config.dragonfly.password, '1e3');
  assert.equal(config.source.id, '007');
});

test('an unknown key in the file is named, with a suggestion', () => {
  const file = writeConfig('.yaml', 'kafka:\n  broker: [a:1]\ntopix: x\n');
  const error = configError(() => loadSourceConfig(['--config', file], {}));
  assert.match(error.message, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.match(error.message, /unknown option "kafka\.broker" \(did you mean "kafka\.brokers"\?\)/);
  assert.match(error.message, /unknown option "topix" \(did you mean "topic"\?\)/);
});

test('a mapping where a value belongs, and a value where a mapping belongs, are named', () => {
  const file = writeConfig('.json', JSON.stringify({ topic: { name: 'x' }, kafka: 5 }));
  const error = configError(() => loadSourceConfig(['--config', file], {}));
  assert.match(error.message, /topic: expected a value, got a mapping/);
  assert.match(error.message, /kafka: expected a mapping with keys brokers, clientId, .*got number 5/);
});

test('an unknown flag is named, with a suggestion', () => {
  const error = configError(() => loadSinkConfig(['--redis-ulr', 'redis://x'], {}));
  assert.match(error.message, /unknown option --redis-ulr for sink \(did you mean --redis-url\?\)/);
  assert.match(error.hint ?? '', /dragonfly-cdc sink --help/);
  assert.match(configError(() => loadSinkConfig(['--topic'], {})).message, /--topic needs a value/);
  assert.match(configError(() => loadSinkConfig(['stray'], {})).message, /unexpected argument "stray"/);
});

test('a wrong value names the option, the value, where it came from and what is accepted', () => {
  const fromFlag = configError(() => loadSourceConfig(['--replica-ack-interval-ms', 'soon'], {}));
  assert.match(
    fromFlag.message,
    /replica\.ackIntervalMs: "soon" \(from flag --replica-ack-interval-ms\) is not accepted; expected a whole number >= 1/,
  );
  const fromEnv = configError(() => loadSourceConfig([], { KAFKA_COMPRESSION: 'zstd' }));
  assert.match(
    fromEnv.message,
    /kafka\.compression: "zstd" \(from env KAFKA_COMPRESSION\) .*expected one of none, gzip/,
  );
  const file = writeConfig('.yaml', 'metrics:\n  port: 70000\nkafka:\n  brokers: localhost\n');
  const fromFile = configError(() => loadSinkConfig(['--config', file], {}));
  assert.match(
    fromFile.message,
    /metrics\.port: 70000 \(from file .*\) .*expected a whole number from 0 to 65535/,
  );
  assert.match(fromFile.message, /kafka\.brokers: \["localhost"\] .*expected a list of host:port/);
  const onOff = configError(() => loadSinkConfig([], { REDIS_CLUSTER: 'maybe' }));
  assert.match(onOff.message, /redis\.cluster: "maybe" \(from env REDIS_CLUSTER\) .*expected true or false/);
  const url = configError(() => loadSourceConfig(['--dragonfly-url', 'http://x:1'], {}));
  assert.match(url.message, /dragonfly\.url: "http:\/\/x:1" .*expected a redis:\/\/ or rediss:\/\/ URL/);
});

test('rules across options are checked', () => {
  const registry = configError(() => loadSinkConfig(['--encoding', 'confluent'], {}));
  assert.match(registry.message, /encoding is "confluent" but schemaRegistry\.url is empty/);
  const sasl = configError(() =>
    loadSourceConfig(['--kafka-sasl-mechanism', 'plain', '--kafka-sasl-password', 'pw'], {}),
  );
  assert.match(sasl.message, /set kafka\.sasl\.username and kafka\.sasl\.password/);
  const delays = configError(() => loadSourceConfig(['--replica-reconnect-initial-delay-ms', '90000'], {}));
  assert.match(
    delays.message,
    /replica\.reconnect\.initialDelayMs \(90000\) is above replica\.reconnect\.maxDelayMs/,
  );
  const dlq = configError(() => loadSinkConfig(['--degrade-sketch', 'dlq'], {}));
  assert.match(dlq.message, /errors\.deadLetterTopic is empty/);
});

test('an unreadable or unparsable file says so with the path and the reason', () => {
  const missing = join(dir, 'missing.yaml');
  assert.match(
    configError(() => loadSourceConfig(['--config', missing], {})).message,
    new RegExp(`cannot read config file ${missing}: the file does not exist`),
  );
  const folder = join(dir, 'folder.yaml');
  mkdirSync(folder);
  assert.match(configError(() => loadSourceConfig(['--config', folder], {})).message, /it is a directory/);
  const badYaml = writeConfig('.yaml', 'topic: [unclosed\n');
  assert.match(
    configError(() => loadSourceConfig(['--config', badYaml], {})).message,
    /cannot parse config file .*\.yaml as YAML: /,
  );
  const badJson = writeConfig('.json', '{"topic": }');
  assert.match(configError(() => loadSourceConfig(['--config', badJson], {})).message, /as JSON: .*JSON/);
  const list = writeConfig('.yaml', '- a\n- b\n');
  assert.match(
    configError(() => loadSourceConfig(['--config', list], {})).message,
    /must hold a mapping .*not a list/,
  );
  const toml = writeConfig('.toml', 'topic = "x"');
  assert.match(
    configError(() => loadSourceConfig(['--config', toml], {})).message,
    /unknown file type ".toml"/,
  );
});

test('secrets are redacted and never echoed in error messages', () => {
  const config = loadSourceConfig(
    [
      '--dragonfly-url',
      'redis://app:url-secret@db:6379',
      '--kafka-sasl-mechanism',
      'plain',
      '--kafka-sasl-username',
      'u',
    ],
    {
      KAFKA_SASL_PASSWORD: 'sasl-secret',
      DRAGONFLY_TLS_KEY: '/keys/client.key',
      DRAGONFLY_TLS_CERT: '/keys/client.crt',
    },
  );
  const printed = JSON.stringify(redactConfig(sourceConfig, config));
  assert.doesNotMatch(printed, /url-secret|sasl-secret|client\.key/);
  assert.match(printed, /"url":"redis:\/\/app:\[redacted\]@db:6379"/);
  assert.match(printed, /"password":"\[redacted\]"/);
  assert.equal(config.kafka.sasl.password, 'sasl-secret', 'the loaded config itself keeps the secret');
  assert.equal(redactUrl('redis://db:6379'), 'redis://db:6379');
  assert.equal(redactUrl('rediss://:only-pw@db'), 'rediss://:[redacted]@db');

  const bad = configError(() =>
    loadSinkConfig(['--redis-url', 'redis://:pw-in-url@h:1', '--kafka-sasl-mechanism', 'plain'], {
      KAFKA_SASL_PASSWORD: 'sasl-secret',
    }),
  );
  assert.doesNotMatch(bad.message, /sasl-secret|pw-in-url/);
});
