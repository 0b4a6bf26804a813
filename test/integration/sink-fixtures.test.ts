/**
 * Every recorded fixture replayed through Kafka into a fresh Redis by the sink, read back and
 * compared with the fixture's expected.json. Equal except the rows docs/sink.md documents as
 * degraded on Redis 7.0: JSON documents (stored as strings), sketches (skipped), and per-member /
 * per-field TTLs (written without TTL). The replay runs long after the recording, so every
 * absolute expiry in it has passed: late expiries (docs/sink.md) must come out exact.
 */
import assert from 'node:assert';
import { test } from 'node:test';
import { compareDatasets, type ExpectedDataset } from '../../src/reference-dataset/expected-json';
import { dumpRedis } from '../support/redis-dump';
import { listFixtures, loadExpected } from '../support/fixtures';
import { forEachFixtureEvent } from './sink-fixture-events';
import {
  CHECKPOINT_KEY,
  createTopic,
  eventEncoder,
  freshRedisForFile,
  kafka,
  produceEncoded,
  type EncodedEvent,
  runSinkToEnd,
  sinkConfig,
  uniqueName,
} from './sink-harness';

const redis = freshRedisForFile();

const SKETCH_TYPES = new Set(['MBbloom--', 'MBbloomCF', 'CMSk-TYPE', 'TopK-TYPE']);

/** Keys whose difference on Redis 7.0 is the documented degradation, with why. */
function degradedKeys(expected: ExpectedDataset): Map<string, string> {
  const out = new Map<string, string>();
  for (const [db, keys] of Object.entries(expected)) {
    for (const [key, value] of Object.entries(keys)) {
      const where = `db ${db} key ${JSON.stringify(key)}`;
      if (value.type === 'ReJSON-RL') out.set(where, 'JSON document stored as a string (no RedisJSON)');
      else if (SKETCH_TYPES.has(value.type)) out.set(where, 'sketch skipped (no RedisBloom)');
      else if (value.memberExpireAtMs)
        out.set(where, 'member/field TTLs dropped (no field TTLs before Redis 7.4)');
    }
  }
  return out;
}

for (const fixture of listFixtures()) {
  test(`sink reproduces fixture ${fixture.name}`, { timeout: 600_000 }, async (t) => {
    let lapStart = Date.now();
    const lap = (what: string): void => {
      t.diagnostic(`${what}: ${Date.now() - lapStart} ms`);
      lapStart = Date.now();
    };
    const client = kafka();
    const topic = uniqueName(`sink-${fixture.name.replace(/[^A-Za-z0-9]/g, '-')}`);
    // events encoded as they are made, not kept as objects (far less for the garbage collector)
    const ends = await (async () => {
      const encode = await eventEncoder();
      const partitions: EncodedEvent[][] = [];
      const { flows } = forEachFixtureEvent(fixture.capturePath, (flow, event) => {
        while (partitions.length <= flow) partitions.push([]);
        partitions[flow]!.push(encode(event));
      });
      await createTopic(client, topic, flows);
      lap(`events (${partitions.reduce((n, p) => n + p.length, 0)})`);
      return produceEncoded(client, topic, partitions);
    })();
    lap('produce');
    await redis.client.flushall();
    await runSinkToEnd(sinkConfig(topic, redis.url), redis.client, ends, 480_000);
    lap('sink');
    const nowMs = Date.now();
    const actual = await dumpRedis(redis.client, CHECKPOINT_KEY);
    lap('read back');
    const expected = loadExpected(fixture);
    const degraded = degradedKeys(expected);
    const diffs = compareDatasets(actual, expected, nowMs);
    const unexplained = diffs.filter((d) => ![...degraded.keys()].some((where) => d.startsWith(`${where}:`)));
    for (const [where, why] of degraded) t.diagnostic(`degraded: ${where}: ${why}`);
    assert.deepStrictEqual(unexplained.slice(0, 20), [], `${unexplained.length} differences`);
  });
}
