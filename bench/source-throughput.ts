/**
 * Source throughput: the largest recorded fixture session (by flow bytes) served by the replay test
 * master as fast as it can, through the whole source (parse, events, Avro, buffer, Kafka
 * transactions) into a fresh topic; compared with the raw parse rate of the same bytes. Prints
 * events/s, MB/s (flow bytes), the ratio to the parse rate, and the peak RSS.
 *
 *   KAFKA_BROKERS=host:port npx tsx bench/source-throughput.ts [batch.maxEvents] [buffer.maxBytes]
 * A buffer smaller than the snapshot makes the source detach (counted in the output): then the peak
 * RSS shows what the limit bounds.
 * Without KAFKA_BROKERS a local broker is started (needs Java; the first run fetches the jars).
 */
import { readCaptureSessions } from '../src/capture/session';
import { loadSourceConfig } from '../src/config/source';
import { startKafkaBroker, type KafkaBroker } from '../src/localstack/kafka-broker';
import { createLogger } from '../src/observability/logger';
import { FlowStreamParser } from '../src/protocol/flow-parser';
import { EventCodec } from '../src/events/codec';
import { bufferedUnits } from '../src/source/buffered-unit';
import { EventBuilder } from '../src/source/event-builder';
import { MessageSlab } from '../src/source/message-slab';
import { sourceMetrics } from '../src/source/metrics';
import { runSource } from '../src/source/run';
import { ReplayMaster } from '../src/testmaster/replay-master';
import { fixtureFlows, type FixtureFlow } from '../test/support/fixture-flows';
import { listFixtures } from '../test/support/fixtures';

function largestFixture(): { name: string; capturePath: string; flows: FixtureFlow[]; bytes: number } {
  let best: { name: string; capturePath: string; flows: FixtureFlow[]; bytes: number } | null = null;
  for (const fixture of listFixtures()) {
    const flows = fixtureFlows(fixture);
    const bytes = flows.reduce((n, f) => n + f.bytes, 0);
    if (!best || bytes > best.bytes)
      best = { name: fixture.name, capturePath: fixture.capturePath, flows, bytes };
  }
  if (!best) throw new Error('no fixture captures found (FIXTURES_DIR)');
  return best;
}

function parseSeconds(flows: FixtureFlow[]): number {
  const start = process.hrtime.bigint();
  for (const flow of flows) {
    const parser = new FlowStreamParser({ flowId: flow.flowId, start: flow.start, eofToken: flow.eofToken });
    for (const chunk of flow.chunks) parser.feed(chunk);
    parser.end();
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Parse + event building + Avro encoding of the same bytes, without Kafka (where the CPU goes). */
async function buildSeconds(flows: FixtureFlow[]): Promise<{ seconds: number; events: number }> {
  const codec = await EventCodec.create();
  const slab = new MessageSlab(codec);
  const builder = new EventBuilder('bench', 1_000_000, null, slab);
  const flowIds = [...new Set(flows.map((f) => f.flowId))];
  const start = process.hrtime.bigint();
  let events = 0;
  builder.startSync({ mode: 'full', reason: 'FIRST_SYNC', masterId: 'bench', flowCount: flowIds.length }, 0);
  for (const flow of flows.filter((f) => f.start === 'rdb')) {
    const parser = new FlowStreamParser({ flowId: flow.flowId, start: flow.start, eofToken: flow.eofToken });
    for (const chunk of flow.chunks) {
      const items = parser.feed(chunk).map((item) => ({ item, lsn: null }));
      for (const unit of bufferedUnits(slab, builder.items(flow.flowId, items, 0), 1000))
        events += unit.count;
    }
  }
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, events };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function counterValue(get: () => Promise<{ values: { value: number }[] }>): Promise<number> {
  return (await get()).values.reduce((n, v) => n + v.value, 0);
}

async function main(): Promise<void> {
  const fixture = largestFixture();
  const mb = fixture.bytes / 1e6;
  parseSeconds(fixture.flows);
  const parse = Math.min(parseSeconds(fixture.flows), parseSeconds(fixture.flows));
  console.log(
    `${fixture.name}: ${mb.toFixed(1)} MB of flow bytes; raw parse ${(mb / parse).toFixed(1)} MB/s`,
  );
  const built = await buildSeconds(fixture.flows);
  console.log(
    `parse + build + encode (no Kafka, full-sync flows): ${Math.round(built.events / built.seconds)} events/s`,
  );

  let broker: KafkaBroker | undefined;
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    broker = await startKafkaBroker({ log: (m) => console.error(m) });
    brokers = broker.brokers;
  }
  const master = new ReplayMaster({ sessions: readCaptureSessions(fixture.capturePath).sessions });
  const { port } = await master.start();
  const metrics = sourceMetrics();
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const stop = new AbortController();
  const config = loadSourceConfig(
    [
      '--dragonfly-url',
      `redis://127.0.0.1:${port}`,
      '--kafka-brokers',
      brokers,
      '--topic',
      `bench-${Date.now()}`,
      '--source-id',
      `bench-${Date.now()}`,
      '--batch-max-events',
      process.argv[2] ?? '1000',
      ...(process.argv[3] ? ['--buffer-max-bytes', process.argv[3]] : []),
    ],
    {},
  );
  const running = runSource(
    config,
    createLogger({ role: 'source', level: 'warn', format: 'json' }),
    stop.signal,
  );
  try {
    while ((await counterValue(() => metrics.syncs.get())) === 0) await sleep(5);
    const started = Date.now();
    await master.sessionServed(0);
    // done once everything received is committed: buffer empty and nothing published for a while
    let last = -1;
    for (;;) {
      await sleep(200);
      const published = await counterValue(() => metrics.published.get());
      const buffered = await counterValue(() => metrics.bufferBytes.get());
      if (published === last && buffered === 0) break;
      last = published;
    }
    const seconds = (Date.now() - started - 200) / 1000;
    const events = await counterValue(() => metrics.published.get());
    const bytes = await counterValue(() => metrics.publishedBytes.get());
    console.log(
      [
        `source into Kafka: ${events} events in ${seconds.toFixed(2)} s = ${Math.round(events / seconds)} events/s`,
        `  ${(mb / seconds).toFixed(1)} MB/s of flow bytes (${(bytes / 1e6 / seconds).toFixed(1)} MB/s of events)`,
        `  ratio to the raw parse rate: ${(parse / seconds).toFixed(3)}`,
        `  peak RSS ${(peakRss / 1e6).toFixed(0)} MB (buffer.maxBytes ${config.buffer.maxBytes / 2 ** 20} MiB; ` +
          `${await counterValue(() => metrics.detaches.get())} detaches)`,
      ].join('\n'),
    );
  } finally {
    clearInterval(rssTimer);
    stop.abort();
    await running;
    await master.stop();
    await broker?.stop();
  }
}

void main();
