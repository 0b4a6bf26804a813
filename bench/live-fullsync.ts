/**
 * Full sync from a live Dragonfly through Kafka: a real Dragonfly v1.40.1 (2 shards) filled with
 * DEBUG POPULATE <keys> key 100, replicated by the source into a fresh topic; then a native Dragonfly
 * replica full-syncs the same dataset, as the ceiling. Prints, per size: seconds and keys/s of the
 * source's full sync (until the snapshot is committed in Kafka on every flow), the ratio to the native
 * replica, epochs, detaches, seconds reading was paused for Kafka, and the peak RSS of this process.
 * Ends on its own: every run is bounded (BENCH_TIMEOUT_S per size, default 900).
 *
 *   npm run bench:live -- [keys ...]          (default 1000000; KAFKA_BROKERS from the local stack env)
 */
import { loadSourceConfig } from '../src/config/source';
import { startDragonfly, type DragonflyServer } from '../src/localstack/dragonfly-server';
import { createLogger } from '../src/observability/logger';
import { sourceMetrics } from '../src/source/metrics';
import { runSource } from '../src/source/run';

const SHARDS = 2;
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 900) * 1000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type MetricGetter = () => Promise<{ values: { value: number; labels: Record<string, unknown> }[] }>;

async function sum(get: MetricGetter, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await get();
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((n, v) => n + v.value, 0);
}

async function until(what: string, condition: () => Promise<boolean>, deadline: number): Promise<void> {
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
}

async function sourceRun(master: DragonflyServer, keys: number, brokers: string) {
  const metrics = sourceMetrics();
  const before = {
    detaches: await sum(() => metrics.detaches.get()),
    fullSyncs: await sum(() => metrics.syncs.get(), { mode: 'full' }),
    paused: await sum(() => metrics.readingPausedSeconds.get()),
  };
  const topic = `bench-live-${keys}-${Date.now()}`;
  const stop = new AbortController();
  let peakRss = 0;
  const rss = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const replicaCounts: number[] = [];
  const client = master.client();
  const listed = setInterval(() => {
    void client
      .info('replication')
      .then((info) => replicaCounts.push(Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0)));
  }, 250);
  const started = Date.now();
  const running = runSource(
    loadSourceConfig(
      ['--dragonfly-url', master.url, '--kafka-brokers', brokers, '--topic', topic, '--source-id', topic],
      {},
    ),
    createLogger({ role: 'source', level: 'warn', format: 'json' }),
    stop.signal,
  );
  running.catch(() => undefined);
  let seconds: number;
  try {
    await until(
      'snapshot committed on every flow',
      async () => {
        for (let flow = 0; flow < SHARDS; flow++) {
          if ((await sum(() => metrics.committedLsn.get(), { flow: String(flow) })) <= 0) return false;
        }
        return true;
      },
      started + TIMEOUT_MS,
    );
    seconds = (Date.now() - started) / 1000;
  } finally {
    clearInterval(rss);
    clearInterval(listed);
    client.disconnect();
    stop.abort();
    await running.catch(() => undefined);
  }
  await running;
  return {
    seconds,
    peakRssMb: peakRss / 2 ** 20,
    detaches: (await sum(() => metrics.detaches.get())) - before.detaches,
    epochs: (await sum(() => metrics.syncs.get(), { mode: 'full' })) - before.fullSyncs,
    // from the master's first sight of the replica on: samples that did not list it
    unlisted: replicaCounts.slice(replicaCounts.indexOf(1)).filter((n) => n !== 1).length,
    listedSamples: replicaCounts.length,
    pausedSeconds: (await sum(() => metrics.readingPausedSeconds.get())) - before.paused,
  };
}

async function nativeReplicaSeconds(master: DragonflyServer, keys: number): Promise<number> {
  const replica = await startDragonfly({ shards: SHARDS, extraArgs: ['--maxmemory=8gb'] });
  const client = replica.client();
  try {
    const started = Date.now();
    await client.call('REPLICAOF', master.host, String(master.port));
    await until(
      'native replica in sync',
      async () => {
        const info = await client.info('replication');
        const size = Number(await client.dbsize());
        return /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info) && size === keys;
      },
      started + TIMEOUT_MS,
    );
    return (Date.now() - started) / 1000;
  } finally {
    client.disconnect();
    await replica.stop();
  }
}

async function main(): Promise<void> {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new Error(
      'KAFKA_BROKERS is not set: `. /tmp/shared-stack.env` or `dragonfly-cdc stack --print-env`',
    );
  const sizes = process.argv.slice(2).map(Number);
  for (const keys of sizes.length > 0 ? sizes : [1_000_000]) {
    const master = await startDragonfly({ shards: SHARDS, extraArgs: ['--maxmemory=8gb'] });
    const client = master.client();
    try {
      await client.call('DEBUG', 'POPULATE', String(keys), 'key', '100');
      const source = await sourceRun(master, keys, brokers);
      const native = await nativeReplicaSeconds(master, keys);
      const rate = keys / source.seconds;
      const nativeRate = keys / native;
      console.log(
        `${keys} keys x 100 B: source ${source.seconds.toFixed(1)} s (${Math.round(rate)} keys/s), ` +
          `native replica ${native.toFixed(1)} s (${Math.round(nativeRate)} keys/s), ratio ${(rate / nativeRate).toFixed(2)}; ` +
          `epochs ${source.epochs}, detaches ${source.detaches}, reading paused ${source.pausedSeconds.toFixed(1)} s, ` +
          `peak RSS ${source.peakRssMb.toFixed(0)} MB (buffer.maxBytes 256 MiB), master listed the replica in ${source.listedSamples - source.unlisted} of ${source.listedSamples} samples`,
      );
    } finally {
      client.disconnect();
      await master.stop();
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  },
);
