import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ProducerFencedError } from '../../src/source/publisher';
import { runSource } from '../../src/source/run';
import { kafkaBrokers } from '../support/env';
import { startScriptedMaster } from '../support/test-master';
import { createTopic, keyProblems, quietLogger, readTopic, sourceConfig, uniqueName } from './source-helpers';

/**
 * One active source per master and topic: a second source started with the same id takes over (its
 * transactional id fences the first), the first stops with a clear error, and the topic never holds
 * interleaved events of the two.
 */
test(
  'a second source with the same id fences the first; the topic has no interleaved events',
  { timeout: 120_000 },
  async () => {
    const m = await startScriptedMaster({
      flowCount: 2,
      dataset: [0, 1].map((f) => [{ key: `k${f}`, value: { type: 'string', value: 'v' } }]),
    });
    const topic = uniqueName('fencing');
    await createTopic(kafkaBrokers(), topic, 2);
    const config = sourceConfig({
      'dragonfly-url': m.url,
      'kafka-brokers': kafkaBrokers(),
      topic,
      'source-id': uniqueName('same'),
      'batch-linger-ms': 5,
    });
    let n = 0;
    const writer = setInterval(() => {
      for (const f of [0, 1]) m.master.write(f, { args: ['INCR', `counter${f}`] });
      n++;
    }, 20);
    const stopFirst = new AbortController();
    const stopSecond = new AbortController();
    const first = runSource(config, quietLogger(), stopFirst.signal).then(
      () => null,
      (e: unknown) => e,
    );
    try {
      while (n < 25) await new Promise((r) => setTimeout(r, 20));
      const second = runSource(config, quietLogger(), stopSecond.signal);
      const outcome = await Promise.race([
        first,
        new Promise((r) => setTimeout(() => r('still running'), 30_000)),
      ]);
      assert.ok(outcome instanceof ProducerFencedError, `the first source ended with: ${String(outcome)}`);
      assert.match((outcome as Error).message, /another source with the same id .* started writing to topic/);
      const before = n;
      while (n < before + 25) await new Promise((r) => setTimeout(r, 20));
      stopSecond.abort();
      await second;
    } finally {
      clearInterval(writer);
      stopFirst.abort();
      stopSecond.abort();
      await first;
      await m.stop();
    }
    const partitions = await readTopic(kafkaBrokers(), topic);
    assert.deepEqual(keyProblems(partitions, false), []);
    assert.ok(partitions.flat().length > 50, `${partitions.flat().length} events`);
  },
);
