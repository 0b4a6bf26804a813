/**
 * The sink's property test: seeded random event streams applied by the sink's partition workers to
 * a real redis-server with faults injected must leave the target equal to the dataset model
 * (src/reference-dataset) applied to the same events. A case is fully determined by its seed (the timing of a
 * killed connection aside, which the result must not depend on).
 *
 * Streams: 1-3 flows (partitions) with disjoint keys, several databases, every plain data type,
 * snapshot records whole and in chunks, journal commands whole, in chunks and big enough to be
 * split into several commands, expiries already passed, passed since and ahead, PERSIST, expired
 * keys, FLUSHALL/FLUSHDB barriers on every flow, and the epoch barrier of a first snapshot.
 * Faults: a request lost, a reply lost after the script ran, the connection killed, Redis out of
 * memory during a call, a command failing (the sink's late-expiry hash made a string by
 * "something else": the sink stops, the cause is removed, the sink restarts), and process restarts
 * at random points.
 */
import type Redis from 'ioredis';
import { loadSinkConfig } from '../../src/config/sink';
import type { ChangeEvent, EventValue } from '../../src/events/model';
import { eventValueToRdbValue } from '../../src/events/model';
import { Dataset } from '../../src/reference-dataset/dataset';
import { compareDatasets, toExpectedJson } from '../../src/reference-dataset/expected-json';
import { EventApplyError } from '../../src/sink/errors';
import { detectCapabilities, type TargetCapabilities } from '../../src/targets/capabilities';
import { Rng } from '../support/fuzz';
import { dumpRedis } from '../support/redis-dump';
import { CHECKPOINT_KEY } from './sink-harness';
import { flowWriter, type FlowWriter } from './sink-events';
import { partitionMessages, SinkRig, WRITER_FAULTS, type WriterFault } from './sink-worker-rig';

const TOPIC = 'proptest';
const KEY_TYPES = ['str', 'num', 'list', 'set', 'hash', 'zset'] as const;
type KeyType = (typeof KEY_TYPES)[number];

/** Fault kinds counted over a campaign. */
export type FaultKind = WriterFault | 'command-fails' | 'restart';
export const FAULT_KINDS: FaultKind[] = [...WRITER_FAULTS, 'command-fails', 'restart'];

export interface CaseStats {
  events: number;
  faults: Record<FaultKind, number>;
}

/** One generated case: each flow's events and the model's result. */
interface SinkCase {
  flows: ChangeEvent[][];
  model: Dataset;
  maxEvents: number;
  maxFetch: number;
  faultRate: number;
}

/** A change of the model, in the order the master made it. */
type ModelStep = (model: Dataset) => void;

const text = (n: number): string => `v${n}`;

function valueOf(rng: Rng, type: KeyType, size: number, tag: string): EventValue {
  const names = Array.from({ length: size }, (_, i) => Buffer.from(`${tag}${i}`));
  switch (type) {
    case 'str':
      return { type: 'StringValue', value: Buffer.from(`${tag}-${rng.int(1000)}`) };
    case 'num':
      return { type: 'StringValue', value: Buffer.from(String(rng.range(-100, 100))) };
    case 'list':
      return { type: 'ListValue', items: names };
    case 'set':
      return { type: 'SetValue', members: names, memberExpireAtMs: null };
    case 'hash':
      return {
        type: 'HashValue',
        fields: names.map((field, i) => ({ field, value: Buffer.from(text(i)) })),
        fieldExpireAtMs: null,
      };
    case 'zset':
      return { type: 'ZSetValue', entries: names.map((member, i) => ({ member, score: i / 2 - 3 })) };
  }
}

/** A value's pieces as the source chunks it (elements, or bytes of a string). */
function piecesOf(rng: Rng, value: EventValue, count: number): EventValue[] {
  if (value.type === 'StringValue') {
    const bytes = value.value;
    const cut = Array.from({ length: count - 1 }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
    const bounds = [0, ...cut, bytes.length];
    return bounds.slice(1).map((end, i) => ({ type: 'StringValue', value: bytes.subarray(bounds[i], end) }));
  }
  const slice = <T>(items: T[], i: number): T[] => {
    const per = Math.ceil(items.length / count);
    return items.slice(i * per, (i + 1) * per);
  };
  return Array.from({ length: count }, (_, i): EventValue => {
    switch (value.type) {
      case 'ListValue':
        return { type: 'ListValue', items: slice(value.items, i) };
      case 'SetValue':
        return { type: 'SetValue', members: slice(value.members, i), memberExpireAtMs: null };
      case 'HashValue':
        return { type: 'HashValue', fields: slice(value.fields, i), fieldExpireAtMs: null };
      case 'ZSetValue':
        return { type: 'ZSetValue', entries: slice(value.entries, i) };
      default:
        throw new Error(`no pieces for ${value.type}`);
    }
  });
}

const RDB_TYPES: Record<KeyType, number> = { str: 0, num: 0, list: 18, set: 2, hash: 4, zset: 5 };

/**
 * One flow's part of a segment (the stretch between two barriers): `count` random changes of the
 * flow's own keys, as events and as model steps.
 */
function flowChanges(
  rng: Rng,
  w: FlowWriter,
  flow: number,
  count: number,
  clock: { at: number },
  nowMs: number,
): ModelStep[] {
  const steps: ModelStep[] = [];
  for (let n = 0; n < count; n++) {
    const at = clock.at++;
    const db = rng.int(4);
    const type = rng.pick(KEY_TYPES);
    const key = `f${flow}:${type}:${rng.int(3)}`;
    const keyBytes = Buffer.from(key);
    // alive when the master ran the command; passed since, or still ahead
    const expiry = (): number => (rng.chance(0.5) ? nowMs - rng.range(1000, 20_000) : nowMs + 600_000);
    const journal = (name: string, args: string[], chunks = 1): void => {
      w.command(name, args, { db, at, chunks });
      steps.push((m) =>
        m.applyCommand(
          db,
          [name, ...args].map((a) => Buffer.from(a)),
          at,
        ),
      );
    };
    const roll = rng.next();
    if (roll < 0.1) journal('DEL', [key]);
    else if (roll < 0.17) journal('PEXPIREAT', [key, String(expiry())]);
    else if (roll < 0.22) journal('PERSIST', [key]);
    else if (roll < 0.25) {
      w.expired([key], { db, at });
      steps.push((m) => m.applyCommand(db, [Buffer.from('DEL'), keyBytes], at));
    } else if (roll < 0.45) {
      // a snapshot record, whole or chunked; its expiry may have passed already on the master
      const value = valueOf(rng, type, rng.range(1, 12), `r${n}-`);
      const chunks = rng.chance(0.5) ? rng.range(2, 5) : 1;
      const roll2 = rng.next();
      const expireAtMs = roll2 < 0.5 ? null : roll2 < 0.6 ? at - 1000 : expiry();
      w.record(key, chunks === 1 ? [value] : piecesOf(rng, value, chunks), { db, at, expireAtMs });
      steps.push((m) =>
        m.applySnapshotEntry({
          db,
          key: keyBytes,
          expireAtMs,
          flags: { sticky: false, mcFlags: null },
          rdbType: RDB_TYPES[type],
          value: eventValueToRdbValue(value, RDB_TYPES[type]),
        }),
      );
      if (expireAtMs !== null && expireAtMs < at) {
        // the master expires such a key before anything else touches it
        w.expired([key], { db, at });
        steps.push((m) => m.applyCommand(db, [Buffer.from('DEL'), keyBytes], at));
      }
    } else if (type === 'str') {
      if (rng.chance(0.5))
        journal('SET', [key, text(n), ...(rng.chance(0.4) ? ['PXAT', String(expiry())] : [])]);
      else journal('APPEND', [key, text(n)]);
    } else if (type === 'num') {
      if (rng.chance(0.6)) journal('INCR', [key]);
      else journal('INCRBY', [key, String(rng.range(-5, 5))]);
    } else if (type === 'list') {
      const many = rng.chance(0.01) ? 7001 : rng.range(1, 6);
      const items = Array.from({ length: many }, (_, i) => `${n}.${i}`);
      journal(rng.chance(0.7) ? 'RPUSH' : 'LPUSH', [key, ...items], many > 2 && rng.chance(0.3) ? 2 : 1);
    } else if (type === 'set') {
      journal('SADD', [key, `m${rng.int(8)}`, `m${rng.int(8)}`]);
    } else if (type === 'hash') {
      journal('HSET', [key, `f${rng.int(5)}`, text(n)], rng.chance(0.2) ? 2 : 1);
    } else {
      journal('ZADD', [key, String(rng.range(-4, 4) / 2), `m${rng.int(5)}`]);
    }
  }
  return steps;
}

/** A random case: flows, segments separated by FLUSHALL/FLUSHDB, the model applied alongside. */
function generate(rng: Rng, nowMs: number): SinkCase {
  const flowCount = rng.range(1, 3);
  const writers = Array.from({ length: flowCount }, (_, f) => flowWriter(f, flowCount));
  const clock = { at: nowMs - 60_000 };
  const model = new Dataset();
  if (rng.chance(0.3)) for (const w of writers) w.snapshotStarted(1);
  const segments = rng.chance(0.3) ? rng.range(2, 3) : 1;
  for (let s = 0; s < segments; s++) {
    const steps = writers.map((w, f) => flowChanges(rng, w, f, rng.range(2, 25), clock, nowMs));
    for (const flowSteps of steps) for (const step of flowSteps) step(model);
    if (s === segments - 1) break;
    const txid = s + 1;
    const at = clock.at++;
    if (rng.chance(0.5)) {
      for (const w of writers) w.command('FLUSHALL', [], { txid, at });
      model.flushAll();
    } else {
      const db = rng.int(4);
      for (const w of writers) w.command('FLUSHDB', [], { db, txid, at });
      model.flushDb(db);
    }
  }
  return {
    flows: writers.map((w) => w.events),
    model,
    maxEvents: rng.range(1, 8),
    maxFetch: rng.range(1, 30),
    faultRate: rng.pick([0, 0.05, 0.2]),
  };
}

/** The sink's own keys that may stay once a case is done (checkpoint hash and barrier hashes). */
async function leftovers(redis: Redis): Promise<string[]> {
  const own = await redis.keys(`${CHECKPOINT_KEY}*`);
  return own.filter((k) => k !== CHECKPOINT_KEY && !k.startsWith(`${CHECKPOINT_KEY}:barrier:`));
}

export class PropertyFailure extends Error {}

/**
 * Runs the case of `seed` against the (empty) Redis behind `redis`; returns its statistics or
 * throws PropertyFailure naming the seed and the differences.
 */
export async function runSinkCase(
  url: string,
  redis: Redis,
  capabilities: TargetCapabilities,
  seed: number,
): Promise<CaseStats> {
  const rng = new Rng(seed);
  const nowMs = Date.now();
  const c = generate(rng, nowMs);
  const config = loadSinkConfig(
    [
      '--topic',
      TOPIC,
      '--redis-url',
      url,
      '--batch-max-events',
      String(c.maxEvents),
      '--retry-initial-backoff-ms',
      '1',
      '--retry-max-attempts',
      '50',
    ],
    {},
  );
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const fail = (what: string): PropertyFailure =>
    new PropertyFailure(`case seed ${seed}: ${what} (run it alone: npm run proptest -- --case-seed ${seed})`);
  await redis.flushall();
  const rig = await SinkRig.start(
    url,
    { config, capabilities, fetchSize: () => rng.range(1, c.maxFetch) },
    await partitionMessages(c.flows),
  );
  rig.writer.chooser = () => (rng.chance(c.faultRate) ? rng.pick(WRITER_FAULTS) : null);
  const lateKeys = c.flows.map((_, p) => `${CHECKPOINT_KEY}:late-expiries:${TOPIC}/${p}`);
  try {
    for (let steps = 0; !rig.done(); steps++) {
      if (steps > 20_000) throw fail('the sink made no end');
      if (rng.chance(c.faultRate / 4)) {
        faults.restart++;
        await rig.restart();
      }
      // "something else" writes the sink's late-expiry hash as a string: the next late expiry of
      // that partition fails (only while it holds no notes, which would be lost)
      if (rng.chance(c.faultRate / 4)) {
        if ((await redis.set(rng.pick(lateKeys), 'not a hash', 'NX')) === 'OK') faults['command-fails']++;
      }
      try {
        await rig.step(steps % c.flows.length);
      } catch (e) {
        if (!(e instanceof EventApplyError) || !/WRONGTYPE/.test(e.message)) throw e;
        // the sink stopped with a clear error; the cause is removed and the sink restarted
        for (const key of lateKeys) if ((await redis.type(key)) === 'string') await redis.del(key);
        await rig.restart();
      }
    }
  } catch (e) {
    if (e instanceof PropertyFailure) throw e;
    throw fail(`the sink failed: ${(e as Error).stack ?? String(e)}`);
  } finally {
    Object.assign(faults, rig.writer.injected, {
      restart: faults.restart,
      'command-fails': faults['command-fails'],
    });
    await rig.stop();
  }
  for (const key of lateKeys) if ((await redis.type(key)) === 'string') await redis.del(key);
  const diffs = compareDatasets(
    await dumpRedis(redis, CHECKPOINT_KEY),
    toExpectedJson(c.model, nowMs),
    nowMs,
  );
  if (diffs.length > 0) throw fail(`${diffs.length} differences: ${diffs.slice(0, 10).join('; ')}`);
  if (rig.deadLetters.letters.length > 0) throw fail(`${rig.deadLetters.letters.length} dead letters`);
  const left = await leftovers(redis);
  if (left.length > 0) throw fail(`sink keys left behind: ${left.join(', ')}`);
  const progress = await redis.hkeys(CHECKPOINT_KEY);
  if (progress.some((f) => f.endsWith('/progress'))) throw fail('a progress field was left behind');
  return { events: c.flows.reduce((n, f) => n + f.length, 0), faults };
}

/** The target's capabilities, as the sink detects them. */
export function capabilitiesOf(redis: Redis): Promise<TargetCapabilities> {
  return detectCapabilities(redis);
}
