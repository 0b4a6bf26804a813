import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { LocalStackError } from '../../src/localstack/errors';
import { startKafkaBroker } from '../../src/localstack/kafka-broker';
import { startLocalStack } from '../../src/localstack/local-stack';
import { kafkaBrokers, kafkaLibsDir, redisServerBin } from '../support/env';

/** Process ids whose command line contains `marker`, read from /proc. */
function processesMatching(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids.sort();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a second broker on a port that is taken fails, names the port, quotes its log and leaves nothing running', async () => {
  const brokersBefore = processesMatching('kafka.Kafka');
  const takenPort = Number(kafkaBrokers().split(':')[1]);
  const failure = await startKafkaBroker({
    port: takenPort,
    libsDir: kafkaLibsDir(),
    startTimeoutMs: 60_000,
  }).then(
    () => assert.fail('the second broker started on a taken port'),
    (err: unknown) => err,
  );
  assert.ok(failure instanceof LocalStackError, String(failure));
  assert.equal(failure.reason, 'port-in-use');
  assert.match(failure.message, new RegExp(`port 127\\.0\\.0\\.1:${takenPort} is already in use`));
  assert.match(failure.message, /--- last log lines ---/);
  assert.ok(
    failure.logLines.length > 0 && failure.logLines.length <= 30,
    `${failure.logLines.length} log lines`,
  );
  assert.ok(failure.logLines.some((line) => /ERROR|Exception/.test(line)));
  assert.ok(failure.pid !== undefined && !isAlive(failure.pid), 'the failed broker process is gone');
  // brokers of other processes on the machine may come and go meanwhile: only a new one is a leak
  const leaked = processesMatching('kafka.Kafka').filter((pid) => !brokersBefore.includes(pid));
  assert.deepEqual(leaked, []);
});

test('a missing java binary gives the Java error before anything starts', async () => {
  await assert.rejects(
    startKafkaBroker({ javaBin: '/nonexistent/jdk/bin/java', libsDir: kafkaLibsDir() }),
    (err: unknown) =>
      err instanceof LocalStackError &&
      err.reason === 'java-missing' &&
      /^Java not found \(\/nonexistent\/jdk\/bin\/java: .*ENOENT.*\): install a JDK 17\+/.test(err.message),
  );
});

test('when Kafka cannot start, the stack stops the Redis it started and reports the Kafka error', async () => {
  const redisBefore = processesMatching(redisServerBin());
  await assert.rejects(
    startLocalStack({
      kafka: { javaBin: '/nonexistent/jdk/bin/java', libsDir: kafkaLibsDir() },
      redis: { binary: redisServerBin(), instances: 2 },
      stopOnSignals: false,
    }),
    (err: unknown) => err instanceof LocalStackError && err.reason === 'java-missing',
  );
  assert.deepEqual(processesMatching(redisServerBin()), redisBefore);
});
