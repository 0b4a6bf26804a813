/**
 * An unhandled rejection raised inside kafkajs (a real one: a request on a broker object that is not
 * connected) is logged and the process goes on; any other unhandled rejection still ends it. Run in
 * child processes, since the policy is process-wide.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const guard = join(__dirname, '..', '..', '..', 'src', 'cli', 'stray-rejections.ts');

function runScript(body: string): { status: number | null; stderr: string } {
  const script = `
    const { tolerateKafkaClientRejections } = require(${JSON.stringify(guard)});
    tolerateKafkaClientRejections((text) => process.stderr.write(text));
    ${body}
    setTimeout(() => process.exit(0), 200);
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
  return { status: child.status, stderr: child.stderr };
}

test('a rejection left unhandled inside kafkajs is logged, the process goes on', () => {
  const result = runScript(`
    const Broker = require('kafkajs/src/broker');
    const logger = { namespace: () => logger, debug() {}, info() {}, warn() {}, error() {} };
    new Broker({ connectionPool: { host: 'h', port: 1, connectionTimeout: 1 }, logger }).metadata();
  `);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /ignored an error of a Kafka client request .*: Broker not connected/);
});

test('any other unhandled rejection still ends the process', () => {
  const result = runScript(`Promise.reject(new Error('a bug of ours'));`);
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /a bug of ours/);
});
