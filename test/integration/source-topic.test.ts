import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDatasets } from '../../src/reference-dataset/expected-json';
import { runSource } from '../../src/source/run';
import type { MasterScript, ScriptCommand } from '../../src/testmaster/script';
import { kafkaBrokers } from '../support/env';
import { startScriptedMaster } from '../support/test-master';
import {
  createTopic,
  datasetFromTopic,
  keyProblems,
  quietLogger,
  readTopic,
  scriptedDataset,
  sourceConfig,
  uniqueName,
} from './source-helpers';

const MAX_MESSAGE_BYTES = 64 * 1024;

function config(url: string, topic: string, extra: Record<string, string | number> = {}) {
  return sourceConfig({
    'dragonfly-url': url,
    'kafka-brokers': kafkaBrokers(),
    topic,
    'source-id': uniqueName('src'),
    'batch-linger-ms': 5,
    ...extra,
  });
}

test(
  '(d) values and commands larger than the max message size arrive as several events and reassemble exactly',
  { timeout: 60_000 },
  async () => {
    const big = 'x'.repeat(300_000);
    const script: MasterScript = {
      flowCount: 2,
      dataset: [
        [
          { key: 'big-string', value: { type: 'string', value: big } },
          {
            key: 'big-list',
            value: { type: 'list', items: Array.from({ length: 20_000 }, (_, i) => `item-${i}`) },
          },
          { key: 'small', value: { type: 'string', value: 'v' } },
        ],
        [
          {
            key: 'big-hash',
            value: {
              type: 'hash',
              fields: Array.from({ length: 5000 }, (_, i) => [`f${i}`, `value-${i}`] as [string, string]),
            },
          },
        ],
      ],
      journal: [
        [{ args: ['SET', 'big-command', 'y'.repeat(200_000)] }],
        [{ args: ['RPUSH', 'l', ...Array.from({ length: 30_000 }, (_, i) => `e${i}`)] }],
      ],
    };
    const master = await startScriptedMaster(script);
    const topic = uniqueName('big');
    const stop = new AbortController();
    const running = runSource(
      config(master.url, topic, {
        'kafka-max-message-bytes': MAX_MESSAGE_BYTES,
        'buffer-max-bytes': 4 * 1024 * 1024,
      }),
      quietLogger(),
      stop.signal,
    );
    try {
      await waitFor(() => master.master.sessions[0]?.state === 'stable', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      stop.abort();
      await running;
      await master.stop();
    }
    const partitions = await readTopic(kafkaBrokers(), topic);
    assert.deepEqual(keyProblems(partitions, true), []);
    const versions = new Set(partitions.flat().map((e) => e.event.source.dragonflyVersion));
    assert.deepEqual(
      [...versions],
      ['v1.40.1'],
      'every event, the first SnapshotStarted too, names the version',
    );
    const chunked = partitions
      .flat()
      .filter((e) => 'chunk' in e.event.payload && e.event.payload.chunk.count > 1);
    const chunkedKeys = new Set(
      chunked.map((e) => {
        const p = e.event.payload;
        return p.type === 'SnapshotRecord'
          ? p.key.toString()
          : p.type === 'JournalCommand'
            ? `${p.command} ${p.args[0]?.toString().slice(0, 12)}`
            : '';
      }),
    );
    for (const key of ['big-string', 'big-list', 'big-hash'])
      assert.ok(chunkedKeys.has(key), `${key} was split: ${[...chunkedKeys].join(', ')}`);
    assert.ok(
      [...chunkedKeys].some((k) => k.startsWith('SET')),
      'the big SET command was split',
    );
    assert.ok(
      [...chunkedKeys].some((k) => k.startsWith('RPUSH')),
      'the big RPUSH command was split',
    );
    const nowMs = Date.now();
    const journaled: ScriptCommand[][] = script.journal!;
    const diffs = compareDatasets(
      datasetFromTopic(partitions, () => nowMs, nowMs),
      scriptedDataset(script, journaled, nowMs),
      nowMs,
    );
    assert.deepEqual(diffs, []);
  },
);

test(
  '(e) a topic with fewer partitions than the master has flows: a clear error, nothing written',
  { timeout: 60_000 },
  async () => {
    const master = await startScriptedMaster({
      flowCount: 4,
      dataset: [[{ key: 'a', value: { type: 'string', value: '1' } }]],
    });
    const topic = uniqueName('narrow');
    await createTopic(kafkaBrokers(), topic, 2);
    try {
      await assert.rejects(
        runSource(config(master.url, topic), quietLogger(), new AbortController().signal),
        /topic "narrow-[0-9a-f]+" has 2 partition\(s\) but the master has 4 flows.*--partitions 4.*or use a new topic/,
      );
    } finally {
      await master.stop();
    }
    const partitions = await readTopic(kafkaBrokers(), topic);
    assert.equal(partitions.flat().length, 0);
  },
);

test(
  'a topic written by another source is refused before anything is replicated',
  { timeout: 60_000 },
  async () => {
    const master = await startScriptedMaster({
      flowCount: 1,
      dataset: [[{ key: 'a', value: { type: 'string', value: '1' } }]],
    });
    const topic = uniqueName('shared');
    const first = new AbortController();
    const running = runSource(
      config(master.url, topic, { 'source-id': 'first-source' }),
      quietLogger(),
      first.signal,
    );
    try {
      await waitFor(() => master.master.sessions[0]?.state === 'stable', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      first.abort();
      await running;
    }
    try {
      await assert.rejects(
        runSource(
          config(master.url, topic, { 'source-id': 'second-source' }),
          quietLogger(),
          new AbortController().signal,
        ),
        /holds events of source "first-source", this source is "second-source"/,
      );
    } finally {
      await master.stop();
    }
  },
);

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
