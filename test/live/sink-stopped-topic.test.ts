/**
 * Issue 16 against a real Dragonfly: the source captures a master into a fresh topic and is stopped
 * (as with SIGTERM); a sink started only then replays the topic into a fresh Redis, and the target
 * equals the master key by key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSource } from '../../src/source/run';
import { kafkaBrokers } from '../support/env';
import { compareServers, dragonflies, liveSkip } from '../support/live-dragonfly';
import { lastEventEnds } from '../integration/replay-helpers';
import { capturingLogger, freshRedisForFile, runSinkToEnd, sinkConfig } from '../integration/sink-harness';
import { sourceConfig, uniqueName } from '../integration/source-helpers';

describe('live: replaying the topic of a stopped source', { skip: liveSkip }, () => {
  const servers = dragonflies();
  const target = freshRedisForFile();

  test(
    'source captures the master and stops; a sink then replays the topic into a fresh Redis',
    { timeout: 300_000 },
    async () => {
      const master = await servers.start({ shards: 2 });
      const m = master.client();
      try {
        await m.call('DEBUG', 'POPULATE', '10000', 'key', '20');
        await m.set('plain', 'v', 'PX', 600_000);
        await m.hset('hash', 'f1', 'a', 'f2', 'b');
        await m.rpush('list', 'x', 'y', 'z');
        await m.zadd('zset', 1, 'one', 2, 'two');
        await m.sadd('set', 'm1', 'm2');
        await m.xadd('stream', '1-1', 'f', 'v');
        await m.select(2);
        await m.set('db2-key', 'in db 2');
        await m.select(0);

        const topic = uniqueName('live-stopped');
        const log = capturingLogger('source');
        const stop = new AbortController();
        const running = runSource(
          sourceConfig({
            'dragonfly-url': master.url,
            'kafka-brokers': kafkaBrokers(),
            topic,
            'source-id': uniqueName('src'),
            'batch-linger-ms': 5,
          }),
          log.logger,
          stop.signal,
        );
        try {
          await log.waitForMessage(/snapshot of epoch 1 is in Kafka on all 2 flows/, 120_000);
          // journal after the snapshot
          await m.set('key:1', 'changed');
          await m.incr('counter');
          await m.del('key:2');
          await m.rpush('list', 'w');
          await new Promise((resolve) => setTimeout(resolve, 2000));
        } finally {
          stop.abort();
          await running;
        }

        await target.client.flushall();
        await runSinkToEnd(
          sinkConfig(topic, target.url, ['--start-from', 'latest-snapshot']),
          target.client,
          await lastEventEnds(topic),
          120_000,
        );
        assert.deepEqual((await compareServers(m, target.client)).slice(0, 10), []);
      } finally {
        m.disconnect();
      }
    },
  );
});
