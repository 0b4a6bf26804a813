/**
 * verify against a real Dragonfly v1.40.1 under a write load:
 * - a master and its native replica are equal (the write load's differences are re-checked away),
 *   and a difference planted on the replica is found;
 * - at a cut: master → source → Kafka → sink → redis-server, with writes going on; verify reads the
 *   master's LSNs, waits until the sink applied them, and reports equal, with Dragonfly's JSON and
 *   sketches listed apart as the sink's documented degradations.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type Redis from 'ioredis';
import type { DragonflyServer } from '../../src/localstack/dragonfly-server';
import { runSink } from '../../src/sink/run';
import { runSource } from '../../src/source/run';
import { loadVerifyConfig } from '../../src/verify/config';
import { systemClock } from '../../src/verify/rate-limit';
import { runVerify } from '../../src/verify/run';
import { kafkaBrokers } from '../support/env';
import { dragonflies, liveSkip, replicate } from '../support/live-dragonfly';
import { createTopic, quietLogger, sourceConfig, uniqueName } from '../integration/source-helpers';
import { freshRedis, sinkConfig, waitFor } from '../integration/sink-harness';

const LOAD_KEYS = 2000;

/** Writes to the master (single-key commands on random keys of every type) until stopped. */
function startWriteLoad(master: DragonflyServer): { stop(): Promise<number> } {
  const client = master.client();
  let running = true;
  let ops = 0;
  const loop = (async () => {
    while (running) {
      const pipeline = client.pipeline();
      for (let i = 0; i < 50; i++) {
        const n = Math.floor(Math.random() * LOAD_KEYS);
        switch (n % 6) {
          case 0:
            pipeline.set(`load:s:${n}`, `v${ops + i}`);
            break;
          case 1:
            pipeline.hincrby(`load:h:${n}`, `f${i % 5}`, 1);
            break;
          case 2:
            pipeline.rpush(`load:l:${n}`, `e${ops + i}`);
            break;
          case 3:
            pipeline.zincrby(`load:z:${n}`, 1.5, `m${i % 7}`);
            break;
          case 4:
            pipeline.del(`load:s:${n - 4}`);
            break;
          default:
            pipeline.set(`load:t:${n}`, 'ttl', 'PX', 300_000);
        }
      }
      await pipeline.exec();
      ops += 50;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      client.disconnect();
      return ops;
    },
  };
}

async function populate(master: DragonflyServer): Promise<Redis> {
  const m = master.client();
  await m.call('DEBUG', 'POPULATE', '3000', 'key', '20');
  await m.hset('hash', 'f1', 'a', 'f2', 'b');
  await m.rpush('list', 'x', 'y', 'z');
  await m.zadd('zset', 1, 'one', 2.5, 'two');
  await m.sadd('set', 'm1', 'm2');
  await m.xadd('stream', '1-1', 'f', 'v');
  await m.call('XGROUP', 'CREATE', 'stream', 'group', '0');
  await m.set('ttl', 'v', 'PX', 600_000);
  await m.call('JSON.SET', 'json', '$', '{"b":[1,2,{"c":"d"}],"a":true}');
  await m.call('BF.ADD', 'bloom', 'item');
  const fields: string[] = [];
  for (let i = 0; i < 20_000; i++) fields.push(`field:${i}`, `value:${i}`);
  await m.hset('big:hash', ...fields);
  await m.select(3);
  await m.set('db3-key', 'in db 3');
  await m.select(0);
  return m;
}

async function verify(flags: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runVerify(loadVerifyConfig(flags, {}), {
    env: {},
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    clock: systemClock,
  });
  return { code, stdout, stderr, output: stdout + stderr };
}

describe('verify against a live Dragonfly', { skip: liveSkip }, () => {
  const servers = dragonflies();

  test('a master and its native replica under a write load are equal; a planted difference is found', async () => {
    const master = await servers.start({ shards: 2 });
    const replica = await servers.start({ shards: 2 });
    const m = await populate(master);
    try {
      await replicate(master, replica);
      const load = startWriteLoad(master);
      let result;
      try {
        result = await verify([
          '--source-url',
          master.url,
          '--target-url',
          replica.url,
          '--recheck-interval-ms',
          '300',
        ]);
      } finally {
        assert.ok((await load.stop()) > 0, 'the write load ran');
      }
      assert.equal(result.code, 0, result.output);
      assert.match(result.stdout, /: EQUAL\n/);
      assert.match(result.stdout, /databases 0,3/);
      assert.doesNotMatch(result.stdout, /degraded/);

      const r = replica.client();
      try {
        await r.call('REPLICAOF', 'NO', 'ONE');
        await r.hset('big:hash', 'field:12345', 'changed');
        const planted = await verify([
          '--source-url',
          master.url,
          '--target-url',
          replica.url,
          '--recheck-interval-ms',
          '100',
        ]);
        assert.equal(planted.code, 1, planted.output);
        assert.match(planted.stdout, /1 differences: value 1/);
        assert.match(
          planted.stdout,
          /db 0 "big:hash": value: field "field:12345": source "value:12345", target "changed"/,
        );
      } finally {
        r.disconnect();
      }
    } finally {
      m.disconnect();
    }
  });

  test('at a cut: a live source → Kafka → sink pipeline under a write load verifies equal', async () => {
    const master = await servers.start({ shards: 2 });
    const m = await populate(master);
    const target = await freshRedis();
    const topic = uniqueName('verify-cut');
    await createTopic(kafkaBrokers(), topic, 2);
    const stop = new AbortController();
    const source = runSource(
      sourceConfig({
        'dragonfly-url': master.url,
        'kafka-brokers': kafkaBrokers(),
        topic,
        'source-id': uniqueName('src'),
        'batch-linger-ms': 5,
        'heartbeat-interval-ms': 500,
      }),
      quietLogger(),
      stop.signal,
    );
    const sink = runSink(sinkConfig(topic, target.url), quietLogger('sink'), stop.signal);
    let failure: unknown;
    for (const running of [source, sink]) {
      running.catch((error: unknown) => {
        failure ??= error;
      });
    }
    try {
      // the snapshot has arrived: the target holds as many keys as the master (+ the checkpoint)
      const masterKeys = await m.dbsize();
      await waitFor(
        'the sink to apply the snapshot',
        async () => {
          if (failure !== undefined) throw failure;
          return (await target.client.dbsize()) >= masterKeys - 1;
        },
        120_000,
      );
      const load = startWriteLoad(master);
      let result;
      try {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        result = await verify([
          '--source-url',
          master.url,
          '--target-url',
          target.url,
          '--cut-mode',
          'master',
          '--kafka-brokers',
          kafkaBrokers(),
          '--topic',
          topic,
          '--cut-timeout-ms',
          '60000',
          '--recheck-interval-ms',
          '500',
        ]);
      } finally {
        await load.stop();
      }
      assert.equal(failure, undefined);
      assert.equal(result.code, 0, result.output);
      assert.match(result.stdout, /: EQUAL\n/);
      assert.match(result.stdout, /cut: master LSNs \d+,\d+ = topic offsets \d+,\d+, applied by the sink/);
      assert.match(
        result.stdout,
        /1 degraded by the sink's translation table: JSON documents stored as strings/,
      );
      assert.match(result.stdout, /1 degraded by the sink's translation table: sketches not written/);
    } finally {
      stop.abort();
      await Promise.allSettled([source, sink]);
      m.disconnect();
      target.client.disconnect();
      await target.servers.stop();
    }
  });
});
