/**
 * Replaying a topic whose source has stopped (issue 16): the source captures a scripted master into a
 * fresh topic and is stopped; only then do sinks replay the topic into fresh Redis servers. A
 * transactional topic ends in a commit (or abort) marker that no consumer receives, so nothing may
 * wait for a message at the partition's last offset. The target must equal the master key by key.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { kafkaBrokers } from '../support/env';
import { assertEqualsMaster, captureAndStop, lastEventEnds, masterScript } from './replay-helpers';
import { flowWriter } from './sink-events';
import {
  endOffsets,
  eventEncoder,
  freshRedisForFile,
  kafka,
  runSinkToEnd,
  sinkConfig,
  waitFor,
  type EncodedEvent,
  type FreshRedis,
} from './sink-harness';
import { readTopic, uniqueName } from './source-helpers';

const first = freshRedisForFile();
const second = freshRedisForFile();

const SINK_TIMEOUT_MS = 90_000;

const OPEN_TRANSACTION = join(__dirname, '..', 'support', 'open-transaction.ts');
const ABORT_TIMEOUT_MS = 5000;

/**
 * A transactional producer sends `partitions` to the topic and is killed with -9 before it commits: the
 * transaction stays open until the coordinator aborts it (after ABORT_TIMEOUT_MS and its next check).
 */
async function killedMidTransaction(topic: string, partitions: EncodedEvent[][]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', OPEN_TRANSACTION], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    child.stdin.end(
      JSON.stringify({
        brokers: kafkaBrokers(),
        topic,
        transactionTimeoutMs: ABORT_TIMEOUT_MS,
        partitions: partitions.map((events) =>
          events.map((e) => ({ key: e.key.toString('base64'), value: e.value.toString('base64') })),
        ),
      }),
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor('the producer to send inside its transaction', async () => output.includes('sent'), 30_000);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

async function replay(target: FreshRedis, topic: string, ends: number[], extra: string[]): Promise<void> {
  await target.client.flushall();
  const config = sinkConfig(topic, target.url, ['--group-id', uniqueName(`${topic}-sink`), ...extra]);
  await runSinkToEnd(config, target.client, ends, SINK_TIMEOUT_MS);
}

test(
  'a stopped source’s topic replays into a fresh Redis (latest-snapshot), and into two at once',
  { timeout: 240_000 },
  async () => {
    const script = masterScript('one');
    const topic = uniqueName('stopped');
    await captureAndStop(script, topic, uniqueName('src'));
    const ends = await lastEventEnds(topic);
    await replay(first, topic, ends, ['--start-from', 'latest-snapshot']);
    await assertEqualsMaster(first.client, script);
    await Promise.all([
      replay(first, topic, ends, ['--start-from', 'latest-snapshot']),
      replay(second, topic, ends, ['--start-from', 'latest-snapshot']),
    ]);
    await assertEqualsMaster(first.client, script);
    await assertEqualsMaster(second.client, script);
  },
);

test('a stopped source’s topic replays with start.from=earliest', { timeout: 240_000 }, async () => {
  const script = masterScript('early');
  const topic = uniqueName('stopped-earliest');
  await captureAndStop(script, topic, uniqueName('src'));
  await replay(first, topic, await lastEventEnds(topic), ['--start-from', 'earliest']);
  await assertEqualsMaster(first.client, script);
});

test('a stopped topic holding two epochs: the later one is replayed', { timeout: 240_000 }, async () => {
  const older = masterScript('old');
  const newer = masterScript('new');
  const topic = uniqueName('stopped-two-epochs');
  const sourceId = uniqueName('src');
  await captureAndStop(older, topic, sourceId);
  // another master (another id): the source cannot continue, it takes a new snapshot (epoch 2)
  await captureAndStop(newer, topic, sourceId);
  const epochs = (await readTopic(kafkaBrokers(), topic))[0]!.flatMap((e) =>
    e.event.payload.type === 'SnapshotStarted' ? [e.event.payload.epoch] : [],
  );
  assert.deepEqual(epochs, [1, 2]);
  await replay(first, topic, await lastEventEnds(topic), ['--start-from', 'latest-snapshot']);
  await assertEqualsMaster(first.client, newer);
});

test(
  'a topic ending in a transaction left open by a kill -9, then aborted, replays the same',
  { timeout: 240_000 },
  async () => {
    const script = masterScript('aborted');
    const topic = uniqueName('stopped-aborted');
    await captureAndStop(script, topic, uniqueName('src'));
    const ends = await lastEventEnds(topic);
    const encode = await eventEncoder();
    // writes the master never made: applying any of them would show as a difference
    const uncommitted = [0, 1].map((flow) =>
      flowWriter(flow, 2)
        .command('SET', [`aborted:${flow}`, 'never committed'])
        .command('DEL', [`aborted:f${flow}:0`])
        .events.map(encode),
    );
    const before = await endOffsets(kafka(), topic);
    await killedMidTransaction(topic, uncommitted);
    // still open: the topic's readable end stays before the open transaction
    await replay(first, topic, ends, ['--start-from', 'latest-snapshot']);
    await assertEqualsMaster(first.client, script);
    await waitFor(
      'the coordinator to abort the transaction',
      async () => (await endOffsets(kafka(), topic)).some((end, p) => end > before[p]!),
      60_000,
    );
    await Promise.all([
      replay(first, topic, ends, ['--start-from', 'latest-snapshot']),
      replay(second, topic, ends, ['--start-from', 'earliest']),
    ]);
    await assertEqualsMaster(first.client, script);
    await assertEqualsMaster(second.client, script);
  },
);
