/**
 * The source's stop as a property: a seeded random case (master size and speed, a silent master,
 * buffer size, Kafka frozen or unreachable, a write load that makes the source detach) runs the
 * source pipeline against a scripted master and a real Kafka broker, and asks it to stop at a random
 * moment. Every stop must end within its grace period, and its summary must be true: what it says
 * was published is what the topic holds for this source (within the events it says are uncertain),
 * and no ACK the master received goes beyond the positions committed in Kafka.
 *
 * Used by test/integration/source-stop-property.test.ts (a few cases) and scripts/source-stop-proptest.ts
 * (hundreds, on demand). Cases share one topic and one broker of their own (it is frozen with SIGSTOP
 * for the "Kafka down" cases, so it must not be the shared one); each case has its own source id.
 */
import { EventCodec } from '../../src/events/codec';
import { SingleObjectWireFormat } from '../../src/events/wire-format';
import { createKafkaClient } from '../../src/kafka/client';
import type { KafkaBroker } from '../../src/localstack/kafka-broker';
import { SourcePipeline } from '../../src/source/pipeline';
import type { PipelineStateName } from '../../src/source/pipeline-state';
import { sourceMetrics } from '../../src/source/metrics';
import { TransactionalPublisher } from '../../src/source/publisher';
import type { StopSummary } from '../../src/source/stop-summary';
import { parseMasterUrl } from '../../src/replica/master-address';
import type { MasterScript, ScriptKey } from '../../src/testmaster/script';
import { Rng } from '../support/fuzz';
import { startScriptedMaster } from '../support/test-master';
import { quietLogger, sourceConfig, uniqueName, type TopicEvent } from './source-helpers';

export const STOP_GRACE_MS = 1500;
export const TOPIC_PARTITIONS = 3;

export type KafkaFault = 'none' | 'frozen' | 'unreachable';

export interface StopCase {
  seed: number;
  sourceId: string;
  flows: number;
  keys: number;
  silentMaster: boolean;
  slowFullSync: boolean;
  writesPerTick: number;
  bufferMaxBytes: number;
  kafka: KafkaFault;
  /** ms after start when Kafka freezes (kafka 'frozen') */
  freezeAfterMs: number;
  stopAfterMs: number;
}

export interface StopOutcome {
  stopCase: StopCase;
  summary: StopSummary;
  stopMs: number;
  /** the pipeline's state when the stop was asked */
  stateAtStop: PipelineStateName;
  detaches: number;
  /** per flow: the highest ACK value the master received (null: none) */
  maxAcks: (number | null)[];
}

export class StopPropertyFailure extends Error {}

export function stopCase(seed: number): StopCase {
  const rng = new Rng(seed);
  const kafkaRoll = rng.next();
  return {
    seed,
    sourceId: `stop-${seed}`,
    flows: rng.range(1, TOPIC_PARTITIONS),
    keys: rng.pick([0, 50, 500, 3000]),
    silentMaster: rng.chance(0.08),
    slowFullSync: rng.chance(0.25),
    writesPerTick: rng.pick([0, 1, 20]),
    bufferMaxBytes: rng.pick([64 * 1024, 1024 * 1024, 16 * 1024 * 1024]),
    kafka: kafkaRoll < 0.2 ? 'frozen' : kafkaRoll < 0.3 ? 'unreachable' : 'none',
    freezeAfterMs: rng.range(0, 1500),
    stopAfterMs: rng.range(0, 2500),
  };
}

function script(c: StopCase): MasterScript {
  const value = 'v'.repeat(200);
  const dataset: ScriptKey[][] = Array.from({ length: c.flows }, (_, flow) =>
    Array.from({ length: c.keys }, (_, i) => ({ key: `f${flow}:k${i}`, value: { type: 'string', value } })),
  );
  return {
    flowCount: c.flows,
    dataset,
    faults: {
      ...(c.silentMaster ? { silent: true } : {}),
      ...(c.slowFullSync
        ? {
            slowFlows: Array.from({ length: c.flows }, (_, flowId) => ({
              flowId,
              bytesPerWrite: 2048,
              intervalMs: 5,
            })),
          }
        : {}),
    },
  };
}

export interface StopRig {
  brokers: string;
  topic: string;
  /** SIGSTOP / SIGCONT of the rig's broker */
  freeze(): void;
  thaw(): void;
}

/** The rig of a broker started for the run (frozen and thawed by signal) and the run's topic. */
export function stopRig(broker: KafkaBroker, topic: string): StopRig {
  return {
    brokers: broker.brokers,
    topic,
    freeze: () => process.kill(broker.pid, 'SIGSTOP'),
    thaw: () => process.kill(broker.pid, 'SIGCONT'),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes over the transactional id; the broker may still be electing coordinators after a thaw. */
async function startPublisher(publisher: TransactionalPublisher): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await publisher.start();
    } catch (error) {
      if (attempt >= 10) throw error;
      await sleep(1000);
    }
  }
}

/** Runs one case; throws StopPropertyFailure when the stop took longer than its grace period. */
export async function runStopCase(rig: StopRig, seed: number): Promise<StopOutcome> {
  const c = stopCase(seed);
  const master = await startScriptedMaster(script(c));
  const logger = quietLogger();
  const config = sourceConfig({ 'kafka-brokers': rig.brokers, 'source-id': c.sourceId });
  const brokers = c.kafka === 'unreachable' ? '127.0.0.1:1' : rig.brokers;
  const kafka = createKafkaClient(config.kafka, logger, { brokers: [brokers], requestTimeoutMs: 3000 });
  const publisher = new TransactionalPublisher(
    kafka,
    {
      topic: rig.topic,
      transactionalId: `${c.sourceId}-source`,
      compression: 'none',
      transactionTimeoutMs: 5000,
      maxMessageBytes: 1024 * 1024,
      retryInitialDelayMs: 100,
      retryMaxDelayMs: 500,
    },
    logger,
    // an unknown outcome counts as not committed: the summary then calls the batch uncertain
    () => Promise.resolve(false),
  );
  const metrics = sourceMetrics();
  const detachesBefore = (await metrics.detaches.get()).values[0]?.value ?? 0;
  const pipeline = new SourcePipeline(
    {
      sourceId: c.sourceId,
      session: {
        address: parseMasterUrl(master.url, { user: null, password: null }),
        connect: { connectTimeoutMs: 2000, keepAliveMs: 1000, replyTimeoutMs: 5000 },
        listeningPort: 0,
        ackIntervalMs: 100,
        fullSyncStallTimeoutMs: 5000,
        stopTimeoutMs: STOP_GRACE_MS,
        reconnect: { initialDelayMs: 100, maxDelayMs: 500, maxAttempts: 0 },
      },
      maxEventBytes: 512 * 1024,
      bufferMaxBytes: c.bufferMaxBytes,
      batchMaxEvents: 500,
      lingerMs: 5,
      heartbeatIntervalMs: 500,
      maxUnreadMs: 1000,
      kafkaStallDetachMs: 1000,
      ensurePartitions: () => Promise.resolve(),
    },
    {
      codec: await EventCodec.create(new SingleObjectWireFormat()),
      publisher,
      logger,
      metrics,
      recovered: { start: null, resume: null },
    },
  );
  let n = 0;
  const writer = setInterval(() => {
    for (let i = 0; i < c.writesPerTick; i++) {
      const flow = n % c.flows;
      master.master.write(flow, { args: ['SET', `w${n % 500}`, `${n++}:${'x'.repeat(500)}`] });
    }
  }, 10);
  let frozen = false;
  let freezer: NodeJS.Timeout | null = null;
  try {
    if (c.kafka !== 'unreachable') await startPublisher(publisher);
    // Kafka freezes while the pipeline runs: a Kafka absent from the start is the 'unreachable' case
    if (c.kafka === 'frozen') {
      freezer = setTimeout(() => {
        rig.freeze();
        frozen = true;
      }, c.freezeAfterMs);
    }
    pipeline.start();
    await sleep(c.stopAfterMs);
    const stateAtStop = pipeline.stateName;
    const askedAt = Date.now();
    const summary = await pipeline.stop(askedAt + STOP_GRACE_MS);
    const stopMs = Date.now() - askedAt;
    if (stopMs > STOP_GRACE_MS) {
      throw new StopPropertyFailure(
        `case seed ${seed}: the stop took ${stopMs} ms, the grace period is ${STOP_GRACE_MS} ms (state ${stateAtStop}; ${JSON.stringify(c)})`,
      );
    }
    const detaches = ((await metrics.detaches.get()).values[0]?.value ?? 0) - detachesBefore;
    const maxAcks = Array.from({ length: c.flows }, (_, flow) => {
      const acks = master.master.ackValues(flow);
      return acks.length === 0 ? null : Math.max(...acks);
    });
    return { stopCase: c, summary, stopMs, stateAtStop, detaches, maxAcks };
  } finally {
    clearInterval(writer);
    if (freezer) clearTimeout(freezer);
    if (frozen) rig.thaw();
    await Promise.race([publisher.close(), sleep(2000)]);
    await master.stop();
  }
}

/**
 * Differences between what the summaries say and what the topic holds: events per flow of each
 * source between published and published + uncertain; no ACK beyond the committed position, and no
 * committed position beyond what the topic holds.
 */
export function summaryProblems(outcomes: StopOutcome[], topic: TopicEvent[][]): string[] {
  const counts = new Map<string, number[]>();
  const lastStableLsn = new Map<string, number[]>();
  for (const events of topic) {
    for (const e of events) {
      const id = e.event.source.sourceId;
      const perFlow = counts.get(id) ?? [];
      perFlow[e.partition] = (perFlow[e.partition] ?? 0) + 1;
      counts.set(id, perFlow);
      if (e.event.source.phase === 'STABLE' && e.event.payload.type === 'JournalCommand') {
        const lsns = lastStableLsn.get(id) ?? [];
        lsns[e.partition] = Math.max(lsns[e.partition] ?? 0, e.event.source.lsn);
        lastStableLsn.set(id, lsns);
      }
    }
  }
  const problems: string[] = [];
  for (const o of outcomes) {
    const { sourceId, seed } = o.stopCase;
    const { published, uncertain, committedNextLsns } = o.summary;
    for (let flow = 0; flow < o.stopCase.flows; flow++) {
      const inTopic = counts.get(sourceId)?.[flow] ?? 0;
      const low = published[flow] ?? 0;
      const high = low + (uncertain[flow] ?? 0);
      if (inTopic < low || inTopic > high) {
        problems.push(
          `case seed ${seed} flow ${flow}: the summary says ${low}${high > low ? `..${high}` : ''} events published, the topic holds ${inTopic}`,
        );
      }
      const ack = o.maxAcks[flow] ?? null;
      const committed = committedNextLsns[flow] ?? null;
      if (ack !== null && (committed === null || ack > committed)) {
        problems.push(
          `case seed ${seed} flow ${flow}: the master was acknowledged LSN ${ack}, Kafka has up to ${committed ?? 'nothing'}`,
        );
      }
      const last = lastStableLsn.get(sourceId)?.[flow];
      if (committed !== null && last !== undefined && committed > last + 1 && (uncertain[flow] ?? 0) === 0) {
        problems.push(
          `case seed ${seed} flow ${flow}: committed position ${committed} is beyond the topic's last record ${last}`,
        );
      }
    }
  }
  return problems;
}

export function newRunTopic(): string {
  return uniqueName('stop-property');
}
