import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { Health } from '../../../src/observability/health';
import { createLogger } from '../../../src/observability/logger';
import { counter, gauge, startMetricsServer } from '../../../src/observability/metrics';

function lines() {
  const written: string[] = [];
  return { destination: { write: (line: string) => written.push(line) }, written };
}

test('json log lines carry the role, the flow of a child logger, and hide passwords', () => {
  const { destination, written } = lines();
  const logger = createLogger({
    role: 'sink',
    level: 'info',
    format: 'auto',
    destination,
    isTerminal: false,
  });
  logger.child({ flow: 2 }).info({ redis: { password: 'hunter2' } }, 'applied');
  logger.debug('below the level');
  assert.equal(written.length, 1);
  const line = JSON.parse(written[0] as string) as Record<string, unknown>;
  assert.equal(line.role, 'sink');
  assert.equal(line.flow, 2);
  assert.equal(line.msg, 'applied');
  assert.deepEqual(line.redis, { password: '[redacted]' });
});

test('pretty lines are human-readable and name role and flow (flow 0 too)', () => {
  const { destination, written } = lines();
  const logger = createLogger({
    role: 'source',
    level: 'debug',
    format: 'pretty',
    destination,
    isTerminal: false,
  });
  logger.child({ flow: 0 }).debug('full sync started');
  assert.match(written[0] as string, /DEBUG: \[source flow 0\] full sync started\n$/);
});

test('metrics are prefixed, created once per name, and served with /health', async () => {
  const registry = new Registry();
  const health = new Health();
  const events = counter('test_events_total', 'events seen in the test', ['flow'], registry);
  assert.equal(counter('test_events_total', 'events seen in the test', ['flow'], registry), events);
  events.inc({ flow: '1' }, 3);
  gauge('test_buffer_bytes', 'bytes buffered in the test', [], registry).set(42);
  const server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry, health });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^dragonfly_cdc_test_events_total\{flow="1"\} 3$/m);
    assert.match(metrics, /^dragonfly_cdc_test_buffer_bytes 42$/m);
    assert.equal((await fetch(`${base}/health`)).status, 200);
    health.set('replica', false, 'master unreachable');
    const unhealthy = await fetch(`${base}/health`);
    assert.equal(unhealthy.status, 503);
    assert.deepEqual(await unhealthy.json(), {
      status: 'unhealthy',
      components: { replica: { healthy: false, detail: 'master unreachable' } },
    });
    assert.equal((await fetch(`${base}/other`)).status, 404);
  } finally {
    await server.close();
  }
});

test('a busy metrics port is reported with what to do', async () => {
  const first = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: new Registry() });
  try {
    await assert.rejects(
      startMetricsServer({ port: first.port, host: '127.0.0.1', registry: new Registry() }),
      /cannot serve metrics on 127\.0\.0\.1:\d+: the address is already in use; choose another metrics\.port/,
    );
  } finally {
    await first.close();
  }
});
