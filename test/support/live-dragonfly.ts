/**
 * Live tests against a real Dragonfly (test/live/). The binary comes from $DRAGONFLY_BIN or the
 * repo's neighbour ../shared/bin/dragonfly. Without one (a user's machine) every live test is skipped
 * with one line saying how to enable them; with DRAGONFLY_BIN set (CI sets it) a missing or broken
 * binary fails instead, so CI can never pass with the live suite skipped.
 */
import { after } from 'node:test';
import type Redis from 'ioredis';
import {
  findDragonfly,
  startDragonfly,
  type DragonflyServer,
  type DragonflyServerOptions,
} from '../../src/localstack/dragonfly-server';
import { compareDatasets, type ExpectedDataset } from '../../src/reference-dataset/expected-json';
import { dumpRedis } from './redis-dump';

const ENABLE_HINT =
  'live Dragonfly tests skipped: no binary at ../shared/bin/dragonfly; set DRAGONFLY_BIN=/path/to/dragonfly to run them';

/** `skip` option for live tests: a reason when no Dragonfly can be run here, else false. */
export const liveSkip: string | false = process.env.DRAGONFLY_BIN || findDragonfly() ? false : ENABLE_HINT;
if (liveSkip) console.log(`# ${liveSkip}`);

/**
 * Starts Dragonflies for one test file and stops every one of them when the file ends, also when a
 * test failed. They run with Dragonfly's default flags unless the test passes others (scripts must
 * declare their keys, as on a stock server).
 */
export function dragonflies(): {
  start(options?: DragonflyServerOptions): Promise<DragonflyServer>;
  stopAll(): Promise<void>;
} {
  const started: DragonflyServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((server) => server.stop()));
  };
  after(stopAll);
  return {
    async start(options = {}) {
      const server = await startDragonfly(options);
      started.push(server);
      return server;
    },
    stopAll,
  };
}

/** Keys per db as INFO keyspace reports them, e.g. "db0=2000 db2=2". */
async function keyCounts(client: Redis): Promise<string> {
  const info = await client.info('keyspace');
  return [...info.matchAll(/^db(\d+):keys=(\d+)/gm)]
    .filter((m) => m[2] !== '0')
    .map((m) => `db${m[1]}=${m[2]}`)
    .join(' ');
}

/**
 * Makes `replica` a native replica of `master` and waits until its link is up, no sync is in progress,
 * and it holds as many keys per db as the master (right after REPLICAOF the replica can report a link
 * that is up and no sync in progress before its full sync has begun). For a master at rest.
 */
export async function replicate(
  master: DragonflyServer,
  replica: DragonflyServer,
  timeoutMs = 60_000,
): Promise<void> {
  const client = replica.client();
  const source = master.client();
  try {
    await client.call('REPLICAOF', master.host, String(master.port));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await client.info('replication');
      const linked = /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info);
      const [have, want] = await Promise.all([keyCounts(client), keyCounts(source)]);
      if (linked && have === want) return;
      if (Date.now() > deadline) {
        throw new Error(
          `native replica on ${replica.port} not in sync with ${master.port} after ${timeoutMs} ms ` +
            `(keys: replica ${have || 'none'}, master ${want || 'none'}):\n${info}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.disconnect();
    source.disconnect();
  }
}

/** Every key of every db of a Redis-protocol server, in the fixtures' expected.json form. */
export function dumpServer(client: Redis, ownPrefix = 'dragonfly-cdc:'): Promise<ExpectedDataset> {
  return dumpRedis(client, ownPrefix);
}

/** Redis module type names of Dragonfly's sketches (bloom, cuckoo, count-min, top-k). */
const SKETCH_TYPES = new Set(['MBbloom--', 'MBbloomCF', 'CMSk-TYPE', 'TopK-TYPE']);

export interface CompareOptions {
  /** keys starting with it are the sink's own (checkpoint, barriers) and are left out */
  ownPrefix?: string;
  /**
   * The target holds JSON documents as strings of their JSON text (docs/sink.md, degrade.json on a
   * target without RedisJSON): compared parsed, as the document.
   */
  jsonAsString?: boolean;
  /** The sink does not write sketches to this target (degrade.sketch): they must be absent. */
  sketchesMissing?: boolean;
}

/**
 * What Redis 7.0 without modules holds degraded (docs/sink.md, "Degraded on Redis 7.0"): JSON as
 * strings, no sketches. Hash-field and set-member TTLs (dropped before Redis 7.4) are not read by the
 * dump at all.
 */
export const REDIS_70_DEGRADED: CompareOptions = { jsonAsString: true, sketchesMissing: true };

/** The target's dataset with the strings that stand for the master's JSON documents read as JSON. */
function jsonFromStrings(actual: ExpectedDataset, expected: ExpectedDataset): ExpectedDataset {
  const out: ExpectedDataset = {};
  for (const [db, keys] of Object.entries(actual)) {
    out[db] = {};
    for (const [key, act] of Object.entries(keys)) {
      const exp = expected[db]?.[key];
      out[db][key] =
        exp?.type === 'ReJSON-RL' && act.type === 'string' && typeof act.value === 'string'
          ? { ...act, type: exp.type, value: [JSON.parse(act.value) as unknown] }
          : act;
    }
  }
  return out;
}

function withoutSketches(dataset: ExpectedDataset): ExpectedDataset {
  return Object.fromEntries(
    Object.entries(dataset).map(([db, keys]) => [
      db,
      Object.fromEntries(Object.entries(keys).filter(([, k]) => !SKETCH_TYPES.has(k.type))),
    ]),
  );
}

/**
 * Key-by-key comparison of a master and a target (type, value, absolute TTL within the tolerance of
 * compareDatasets, every db): the list of differences, each naming db and key; empty when equal.
 */
export async function compareServers(
  master: Redis,
  target: Redis,
  options: CompareOptions = {},
): Promise<string[]> {
  const ownPrefix = options.ownPrefix ?? 'dragonfly-cdc:';
  const [expected, actual] = await Promise.all([
    dumpServer(master, ownPrefix),
    dumpServer(target, ownPrefix),
  ]);
  return compareDatasets(
    options.jsonAsString ? jsonFromStrings(actual, expected) : actual,
    options.sketchesMissing ? withoutSketches(expected) : expected,
    Date.now(),
  );
}
