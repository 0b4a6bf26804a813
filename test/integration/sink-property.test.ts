/**
 * The sink's property test, short run (the long run: `npm run proptest -- --cases 10000`): seeded
 * random event streams applied under injected faults to a real redis-server equal the dataset
 * model's result (sink-property.ts).
 */
import assert from 'node:assert';
import { test } from 'node:test';
import { caseSeed } from '../support/fuzz';
import { freshRedisForFile } from './sink-harness';
import { capabilitiesOf, FAULT_KINDS, runSinkCase } from './sink-property';

const redis = freshRedisForFile();
const CASES = 300;
const SEED = 20261205;

test(`the sink under faults equals the model: ${CASES} seeded cases`, { timeout: 120_000 }, async (t) => {
  const capabilities = await capabilitiesOf(redis.client);
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0]));
  let events = 0;
  for (let i = 0; i < CASES; i++) {
    const stats = await runSinkCase(redis.url, redis.client, capabilities, caseSeed(SEED, i));
    events += stats.events;
    for (const kind of FAULT_KINDS) faults[kind] = (faults[kind] ?? 0) + stats.faults[kind];
  }
  t.diagnostic(`${CASES} cases, ${events} events, faults: ${JSON.stringify(faults)}`);
  for (const kind of FAULT_KINDS) assert.ok(faults[kind]! > 0, `no fault of kind ${kind} was injected`);
});
