import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tolerateKafkaClientRejections } from '../../src/cli/stray-rejections';
import { startKafkaBroker } from '../../src/localstack/kafka-broker';
import { caseSeed } from '../support/fuzz';
import { kafkaLibsDir } from '../support/env';
import { createTopic, readTopic } from './source-helpers';
import {
  newRunTopic,
  runStopCase,
  stopRig,
  summaryProblems,
  TOPIC_PARTITIONS,
  type StopOutcome,
} from './source-stop-property';

/**
 * The stop property (source-stop-property.ts), a short run: every stop ends within its grace period
 * with a true summary. `npm run proptest:stop` runs hundreds of cases.
 */
const CASES = Number(process.env.STOP_PROPTEST_CASES ?? 12);

test(
  `source stop at ${CASES} random points: within the grace period, a true summary`,
  { timeout: 300_000 },
  async () => {
    const broker = await startKafkaBroker({ libsDir: kafkaLibsDir() });
    const topic = newRunTopic();
    const seed = Date.now() % 2 ** 31;
    // kafkajs's stray rejections are tolerated as the CLI tolerates them; node:test's own listener
    // would fail the run on them (any other rejection still fails it, as an uncaught exception)
    const testRunnerListeners = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    const untolerate = tolerateKafkaClientRejections(() => undefined);
    try {
      await createTopic(broker.brokers, topic, TOPIC_PARTITIONS);
      const rig = stopRig(broker, topic);
      const outcomes: StopOutcome[] = [];
      for (let i = 0; i < CASES; i++) outcomes.push(await runStopCase(rig, caseSeed(seed, i)));
      const problems = summaryProblems(outcomes, await readTopic(broker.brokers, topic));
      assert.deepEqual(problems, [], `run seed ${seed}`);
    } finally {
      untolerate();
      for (const listener of testRunnerListeners) process.on('unhandledRejection', listener);
      await broker.stop();
    }
  },
);
