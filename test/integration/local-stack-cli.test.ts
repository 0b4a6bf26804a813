import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { createStackCommand } from '../../src/cli/commands/stack';
import { kafkaLibsDir } from '../support/env';

const root = join(__dirname, '..', '..');

function portAccepts(address: string): Promise<boolean> {
  const [host, port] = address.replace('redis://', '').split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('dragonfly-cdc stack --print-env prints exactly the two env lines, serves both, and stops on SIGTERM', async () => {
  // the command in its own process, so that SIGTERM is a real signal (KAFKA_LIBS_DIR skips Maven)
  const script =
    "require('./src/cli/commands/stack').stackCommand.run(process.argv.slice(1)).then((c) => process.exit(c))";
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, '--', '--print-env'], {
    cwd: root,
    env: { ...process.env, KAFKA_LIBS_DIR: kafkaLibsDir() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no env lines within 90 s; stderr:\n${stderr}`)), 90_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('REDIS_URL=')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited early (${code}); stderr:\n${stderr}`));
    });
  });

  const match = /^KAFKA_BROKERS=(127\.0\.0\.1:\d+)\nREDIS_URL=(redis:\/\/127\.0\.0\.1:\d+)\n$/.exec(stdout);
  assert.ok(match, `stdout was ${JSON.stringify(stdout)}`);
  const [, brokers = '', redisUrl = ''] = match;

  const admin = new Kafka({
    clientId: 'stack-cli-test',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  assert.equal((await admin.describeCluster()).brokers.length, 1);
  await admin.disconnect();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  assert.equal(await redis.ping(), 'PONG');
  redis.disconnect();

  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /SIGTERM: stopping Kafka and Redis\nstopped\n$/);
  assert.equal(await portAccepts(brokers), false, 'the broker port is closed after the stop');
  assert.equal(await portAccepts(redisUrl), false, 'the Redis port is closed after the stop');
});

test('dragonfly-cdc stack rejects a bad --redis-instances with a usage error and starts nothing', async () => {
  let stderr = '';
  const command = createStackCommand({
    stdout: () => assert.fail('nothing goes to stdout'),
    stderr: (text) => (stderr += text),
    stopRequested: () => new Promise(() => undefined),
  });
  assert.equal(await command.run(['--redis-instances', '0']), 2);
  assert.match(stderr, /--redis-instances must be a whole number from 1 to 16, got "0"/);
  assert.equal(await command.run(['--kafka-versoin', '4.1.2']), 2);
  assert.match(stderr, /Unknown option '--kafka-versoin'/);
});
