import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareDatasets, type ExpectedDataset } from '../../src/reference-dataset/expected-json';
import { kafkaBrokers } from '../support/env';
import { findFixture, loadExpected } from '../support/fixtures';
import { replayFixtureIntoTopic } from './source-helpers';

/**
 * The event contract is enough on its own: scripts/consume-changes.mjs imports only kafkajs, avsc and
 * schemas/*.avsc — none of the project's code — and rebuilds the master's dataset from a topic the
 * source filled from a real recording.
 */

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'consume-changes.mjs');

function consume(topic: string, args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(
    process.execPath,
    [SCRIPT, '--brokers', kafkaBrokers(), '--topic', topic, ...args],
    {
      encoding: 'utf8',
      timeout: 90_000,
    },
  );
  return { status: result.status, stderr: result.stderr };
}

for (const name of ['auth', 'flushes', 'reconnect', 'stale_resync']) {
  test(
    `consume-changes.mjs alone rebuilds expected.json of the recorded ${name} session`,
    { timeout: 180_000 },
    async () => {
      const fixture = findFixture(`dragonfly-v1.40.1/${name}`);
      const { topic } = await replayFixtureIntoTopic(fixture);
      const out = join(mkdtempSync(join(tmpdir(), 'consume-')), 'dataset.json');
      const run = consume(topic, ['--out', out]);
      assert.equal(run.status, 0, run.stderr);
      const actual = JSON.parse(readFileSync(out, 'utf8')) as ExpectedDataset;
      const diffs = compareDatasets(actual, loadExpected(fixture), Date.now());
      assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} differences`);
    },
  );
}

test(
  'consume-changes.mjs decodes every event of the types session and names the commands it does not interpret',
  { timeout: 180_000 },
  async () => {
    const { topic } = await replayFixtureIntoTopic(findFixture('dragonfly-v1.40.1/types'));
    const dir = mkdtempSync(join(tmpdir(), 'consume-'));
    const run = consume(topic, [
      '--events-jsonl',
      join(dir, 'events.jsonl'),
      '--out',
      join(dir, 'dataset.json'),
    ]);
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n');
    // the recording holds 36 snapshot entries and 346 journal records (spec 12.1), plus markers
    assert.ok(lines.length >= 36 + 346, `${lines.length} events decoded`);
    for (const line of lines) JSON.parse(line);
    assert.match(run.stderr, new RegExp(`^${lines.length} events read from ${topic}`, 'm'));
    assert.equal(run.status, 2, 'exit 2: some journal commands are outside its interpreter');
    assert.match(run.stderr, /XADD|JSON\.SET|RESTORE/);
  },
);
