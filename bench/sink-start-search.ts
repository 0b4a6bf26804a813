/**
 * How long a sink without a position takes to find where to start (startFrom=latest-snapshot) on a
 * big topic. Fills a fresh topic with N encoded events over P partitions, as a source would leave it
 * after a long life: epoch 1 (a snapshot, then a long journal), epoch 2 near the end (a complete
 * snapshot and some journal), epoch 3 begun but not finished at the end. Then times the start search
 * (joining the search group included) and checks it found epoch 2. Deletes the topic at the end.
 *
 *   npx tsx bench/sink-start-search.ts [events=10000000] [partitions=4] [brokers]
 *   (brokers default: $KAFKA_BROKERS, else an embedded local Kafka is started)
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { loadSinkConfig } from '../src/config/sink';
import { EventCodec } from '../src/events/codec';
import { markerEvent, type MarkerPayload } from '../src/events/from-protocol';
import { eventKey, type ChangeEvent, type Phase } from '../src/events/model';
import { startLocalStack, type LocalStack } from '../src/localstack/local-stack';
import { createLogger } from '../src/observability/logger';
import { latestSnapshotStarts } from '../src/sink/start-position';

/** The whole bench (filling included) gives up after this. */
const BENCH_TIMEOUT_MS = 30 * 60_000;
const SEND_MESSAGES = 5000;
const SNAPSHOT_KEYS = 10_000;
const LATE_JOURNAL = 1000;

/** What each partition ends with: epoch 2's snapshot (+ SnapshotFinished, StableSyncStarted) and journal, epoch 3's begun snapshot. */
const TAIL_EVENTS = SNAPSHOT_KEYS + 3 + LATE_JOURNAL + SNAPSHOT_KEYS + 1;

interface FlowSpec {
  flow: number;
  flows: number;
  events: number;
}

/** The events of one flow, generated lazily (10M events are not held in memory). */
function* flowEvents({ flow, flows, events }: FlowSpec): Generator<ChangeEvent> {
  let epoch = 0;
  let phase: Phase = 'SNAPSHOT';
  let lsn = 0;
  let index = 0;
  let produced = 0;
  const position = () => ({
    origin: { sourceId: 'bench', masterId: 'm', dragonflyVersion: '1.40.1', epoch, flow, shardCount: flows },
    phase,
    lsn: phase === 'STABLE' ? ++lsn : 0,
    index: phase === 'STABLE' ? 0 : index++,
    timestampMs: 1_700_000_000_000,
  });
  const marker = (payload: MarkerPayload): ChangeEvent => {
    produced++;
    return markerEvent(position(), payload);
  };
  const record = (i: number): ChangeEvent => {
    produced++;
    const p = position();
    return {
      source: {
        ...p.origin,
        phase: p.phase,
        lsn: p.lsn,
        index: p.index,
        txid: null,
        db: 0,
        timestampMs: p.timestampMs,
      },
      payload: {
        type: 'SnapshotRecord',
        db: 0,
        key: Buffer.from(`key:${flow}:${i}`),
        expireAtMs: null,
        flags: { sticky: false, mcFlags: null },
        rdbType: 0,
        value: { type: 'StringValue', value: Buffer.from(`value-${i}`) },
        chunk: { index: 0, count: 1, mode: 'REPLACE' },
      },
    };
  };
  const command = (i: number): ChangeEvent => {
    produced++;
    const p = position();
    return {
      source: {
        ...p.origin,
        phase: p.phase,
        lsn: p.lsn,
        index: 0,
        txid: i,
        db: 0,
        timestampMs: p.timestampMs,
      },
      payload: {
        type: 'JournalCommand',
        db: 0,
        command: 'SET',
        args: [Buffer.from(`key:${flow}:${i % SNAPSHOT_KEYS}`), Buffer.from(`v${i}`)],
        txid: i,
        shardCount: 1,
        inSnapshot: false,
        multi: false,
        chunk: { index: 0, count: 1, mode: 'REPLACE' },
      },
    };
  };
  function* snapshot(complete: boolean): Generator<ChangeEvent> {
    epoch++;
    phase = 'SNAPSHOT';
    index = 0;
    yield marker({
      type: 'SnapshotStarted',
      epoch,
      flows,
      reason: epoch === 1 ? 'FIRST_SYNC' : 'RESYNC_STALE_POSITION',
    });
    for (let i = 0; i < SNAPSHOT_KEYS; i++) yield record(i);
    if (!complete) return;
    yield marker({
      type: 'SnapshotFinished',
      keys: SNAPSHOT_KEYS,
      recordEvents: SNAPSHOT_KEYS,
      journalRecords: 0,
    });
    yield marker({ type: 'StableSyncStarted', flow, journalOffset: lsn + 1 });
    phase = 'STABLE';
  }
  const tail = TAIL_EVENTS;
  yield* snapshot(true);
  for (let i = 0; produced + tail < events; i++) yield command(i);
  yield* snapshot(true);
  for (let i = 0; i < LATE_JOURNAL; i++) yield command(i);
  yield* snapshot(false);
}

async function fill(kafka: Kafka, topic: string, spec: Omit<FlowSpec, 'flow'>): Promise<void> {
  const codec = await EventCodec.create();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let sent = 0;
  const started = Date.now();
  const report = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    console.error(`  filled ${sent} events (${Math.round(sent / s)}/s)`);
  }, 10_000);
  try {
    await Promise.all(
      Array.from({ length: spec.flows }, async (_, flow) => {
        let batch: { partition: number; key: Buffer; value: Buffer }[] = [];
        for (const event of flowEvents({ ...spec, flow })) {
          batch.push({
            partition: flow,
            key: codec.encodeKey(eventKey(event)),
            value: codec.encodeValue(event),
          });
          if (batch.length >= SEND_MESSAGES) {
            await producer.send({ topic, acks: 1, messages: batch });
            sent += batch.length;
            batch = [];
          }
        }
        if (batch.length > 0) await producer.send({ topic, acks: 1, messages: batch });
        sent += batch.length;
      }),
    );
  } finally {
    clearInterval(report);
    await producer.disconnect();
  }
  console.error(`filled ${sent} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 10_000_000);
  const partitions = Number(process.argv[3] ?? 4);
  let stack: LocalStack | undefined;
  const brokers =
    process.argv[4] ??
    process.env.KAFKA_BROKERS ??
    (stack = await startLocalStack({ stopOnSignals: true, log: (m) => console.error(m) })).kafkaBrokers;
  const kafka = new Kafka({ clientId: 'bench-start-search', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-start-search-${process.pid}-${Date.now()}`;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    });
    await fill(kafka, topic, { flows: partitions, events: Math.floor(events / partitions) });
    const config = loadSinkConfig(
      ['--kafka-brokers', brokers, '--topic', topic, '--redis-url', 'redis://unused'],
      {},
    );
    const logger = createLogger({ role: 'sink', level: 'info', format: 'json' });
    const codec = await EventCodec.create();
    for (let run = 1; run <= 3; run++) {
      const started = process.hrtime.bigint();
      const starts = await latestSnapshotStarts({
        kafka,
        config,
        codec,
        logger,
        signal: new AbortController().signal,
      });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const where = [...(starts ?? [])].map(([p, o]) => `${p}@${o}`).join(' ');
      console.log(`run ${run}: start found in ${ms.toFixed(0)} ms (search group join included): ${where}`);
      const expected = String(Math.floor(events / partitions) - TAIL_EVENTS);
      if (starts === null || [...starts.values()].some((offset) => offset !== expected))
        throw new Error(`expected every partition to start at epoch 2's SnapshotStarted, offset ${expected}`);
    }
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await stack?.stop();
  }
}

const timeout = setTimeout(() => {
  console.error(`bench gave up after ${BENCH_TIMEOUT_MS / 60_000} min`);
  process.exit(1);
}, BENCH_TIMEOUT_MS);
timeout.unref();
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
