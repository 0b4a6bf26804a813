/**
 * `dragonfly-cdc verify` between two real redis-servers: an equal pair (every type, TTLs, binary keys,
 * 50k-element collections, the sink's own keys differing) is equal (exit 0); then one difference of
 * each kind is planted in db 0 and db 3 — missing, extra, type, value, TTL beyond the tolerance —
 * and one element changed inside a 50k-member hash, set, sorted set and list: each is reported with
 * its kind, db and where (exit 1), and the JSON report lists them. A difference that goes away while
 * verify re-checks is counted as "equal later", not reported.
 */
import assert from 'node:assert';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { startRedisServers, type RedisServers } from '../../src/localstack/redis-server';
import { loadVerifyConfig } from '../../src/verify/config';
import { systemClock, type Clock } from '../../src/verify/rate-limit';
import { runVerify } from '../../src/verify/run';
import type { Difference } from '../../src/verify/types';
import { kafkaBrokers, redisServerBin } from '../support/env';

const BIG = 50_000;
const DBS = [0, 3];
let servers: RedisServers;
let source: Redis;
let target: Redis;
let dir: string;
/** the expiry of the keys with a TTL, the same on both servers */
const inAnHour = Date.now() + 3_600_000;

async function on(client: Redis, db: number, command: string, ...args: (string | number | Buffer)[]) {
  await client.select(db);
  return client.call(command, ...args);
}

/** The data both servers start with: every type in db 0 and db 3, big collections in db 0. */
async function fill(client: Redis): Promise<void> {
  for (const db of DBS) {
    await on(client, db, 'SET', `string:${db}`, 'hello');
    await on(client, db, 'SET', Buffer.from([0xff, 0xfe, db]), Buffer.from([0, 1, 2]));
    await on(client, db, 'RPUSH', `list:${db}`, 'a', 'b', 'c');
    await on(client, db, 'SADD', `set:${db}`, 'x', 'y');
    await on(client, db, 'ZADD', `zset:${db}`, '0.1', 'a', 'inf', 'b');
    await on(client, db, 'HSET', `hash:${db}`, 'f', '1', 'g', '2');
    await on(client, db, 'XADD', `stream:${db}`, '1-1', 'field', 'value');
    await on(client, db, 'XGROUP', 'CREATE', `stream:${db}`, 'group', '0');
    await on(client, db, 'SET', `ttl:${db}`, 'v', 'PXAT', inAnHour);
    await on(client, db, 'SET', `missing:${db}`, 'v');
    await on(client, db, 'RPUSH', `type:${db}`, 'v');
    await on(client, db, 'SET', `value:${db}`, 'same length 1');
    await on(client, db, 'SET', `ttl-beyond:${db}`, 'v', 'PXAT', inAnHour);
  }
  await client.select(0);
  for (let at = 0; at < BIG; at += 5000) {
    const pipeline = client.pipeline();
    const fields: string[] = [];
    const members: string[] = [];
    const scored: (string | number)[] = [];
    for (let i = at; i < at + 5000; i++) {
      fields.push(`field:${i}`, `value:${i}`);
      members.push(`member:${i}`);
      scored.push(i / 7, `member:${i}`);
    }
    pipeline.hset('big:hash', ...fields);
    pipeline.sadd('big:set', ...members);
    pipeline.zadd('big:zset', ...scored);
    pipeline.rpush('big:list', ...members);
    await pipeline.exec();
  }
  // the sink's own state (only on the target): never compared
  if (client === target) await on(client, 0, 'HSET', 'dragonfly-cdc:checkpoint', 'topic/0', '17');
}

/** Equal servers, but for an expiry 900 ms apart: within the default tolerance of 2 s. */
async function fillBoth(): Promise<void> {
  await fill(source);
  await fill(target);
  const expiry = Number(await on(source, 0, 'PEXPIRETIME', 'ttl:0'));
  await on(target, 0, 'PEXPIREAT', 'ttl:0', expiry + 900);
}

/** One difference of each kind in db 0 and db 3, and one element in each big collection. */
async function plantDifferences(): Promise<void> {
  for (const db of DBS) {
    await on(target, db, 'DEL', `missing:${db}`);
    await on(target, db, 'SET', `extra:${db}`, 'v');
    await on(target, db, 'DEL', `type:${db}`);
    await on(target, db, 'SADD', `type:${db}`, 'v');
    await on(target, db, 'SET', `value:${db}`, 'same length 2');
    await on(target, db, 'PEXPIRE', `ttl-beyond:${db}`, 60_000);
  }
  await on(target, 0, 'HSET', 'big:hash', 'field:31337', 'value:31338');
  await on(target, 0, 'SREM', 'big:set', 'member:27182');
  await on(target, 0, 'SADD', 'big:set', 'member:other');
  await on(target, 0, 'ZADD', 'big:zset', '1', 'member:14142');
  await on(target, 0, 'LSET', 'big:list', 40_000, 'changed');
}

function config(extra: string[] = []) {
  return loadVerifyConfig(
    [
      '--source-url',
      servers.instances[0]!.url,
      '--target-url',
      servers.instances[1]!.url,
      '--recheck-attempts',
      '1',
      '--recheck-interval-ms',
      '50',
      '--scan-batch-keys',
      '100',
      ...extra,
    ],
    {},
  );
}

async function verify(extra: string[] = [], clock: Clock = systemClock) {
  let stdout = '';
  let stderr = '';
  const code = await runVerify(config(extra), {
    env: {},
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    clock,
  });
  return { code, stdout, stderr };
}

before(async () => {
  servers = await startRedisServers({ instances: 2, binary: redisServerBin(), install: false });
  source = new Redis(servers.instances[0]!.url);
  target = new Redis(servers.instances[1]!.url);
  dir = mkdtempSync(join(tmpdir(), 'verify-test-'));
  await fillBoth();
});

after(async () => {
  source?.disconnect();
  target?.disconnect();
  await servers?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('an equal pair is equal: exit 0, every key and value compared, the sink’s own keys left out', async () => {
  const { code, stdout, stderr } = await verify();
  assert.equal(stderr, '');
  assert.equal(code, 0, stdout);
  assert.match(stdout, /: EQUAL\n/);
  assert.match(stdout, /databases 0,3/);
  // 12 keys in each db + 4 big collections
  assert.match(stdout, /28 source keys compared, 28 target keys looked up, 28 values compared/);
  assert.match(stdout, /0 differences\n/);
});

test('a planted difference of each kind, per db and inside 50k-element collections, is reported', async () => {
  await plantDifferences();
  const report = join(dir, 'report.json');
  const { code, stdout } = await verify(['--report', report]);
  assert.equal(code, 1, stdout);
  assert.match(stdout, /: DIFFERENT\n/);
  assert.match(stdout, /14 differences: missing 2, extra 2, type 2, ttl 2, value 6/);
  const json = JSON.parse(readFileSync(report, 'utf8')) as { equal: boolean; differences: Difference[] };
  assert.equal(json.equal, false);
  const found = new Map(json.differences.map((d) => [`${d.db} ${d.key}`, d]));
  for (const db of DBS) {
    assert.equal(found.get(`${db} missing:${db}`)?.kind, 'missing');
    assert.equal(found.get(`${db} extra:${db}`)?.kind, 'extra');
    assert.equal(found.get(`${db} type:${db}`)?.detail, 'source list, target set');
    assert.equal(
      found.get(`${db} value:${db}`)?.detail,
      'bytes differ from offset 12: source "1", target "2"',
    );
    assert.equal(found.get(`${db} ttl-beyond:${db}`)?.kind, 'ttl');
  }
  assert.equal(
    found.get('0 big:hash')?.detail,
    'field "field:31337": source "value:31337", target "value:31338"',
  );
  assert.equal(found.get('0 big:set')?.detail, `member "member:27182" is not in the target's set`);
  assert.match(
    found.get('0 big:zset')?.detail ?? '',
    /^member "member:14142": source score 2020\.28.*, target score 1$/,
  );
  assert.equal(found.get('0 big:list')?.detail, 'element 40000: source "member:40000", target "changed"');
  assert.equal(found.size, 14);
});

test('quick mode finds what type, TTL and length show; value differences need full mode', async () => {
  const { code, stdout } = await verify(['--mode', 'quick']);
  assert.equal(code, 1);
  assert.match(stdout, /8 differences: missing 2, extra 2, type 2, ttl 2\n/);
  assert.match(stdout, /0 values compared/);
});

test('a difference that goes away while verify re-checks is "equal later", not reported', async () => {
  // fix every planted difference at verify's first wait before a re-check: a sink catching up
  let fixed = false;
  const clock: Clock = {
    now: () => Date.now(),
    sleep: async (ms) => {
      if (!fixed) {
        fixed = true;
        await target.flushall();
        await fill(target);
      }
      await systemClock.sleep(ms);
    },
  };
  await plantDifferences();
  const { code, stdout, stderr } = await verify(
    ['--recheck-attempts', '3', '--recheck-interval-ms', '200'],
    clock,
  );
  assert.ok(fixed, 'verify waited before re-checking');
  assert.equal(code, 0, stdout + stderr);
  assert.match(stdout, /0 differences\n/);
  assert.match(stdout, /[1-9]\d* re-checked, equal later/);
});

test('sampling compares the values of a share of the keys; the rate limit spreads the reads', async () => {
  const startMs = Date.now();
  const { code, stdout } = await verify([
    '--sample-percent',
    '50',
    '--rate-limit-keys-per-second',
    '40',
    '--scan-batch-keys',
    '10',
  ]);
  const tookMs = Date.now() - startMs;
  assert.equal(code, 0, stdout);
  const compared = Number(/(\d+) values compared/.exec(stdout)?.[1]);
  assert.ok(compared > 0 && compared < 28, `${compared} of 28 values compared at 50%`);
  // 56 key reads (28 per pass) at 40 keys/s, the first batch at once
  assert.ok(tookMs >= 1000, `took ${tookMs} ms`);
});

test('at a cut: a missing topic, a source that is not Dragonfly or a sink that does not apply are exit 4, saying what to do', async () => {
  const cut = ['--kafka-brokers', kafkaBrokers(), '--cut-timeout-ms', '1500'];
  const missing = await verify(['--cut-mode', 'topic', '--topic', 'verify-no-such-topic', ...cut]);
  assert.equal(missing.code, 4);
  assert.match(
    missing.stderr,
    /topic "verify-no-such-topic" does not exist on .*: set --topic to the pipeline's topic/,
  );

  const topic = `verify-cut-${process.pid}-${Date.now()}`;
  const kafka = new Kafka({ clientId: 'verify-test', brokers: [kafkaBrokers()], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    await producer.connect();
    await producer.send({ topic, messages: [{ partition: 1, value: 'an event' }] });
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  const notDragonfly = await verify(['--cut-mode', 'master', '--topic', topic, ...cut]);
  assert.equal(notDragonfly.code, 4);
  assert.match(notDragonfly.stderr, /DFLY REPLICAOFFSET.*it is not a Dragonfly master; use --cut-mode topic/);

  const noSink = await verify(['--cut-mode', 'topic', '--topic', topic, ...cut]);
  assert.equal(noSink.code, 4);
  assert.match(
    noSink.stderr,
    /the sink has not applied the cut in time \(partition 1 at nothing of 1; checkpoint hash "dragonfly-cdc:checkpoint" in db 0 of the target\): is the sink running/,
  );
  // the sink's checkpoint reaches the cut: verify goes on and compares
  await on(target, 0, 'HSET', 'dragonfly-cdc:checkpoint', `${topic}/1`, '1');
  const applied = await verify(['--cut-mode', 'topic', '--topic', topic, ...cut]);
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  assert.match(applied.stdout, /cut: topic end at start, offsets -,1, applied by the sink/);
});
