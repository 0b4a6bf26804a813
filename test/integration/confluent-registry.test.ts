/**
 * `encoding confluent` against a real Confluent-compatible Schema Registry (Apicurio, started once for
 * this file): the source publishes a recorded session in Confluent's wire format, registering its
 * schemas under the topic's subjects; the topic decodes back to the fixture's dataset, and the sink
 * replays it into a fresh Redis equal to expected.json; a standard Java Confluent consumer (Apicurio's
 * deserializer) decodes every record alike. A subject holding an incompatible schema, an
 * unreachable registry and a message naming an unknown schema id each give a clear, early failure.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { captureStartMs } from '../../src/capture/decode';
import { EventCodec } from '../../src/events/codec';
import { eventKey } from '../../src/events/model';
import { ConfluentWireFormat } from '../../src/events/wire-format';
import { freeLoopbackPort } from '../../src/localstack/ports';
import { startSchemaRegistry, type SchemaRegistryServer } from '../../src/localstack/schema-registry';
import { FlowStreamParser } from '../../src/protocol/flow-parser';
import { compareDatasets } from '../../src/reference-dataset/expected-json';
import { HttpSchemaRegistryClient } from '../../src/schema-registry/client';
import { SchemaRegistryError } from '../../src/schema-registry/errors';
import { topicNameSubjects } from '../../src/schema-registry/subjects';
import { DLQ_HEADERS } from '../../src/sink/dead-letter';
import { runSink } from '../../src/sink/run';
import { runSource } from '../../src/source/run';
import { kafkaBrokers } from '../support/env';
import { findFixture, loadExpected } from '../support/fixtures';
import { dumpRedis } from '../support/redis-dump';
import {
  CHECKPOINT_KEY,
  createTopic,
  freshRedisForFile,
  kafka,
  runSinkToEnd,
  sinkConfig,
  startSinkInProcess,
  waitFor,
} from './sink-harness';
import { dumpWithConfluentConsumer } from './confluent-consumer';
import {
  datasetFromTopic,
  keyProblems,
  quietLogger,
  readTopic,
  replayFixtureIntoTopic,
  sourceConfig,
  uniqueName,
  type MessageDecoder,
} from './source-helpers';
import { degradedKeys } from '../support/degraded-keys';
import { flowWriter } from './sink-events';

const FIXTURE = 'dragonfly-v1.40.1/types';
const REGISTRY_JSON = 'application/vnd.schemaregistry.v1+json';

const redis = freshRedisForFile();
let registry: SchemaRegistryServer;

before(
  async () => {
    registry = await startSchemaRegistry({ log: (message) => console.log(message) });
  },
  { timeout: 900_000 },
);

after(async () => {
  await registry?.stop();
});

function registryClient(): HttpSchemaRegistryClient {
  return new HttpSchemaRegistryClient(
    sourceConfig({ encoding: 'confluent', 'schema-registry-url': registry.url }).schemaRegistry,
  );
}

async function registryGet(path: string): Promise<unknown> {
  const response = await fetch(`${registry.url}${path}`, { headers: { accept: REGISTRY_JSON } });
  return response.json();
}

async function topicExists(topic: string): Promise<boolean> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

test(
  'fixture types goes through the registry: Confluent framing, subjects registered, expected.json on both hops',
  { timeout: 180_000 },
  async (t) => {
    const fixture = findFixture(FIXTURE);
    const { topic, sessions, mismatches } = await replayFixtureIntoTopic(fixture, {
      'batch-max-events': 5000,
      encoding: 'confluent',
      'schema-registry-url': registry.url,
    });
    assert.deepEqual(mismatches, []);

    const subjects = topicNameSubjects(topic);
    const registered = (await registryGet('/subjects')) as string[];
    assert.ok(registered.includes(subjects.key) && registered.includes(subjects.value), String(registered));
    assert.deepEqual(await registryGet(`/config/${subjects.value}`), { compatibilityLevel: 'BACKWARD' });

    const client = registryClient();
    const codec = EventCodec.forDecoding(new ConfluentWireFormat(client, subjects));
    const framing = new Set<string>();
    const decode: MessageDecoder = async (key, value) => {
      framing.add(`${key[0]}/${value[0]}`);
      return { key: { ...(await codec.decodeKey(key)) }, event: await codec.decodeValue(value) };
    };
    const partitions = await readTopic(kafkaBrokers(), topic, decode);
    client.close();
    assert.deepEqual([...framing], ['0/0'], 'keys and values start with the Confluent magic byte');
    assert.deepEqual(keyProblems(partitions, false), []);
    const events = partitions.flat();
    t.diagnostic(`${events.length} events on ${partitions.length} partitions`);
    assert.ok(events.length > 0);

    // the topic alone rebuilds the master's dataset (times mapped as in source-fixtures.test.ts)
    const firstEventMs = events.reduce((min, e) => Math.min(min, e.event.source.timestampMs), Infinity);
    const createParser = (o: { flowId: number; start: 'rdb' | 'journal'; eofToken?: string }) =>
      new FlowStreamParser(o);
    const startMs =
      captureStartMs(sessions, createParser)! + sessions[0]!.main.exchanges[0]!.command.micros / 1000;
    const expected = loadExpected(fixture);
    const nowMs = Date.now();
    const fromTopic = datasetFromTopic(
      partitions,
      (event) => startMs + (event.source.timestampMs - firstEventMs),
      nowMs,
    );
    const topicDiffs = compareDatasets(fromTopic, expected, nowMs);
    assert.deepEqual(topicDiffs.slice(0, 20), [], `${topicDiffs.length} differences in the topic`);

    // a standard Confluent consumer outside our code reads the same records: same keys, same payloads
    const dumped = await dumpWithConfluentConsumer({
      brokers: kafkaBrokers(),
      topic,
      confluentApiUrl: registry.url,
      expected: events.length,
      timeoutMs: 60_000,
    });
    const record = (at: string, k: { epoch: number; lsn: number; index: number }, payload: string) =>
      `${at}: ${k.epoch}/${k.lsn}/${k.index} ${payload}`;
    // Avro's JSON encoding names a union's branch by its full name
    const javaPayload = (value: Record<string, unknown>) =>
      Object.keys(value.payload as object)[0]!.replace(/^dragonfly\.cdc\./, '');
    assert.deepEqual(
      dumped.map((r) => record(`${r.partition}@${r.offset}`, r.key, javaPayload(r.value))).sort(),
      events.map((e) => record(`${e.partition}@${e.offset}`, e.key, e.event.payload.type)).sort(),
    );
    t.diagnostic(`the Java Confluent consumer decoded ${dumped.length} of ${events.length} records alike`);

    await redis.client.flushall();
    const sink = startSinkInProcess(
      sinkConfig(topic, redis.url, ['--encoding', 'confluent', '--schema-registry-url', registry.url]),
    );
    try {
      const degraded = degradedKeys(expected);
      let unexplained = ['nothing compared yet'];
      await waitFor(
        'Redis to hold the fixture dataset',
        async () => {
          sink.check();
          const actual = await dumpRedis(redis.client, CHECKPOINT_KEY);
          unexplained = compareDatasets(actual, expected, Date.now()).filter(
            (d) => !degraded.some((where) => d.startsWith(where)),
          );
          return unexplained.length === 0;
        },
        90_000,
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}: ${unexplained.slice(0, 10).join('\n')}`);
      });
    } finally {
      await sink.stop();
    }
  },
);

test('a subject holding an incompatible schema stops the source before it publishes, naming subject and registry', async () => {
  const topic = uniqueName('confluent-incompatible');
  const subject = topicNameSubjects(topic).value;
  const put = await fetch(`${registry.url}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': REGISTRY_JSON },
    body: JSON.stringify({ schema: JSON.stringify('string') }),
  });
  assert.equal(put.status, 200, await put.text());

  const config = sourceConfig({
    'dragonfly-url': 'redis://127.0.0.1:1',
    'kafka-brokers': kafkaBrokers(),
    topic,
    'source-id': uniqueName('src'),
    encoding: 'confluent',
    'schema-registry-url': registry.url,
  });
  await assert.rejects(runSource(config, quietLogger(), new AbortController().signal), (error: Error) => {
    assert.ok(error instanceof SchemaRegistryError, String(error));
    assert.equal(error.problem, 'incompatible');
    assert.ok(error.message.includes(subject), error.message);
    assert.ok(error.message.includes(registry.url), error.message);
    assert.match(error.message, /BACKWARD/);
    return true;
  });
  assert.equal(await topicExists(topic), false, 'nothing was published');
});

test('an unreachable registry stops the source at start with an error naming it', async () => {
  const url = `http://127.0.0.1:${await freeLoopbackPort()}/apis/ccompat/v7`;
  const topic = uniqueName('confluent-unreachable');
  const config = sourceConfig({
    'dragonfly-url': 'redis://127.0.0.1:1',
    'kafka-brokers': kafkaBrokers(),
    topic,
    'source-id': uniqueName('src'),
    encoding: 'confluent',
    'schema-registry-url': url,
    'schema-registry-retry-for-ms': 500,
  });
  await assert.rejects(runSource(config, quietLogger(), new AbortController().signal), (error: Error) => {
    assert.ok(error instanceof SchemaRegistryError, String(error));
    assert.equal(error.problem, 'unavailable');
    assert.ok(error.message.includes('127.0.0.1'), error.message);
    assert.match(error.message, /retried for 500 ms/);
    return true;
  });
  assert.equal(await topicExists(topic), false, 'nothing was published');
});

test('an unreachable registry stops the sink at start with an error naming it', async () => {
  const url = `http://127.0.0.1:${await freeLoopbackPort()}/apis/ccompat/v7`;
  const topic = uniqueName('confluent-sink-unreachable');
  await createTopic(kafka(), topic, 1);
  const config = sinkConfig(topic, redis.url, [
    '--encoding',
    'confluent',
    '--schema-registry-url',
    url,
    '--schema-registry-retry-for-ms',
    '500',
  ]);
  await assert.rejects(runSink(config, quietLogger('sink'), new AbortController().signal), (error: Error) => {
    assert.ok(error instanceof SchemaRegistryError, String(error));
    assert.equal(error.problem, 'unavailable');
    assert.ok(error.message.includes('127.0.0.1'), error.message);
    return true;
  });
});

test('the sink dead-letters a message naming a schema id the registry does not have, then goes on', async () => {
  const topic = uniqueName('confluent-unknown-id');
  const dlq = `${topic}-dlq`;
  const client = kafka();
  await createTopic(client, topic, 1);
  await createTopic(client, dlq, 1);
  const registryClientForProducer = registryClient();
  const codec = await EventCodec.create(
    new ConfluentWireFormat(registryClientForProducer, topicNameSubjects(topic)),
  );
  registryClientForProducer.close();
  const unknownId = 0x7ffffff0;
  const poison = Buffer.from([0, 0, 0, 0, 0, 2, 4]);
  poison.writeUInt32BE(unknownId, 1);
  const good = flowWriter(0, 1).command('SET', ['k', 'v']).events[0]!;
  const producer = client.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: [
      { partition: 0, key: codec.encodeKey(eventKey(good)), value: poison },
      {
        partition: 0,
        key: codec.encodeKey({ ...eventKey(good), lsn: 2 }),
        value: codec.encodeValue({ ...good, source: { ...good.source, lsn: 2 } }),
      },
    ],
  });
  await producer.disconnect();

  await redis.client.flushall();
  await runSinkToEnd(
    sinkConfig(topic, redis.url, [
      '--encoding',
      'confluent',
      '--schema-registry-url',
      registry.url,
      '--errors-tolerance',
      'all',
      '--errors-dead-letter-topic',
      dlq,
    ]),
    redis.client,
    [2],
    60_000,
  );
  assert.equal(await redis.client.get('k'), 'v');

  const reader = new Kafka({ clientId: 'dlq-reader', brokers: [kafkaBrokers()], logLevel: logLevel.NOTHING });
  const consumer = reader.consumer({ groupId: `${dlq}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic: dlq, fromBeginning: true });
  const letters: Record<string, string>[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      letters.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])));
    },
  });
  await waitFor('the dead letter', () => Promise.resolve(letters.length > 0), 30_000);
  await consumer.disconnect();
  assert.equal(letters.length, 1);
  assert.equal(letters[0]![DLQ_HEADERS.kind], 'decode-error');
  assert.equal(letters[0]![DLQ_HEADERS.offset], '0');
  assert.match(letters[0]![DLQ_HEADERS.reason] ?? '', new RegExp(`id:${unknownId}`));
});
