/**
 * Shared by the source integration tests: read a whole topic (read-committed), decode it with the
 * Avro schema files and avsc alone, check keys per partition, and rebuild the master's dataset from
 * the newest epoch with the dataset model.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';
import { fromAvroEvent } from '../../src/events/avro-shape';
import { eventValueToRdbValue, type ChangeEvent, type ChangeEventKey } from '../../src/events/model';
import { ValueReassembler } from '../../src/events/reassemble';
import { Dataset } from '../../src/reference-dataset/dataset';
import { toExpectedJson, type ExpectedDataset } from '../../src/reference-dataset/expected-json';
import { replayFlows, type TimedItem } from '../../src/reference-dataset/replay';
import { decodeDumpPayload } from '../../src/protocol/rdb/dump';
import { loadSourceConfig, type SourceConfig } from '../../src/config/source';
import { createLogger, type Logger } from '../../src/observability/logger';
import type { FlowItem } from '../../src/protocol/types';
import { toRdbValue, type MasterScript, type ScriptCommand } from '../../src/testmaster/script';
import { readCaptureSessions, type CaptureSession } from '../../src/capture/session';
import { runSource } from '../../src/source/run';
import { ReplayMaster, type Mismatch } from '../../src/testmaster/replay-master';
import { kafkaBrokers } from '../support/env';
import { loadMeta, type Fixture } from '../support/fixtures';

const SCHEMAS = join(__dirname, '..', '..', 'schemas');
const valueType = avro.Type.forSchema(JSON.parse(readFileSync(join(SCHEMAS, 'change-event.avsc'), 'utf8')));
const keyType = avro.Type.forSchema(JSON.parse(readFileSync(join(SCHEMAS, 'change-event-key.avsc'), 'utf8')));
/** Avro single-object encoding: C3 01, 8 bytes of schema fingerprint, then the body */
const SINGLE_OBJECT_HEADER = 10;

export interface TopicEvent {
  partition: number;
  offset: number;
  key: ChangeEventKey;
  event: ChangeEvent;
}

function decodeBody(type: avro.Type, message: Buffer, what: string): unknown {
  if (message[0] !== 0xc3 || message[1] !== 0x01)
    throw new Error(`${what} is not Avro single-object encoded`);
  return type.fromBuffer(message.subarray(SINGLE_OBJECT_HEADER));
}

/** Turns a message's key and value into a change event (default: single-object, with avsc alone). */
export type MessageDecoder = (
  key: Buffer,
  value: Buffer,
) => Promise<{ key: ChangeEventKey; event: ChangeEvent }>;

const singleObjectDecoder: MessageDecoder = (key, value) =>
  Promise.resolve({
    key: decodeBody(keyType, key, 'a key') as ChangeEventKey,
    event: fromAvroEvent(decodeBody(valueType, value, 'a value')),
  });

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function quietLogger(role = 'source'): Logger {
  return createLogger({
    role,
    level: process.env.TEST_LOG_LEVEL === undefined ? 'silent' : (process.env.TEST_LOG_LEVEL as 'info'),
    format: 'json',
  });
}

export function sourceConfig(flags: Record<string, string | number>): SourceConfig {
  const argv = Object.entries(flags).flatMap(([flag, value]) => [`--${flag}`, String(value)]);
  return loadSourceConfig(argv, {});
}

export async function createTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'source-test-admin', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  } finally {
    await admin.disconnect();
  }
}

/** Every committed event of the topic, per partition in offset order. */
const READ_TOPIC_TIMEOUT_MS = 120_000;

export async function readTopic(
  brokers: string,
  topic: string,
  decode: MessageDecoder = singleObjectDecoder,
): Promise<TopicEvent[][]> {
  const kafka = new Kafka({ clientId: 'source-test-reader', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  const groupId = uniqueName('source-test-reader');
  const ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  const out: TopicEvent[][] = offsets.map(() => []);
  const reached = new Set(offsets.filter((o) => Number(o.high) <= Number(o.low)).map((o) => o.partition));
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 32 * 1024 * 1024 });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const note = (partition: number, lastOffset: string): void => {
    if (Number(lastOffset) >= ends.get(partition)! - 1) reached.add(partition);
    if (reached.size === offsets.length) done();
  };
  if (reached.size === offsets.length) done();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize === 0) note(payload.partition, payload.lastOffset);
  });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const { key, event } = await decode(m.key!, m.value!);
        out[batch.partition]!.push({
          partition: batch.partition,
          offset: Number(m.offset),
          key: { ...key },
          event,
        });
      }
      note(batch.partition, batch.lastOffset());
    },
  });
  // a partial read must not pass for the topic's content: a reader that cannot finish says so
  let timedOut = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    done();
  }, READ_TOPIC_TIMEOUT_MS);
  await finished;
  clearTimeout(timeout);
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
  if (timedOut) {
    throw new Error(
      `reading topic ${topic}: ${reached.size} of ${offsets.length} partitions read to their end within ${READ_TOPIC_TIMEOUT_MS} ms`,
    );
  }
  return out;
}

function compareKeys(a: ChangeEventKey, b: ChangeEventKey): number {
  return a.epoch - b.epoch || a.lsn - b.lsn || a.index - b.index;
}

/**
 * Problems with the keys of each partition: not strictly growing (a duplicate or reordering), key and
 * source block disagreeing, and — when `contiguousLsns` — a stable LSN skipped within an epoch.
 */
export function keyProblems(partitions: TopicEvent[][], contiguousLsns: boolean): string[] {
  const problems: string[] = [];
  partitions.forEach((events, partition) => {
    let previous: TopicEvent | undefined;
    let lastStableLsn: { epoch: number; lsn: number } | undefined;
    for (const e of events) {
      const { source } = e.event;
      if (
        e.key.lsn !== source.lsn ||
        e.key.index !== source.index ||
        e.key.epoch !== source.epoch ||
        source.flow !== partition
      ) {
        problems.push(`partition ${partition} offset ${e.offset}: key and source block differ`);
      }
      if (previous && compareKeys(previous.key, e.key) >= 0) {
        problems.push(
          `partition ${partition} offset ${e.offset}: key ${JSON.stringify(e.key)} after ${JSON.stringify(previous.key)}`,
        );
      }
      if (source.phase === 'STABLE' && e.event.payload.type !== 'Heartbeat' && e.key.index === 0) {
        if (
          contiguousLsns &&
          lastStableLsn &&
          lastStableLsn.epoch === source.epoch &&
          source.lsn !== lastStableLsn.lsn + 1
        ) {
          problems.push(
            `partition ${partition} offset ${e.offset}: LSN ${source.lsn} follows ${lastStableLsn.lsn}`,
          );
        }
        lastStableLsn = { epoch: source.epoch, lsn: source.lsn };
      }
      if (e.event.payload.type === 'StableSyncStarted')
        lastStableLsn = { epoch: source.epoch, lsn: e.event.payload.journalOffset - 1 };
      previous = e;
    }
  });
  return problems;
}

function toFlowItem(event: ChangeEvent): FlowItem | null {
  const p = event.payload;
  switch (p.type) {
    case 'SnapshotRecord':
      return {
        kind: 'entry',
        entry: {
          db: p.db,
          key: p.key,
          expireAtMs: p.expireAtMs,
          flags: { sticky: p.flags.sticky, mcFlags: p.flags.mcFlags },
          rdbType: p.rdbType,
          value: eventValueToRdbValue(p.value, p.rdbType),
        },
      };
    case 'JournalCommand':
      return {
        kind: 'journal',
        inSnapshot: p.inSnapshot,
        record: {
          op: p.multi ? 'multi_command' : 'command',
          db: p.db,
          txid: p.txid,
          shardCount: p.shardCount,
          args: [Buffer.from(p.command, 'latin1'), ...p.args],
        },
      };
    case 'ExpiredKey':
      return {
        kind: 'journal',
        inSnapshot: p.inSnapshot,
        record: {
          op: 'expired',
          db: p.db,
          txid: p.txid,
          shardCount: 1,
          args: [Buffer.from('DEL'), ...p.keys],
        },
      };
    case 'TransactionExec':
      return {
        kind: 'journal',
        inSnapshot: p.inSnapshot,
        record: { op: 'exec', db: p.db, txid: p.txid, shardCount: p.shardCount },
      };
    default:
      return null;
  }
}

/** The newest epoch of the topic applied to an empty dataset; `atMs` maps an event's time to master time. */
export function datasetFromTopic(
  partitions: TopicEvent[][],
  atMs: (event: ChangeEvent) => number,
  nowMs: number,
): ExpectedDataset {
  const all = partitions.flat();
  const epoch = all.reduce((max, e) => Math.max(max, e.key.epoch), 0);
  const shardCount = all.find((e) => e.key.epoch === epoch)?.event.source.shardCount ?? 0;
  const reassembler = new ValueReassembler();
  const flows: TimedItem[][] = partitions.map((events) => {
    const items: TimedItem[] = [];
    for (const { event } of events) {
      if (event.source.epoch !== epoch) continue;
      const whole = reassembler.push(event);
      const item = whole && toFlowItem(whole);
      if (item) items.push({ item, atMs: atMs(event) });
    }
    return items;
  });
  const dataset = new Dataset({ decodeDump: decodeDumpPayload });
  replayFlows(dataset, flows.slice(0, shardCount));
  return toExpectedJson(dataset, nowMs);
}

export function payloadCounts(partitions: TopicEvent[][]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of partitions.flat()) counts[e.event.payload.type] = (counts[e.event.payload.type] ?? 0) + 1;
  return counts;
}

/** The dataset a scripted master holds: its initial keys, then every command it journaled, per flow. */
export function scriptedDataset(
  script: MasterScript,
  journaled: ScriptCommand[][],
  nowMs: number,
): ExpectedDataset {
  const dataset = new Dataset({ decodeDump: decodeDumpPayload });
  for (const keys of script.dataset ?? []) {
    for (const k of keys) {
      dataset.applySnapshotEntry({
        db: k.db ?? 0,
        key: Buffer.from(k.key),
        expireAtMs: k.expireAtMs ?? null,
        flags: { sticky: false, mcFlags: null },
        rdbType: 0,
        value: toRdbValue(k.value),
      });
    }
  }
  for (const commands of journaled) {
    for (const c of commands)
      dataset.applyCommand(
        c.db ?? 0,
        c.args.map((a) => Buffer.from(a)),
        nowMs,
      );
  }
  return toExpectedJson(dataset, nowMs);
}

/**
 * A recorded session replayed by the test master (at recorded speed) through the source into a new
 * topic. Returns the topic, the recording's sessions and the client's deviations from the recording.
 */
export async function replayFixtureIntoTopic(
  fixture: Fixture,
  flags: Record<string, string | number> = {},
): Promise<{ topic: string; sessions: CaptureSession[]; mismatches: Mismatch[] }> {
  const { sessions } = readCaptureSessions(fixture.capturePath);
  const master = new ReplayMaster({
    sessions,
    speed: 1,
    endGraceMs: 3000,
    dragonflyVersion: loadMeta(fixture).dragonflyVersion,
  });
  const { port } = await master.start();
  const password = /--requirepass (\S+)/.exec(loadMeta(fixture).masterFlags)?.[1];
  const topic = uniqueName('fixture');
  // created beforehand: when the recorded master cuts the connection, Kafka must already have what
  // the source received, so that it asks for the recorded partial sync
  await createTopic(kafkaBrokers(), topic, sessions[0]!.flows.length);
  const stop = new AbortController();
  const running = runSource(
    sourceConfig({
      'dragonfly-url': `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}`,
      'kafka-brokers': kafkaBrokers(),
      topic,
      'source-id': uniqueName('src'),
      'batch-linger-ms': 5,
      'replica-reconnect-initial-delay-ms': 100,
      // a recording cannot serve the partial sync that follows a detach: hold the whole session
      'buffer-max-bytes': 1024 * 1024 * 1024,
      ...flags,
    }),
    quietLogger(),
    stop.signal,
  );
  try {
    await Promise.race([master.sessionServed(sessions.length - 1), running]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
  } finally {
    stop.abort();
    await running;
    await master.stop();
  }
  return { topic, sessions, mismatches: master.mismatches };
}
