/**
 * Shared by the tests that replay what a source captured: a scripted master with keys of every core
 * type, the source run against it until stable sync and stopped, where a topic's committed events end,
 * and a target compared with the master key by key.
 */
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { compareDatasets } from '../../src/reference-dataset/expected-json';
import { runSource } from '../../src/source/run';
import type { MasterScript, ScriptCommand } from '../../src/testmaster/script';
import { kafkaBrokers } from '../support/env';
import { dumpRedis } from '../support/redis-dump';
import { startScriptedMaster } from '../support/test-master';
import { CHECKPOINT_KEY } from './sink-harness';
import { quietLogger, readTopic, scriptedDataset, sourceConfig } from './source-helpers';

export const FLOWS = 2;

/** A master holding keys of every core type on each flow, and a journal touching some of them. */
export function masterScript(tag: string): MasterScript {
  return {
    flowCount: FLOWS,
    dataset: Array.from({ length: FLOWS }, (_, flow) =>
      Array.from({ length: 300 }, (_, i) => {
        const key = `${tag}:f${flow}:${i}`;
        switch (i % 5) {
          case 0:
            return { key, value: { type: 'string' as const, value: `v${i}` } };
          case 1:
            return { key, value: { type: 'list' as const, items: ['a', 'b', `${i}`] } };
          case 2:
            return { key, value: { type: 'set' as const, members: ['x', 'y', `${i}`] } };
          case 3:
            return { key, value: { type: 'hash' as const, fields: [['f', `${i}`]] as [string, string][] } };
          default:
            return { key, value: { type: 'zset' as const, entries: [['m', i]] as [string, number][] } };
        }
      }),
    ),
    journal: Array.from({ length: FLOWS }, (_, flow) => [
      { args: ['SET', `${tag}:f${flow}:0`, 'changed'] },
      { args: ['INCR', `${tag}:counter:${flow}`] },
      { args: ['RPUSH', `${tag}:f${flow}:1`, 'c'] },
      { args: ['DEL', `${tag}:f${flow}:2`] },
      { args: ['HSET', `${tag}:f${flow}:3`, 'g', 'h'] },
    ]),
  };
}

/** Runs the source against the master until it is in stable sync with the journal published, then stops it. */
export async function captureAndStop(script: MasterScript, topic: string, sourceId: string): Promise<void> {
  const master = await startScriptedMaster(script);
  const stop = new AbortController();
  const running = runSource(
    sourceConfig({
      'dragonfly-url': master.url,
      'kafka-brokers': kafkaBrokers(),
      topic,
      'source-id': sourceId,
      'batch-linger-ms': 5,
    }),
    quietLogger(),
    stop.signal,
  );
  try {
    const deadline = Date.now() + 30_000;
    while (master.master.sessions.at(-1)?.state !== 'stable') {
      if (Date.now() > deadline) throw new Error('the source did not reach stable sync within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
  } finally {
    stop.abort();
    await running;
    await master.stop();
  }
}

/** Per partition, one past the offset of its last committed event (what a sink's position reaches). */
export async function lastEventEnds(topic: string): Promise<number[]> {
  const partitions = await readTopic(kafkaBrokers(), topic);
  return partitions.map((events) => (events.at(-1)?.offset ?? -1) + 1);
}

export async function assertEqualsMaster(target: Redis, script: MasterScript): Promise<void> {
  const nowMs = Date.now();
  const journaled: ScriptCommand[][] = script.journal ?? [];
  const diffs = compareDatasets(
    await dumpRedis(target, CHECKPOINT_KEY),
    scriptedDataset(script, journaled, nowMs),
    nowMs,
  );
  assert.deepEqual(diffs.slice(0, 10), [], `${diffs.length} differences`);
}
