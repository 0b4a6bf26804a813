/**
 * `dragonfly-cdc run`, the main job, as a user runs it: a child process pointed at a replay master
 * (fixture "types"), the test stack's Kafka and a fresh redis-server. Once the target Redis holds
 * the fixture's dataset (expected.json, less the Redis 7.0 degradations of docs/sink.md), SIGINT
 * must stop both sides cleanly: exit code 0, "stopped" logged, nothing left running.
 */
import assert from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compareDatasets } from '../../src/reference-dataset/expected-json';
import { kafkaBrokers } from '../support/env';
import { findFixture, loadExpected } from '../support/fixtures';
import { dumpRedis } from '../support/redis-dump';
import { startReplayMaster, type RunningTestMaster } from '../support/test-master';
import type { ReplayMaster } from '../../src/testmaster/replay-master';
import { CHECKPOINT_KEY, freshRedis, uniqueName } from './sink-harness';
import { degradedKeys } from '../support/degraded-keys';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = 'dragonfly-v1.40.1/types';

type Fresh = Awaited<ReturnType<typeof freshRedis>>;
let redis: Fresh;
let master: RunningTestMaster<ReplayMaster>;

before(async () => {
  redis = await freshRedis();
  master = await startReplayMaster(FIXTURE);
});

after(async () => {
  redis.client.disconnect();
  await redis.servers.stop();
  await master.stop();
});

interface LogLine {
  role?: string;
  msg?: string;
  level?: number;
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

function processGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  'dragonfly-cdc run replicates fixture types into Redis and stops cleanly on SIGINT',
  { timeout: 240_000 },
  async () => {
    const topic = uniqueName('run-types');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'run'], {
      cwd: ROOT,
      // own process group: whatever it starts is found (and must be gone) after it exits
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DRAGONFLY_URL: master.url,
        KAFKA_BROKERS: kafkaBrokers(),
        REDIS_URL: redis.url,
        TOPIC: topic,
        SOURCE_ID: topic,
        GROUP_ID: `${topic}-group`,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let exitCode: number | null | undefined;
    void exited.then((code) => (exitCode = code));

    try {
      const expected = loadExpected(findFixture(FIXTURE));
      const degraded = degradedKeys(expected);
      let unexplained: string[] = ['nothing compared yet'];
      const deadline = Date.now() + 180_000;
      while (unexplained.length > 0) {
        assert.equal(exitCode, undefined, `run exited early (code ${exitCode}):\n${output}`);
        assert.ok(
          Date.now() < deadline,
          `Redis never matched the fixture: ${unexplained.slice(0, 10).join('\n')}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
        const nowMs = Date.now();
        const actual = await dumpRedis(redis.client, CHECKPOINT_KEY);
        unexplained = compareDatasets(actual, expected, nowMs).filter(
          (d) => !degraded.some((where) => d.startsWith(where)),
        );
      }

      child.kill('SIGINT');
      const code = await Promise.race([
        exited,
        new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 60_000)),
      ]);
      assert.equal(code, 0, `run did not exit 0 after SIGINT (${code}):\n${output}`);
      const lines = logLines(output);
      const failures = lines.filter((l) => (l.level ?? 0) >= 50);
      assert.deepEqual(failures, [], 'no error or fatal logs');
      assert.ok(
        lines.some((l) => l.role === 'source' && l.msg === 'stopped'),
        `"stopped" logged by run:\n${output}`,
      );
      // helpers in the group (tsx's esbuild service) exit when they notice their parent is gone
      const groupDeadline = Date.now() + 10_000;
      while (processGroupAlive(child.pid!) && Date.now() < groupDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(processGroupAlive(child.pid!), false, 'no process of the run is left behind');
    } finally {
      if (exitCode === undefined && processGroupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
    }
  },
);
