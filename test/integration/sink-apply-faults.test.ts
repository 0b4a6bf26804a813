/**
 * The apply path under faults, against a real redis-server (issue 10): chunks of an open value
 * with pipelined batches that fail or are retried, late expiries in databases other than 0, an
 * event that fails after some of its commands were applied, and a split JSON document whose
 * conversion fails. Each case once ended with data lost or applied twice.
 */
import assert from 'node:assert';
import { test } from 'node:test';
import { loadSinkConfig } from '../../src/config/sink';
import type { EventValue } from '../../src/events/model';
import { EventApplyError } from '../../src/sink/errors';
import { detectCapabilities, type TargetCapabilities } from '../../src/targets/capabilities';
import { CHECKPOINT_KEY, freshRedisForFile } from './sink-harness';
import { flowWriter, type FlowWriter } from './sink-events';
import { partitionMessages, SinkRig, type WriterFault } from './sink-worker-rig';

const redis = freshRedisForFile();
const TOPIC = 'faults';
const LATE_EXPIRY_KEY = `${CHECKPOINT_KEY}:late-expiries:${TOPIC}/0`;

async function rig(
  writer: FlowWriter,
  options: {
    maxEvents?: number;
    tolerance?: 'none' | 'all';
    capabilities?: Partial<TargetCapabilities>;
    endOffset?: number;
  } = {},
): Promise<SinkRig> {
  const config = loadSinkConfig(
    [
      '--topic',
      TOPIC,
      '--redis-url',
      redis.url,
      '--batch-max-events',
      String(options.maxEvents ?? 1),
      '--errors-tolerance',
      options.tolerance ?? 'none',
      '--retry-initial-backoff-ms',
      '1',
    ],
    {},
  );
  const capabilities = { ...(await detectCapabilities(redis.client)), ...options.capabilities };
  const endOffset = options.endOffset;
  return SinkRig.start(
    redis.url,
    { config, capabilities, ...(endOffset === undefined ? {} : { endOffset }) },
    await partitionMessages([writer.events]),
  );
}

const items = (n: number): string[] => Array.from({ length: n }, (_, i) => `item-${i}`);
const listPieces = (values: string[]): EventValue[] =>
  values.map((v) => ({ type: 'ListValue', items: [Buffer.from(v)] }));

for (const fault of ['lose-request', 'lose-reply'] as WriterFault[]) {
  test(`a chunked list whose pipelined middle batch meets "${fault}" is written exactly`, async () => {
    await redis.client.flushall();
    const values = items(8);
    const w = flowWriter(0, 1).record('big', listPieces(values)).command('SET', ['after', '1']);
    const sink = await rig(w);
    try {
      // one event per batch: chunks 0-3 go out together, the third is lost or its reply is
      sink.writer.inject(2, fault);
      await sink.runToEnd();
    } finally {
      await sink.stop();
    }
    assert.deepStrictEqual(await redis.client.lrange('big', 0, -1), values);
    assert.strictEqual(await redis.client.get('after'), '1');
    assert.strictEqual(await redis.client.hget(CHECKPOINT_KEY, `${TOPIC}/0`), '9');
    assert.strictEqual(await redis.client.hget(CHECKPOINT_KEY, `${TOPIC}/0/progress`), null);
  });
}

test('a batch without commands whose position Redis refuses (OOM) is retried, not taken as stored', async () => {
  await redis.client.flushall();
  // the list's last chunk is empty: its batch writes nothing but the position
  const w = flowWriter(0, 1)
    .record('list', [...listPieces(['a']), { type: 'ListValue', items: [] }])
    .command('FLUSHALL', [], { txid: 1 })
    .command('SET', ['after', '1']);
  const sink = await rig(w);
  try {
    sink.writer.inject(1, 'oom');
    await sink.runToEnd();
  } finally {
    await sink.stop();
  }
  assert.strictEqual(await redis.client.exists('list'), 0, 'the flush is not undone by a replay');
  assert.strictEqual(await redis.client.get('after'), '1');
});

test('a late expiry in db 3 is swept at the end of the partition like one in db 0', async () => {
  await redis.client.flushall();
  const at = Date.now() - 60_000;
  const passed = String(Date.now() - 30_000);
  const w = flowWriter(0, 1)
    .command('SET', ['due', 'v', 'PXAT', passed], { db: 3, at })
    .command('SET', ['due0', 'v', 'PXAT', passed], { db: 0, at });
  const sink = await rig(w, { maxEvents: 10 });
  try {
    await sink.runToEnd();
  } finally {
    await sink.stop();
  }
  assert.strictEqual(await redis.client.exists('due0'), 0);
  await redis.client.select(3);
  const left = await redis.client.keys('*');
  await redis.client.select(0);
  assert.deepStrictEqual(left, [], 'db 3 holds neither the key nor a late-expiry note');
  assert.strictEqual(await redis.client.exists(LATE_EXPIRY_KEY), 0);
});

test('an event failing at its late-expiry note leaves the events before it applied once', async () => {
  await redis.client.flushall();
  const at = Date.now() - 60_000;
  const passed = String(Date.now() - 30_000);
  const w = flowWriter(0, 1)
    .command('INCR', ['counter'])
    .command('SET', ['due', 'v', 'PXAT', passed], { at })
    .command('INCR', ['counter']);
  // something else wrote the sink's late-expiry hash as a string
  await redis.client.set(LATE_EXPIRY_KEY, 'not a hash');
  const sink = await rig(w, { maxEvents: 10 });
  let error: unknown;
  try {
    error = await sink.runToEnd().then(
      () => undefined,
      (e: unknown) => e,
    );
    // the cause is fixed, the sink restarts
    await redis.client.del(LATE_EXPIRY_KEY);
    await sink.restart();
    await sink.runToEnd();
  } finally {
    await sink.stop();
  }
  assert.strictEqual(await redis.client.get('counter'), '2');
  assert.strictEqual(await redis.client.exists('due'), 0);
  assert.ok(error instanceof EventApplyError, String(error));
  assert.match(error.message, /event faults\/0@1 was not applied: __LATE_EXPIRY failed: WRONGTYPE/);
});

test('an event that fails after its first commands were applied is never dead-lettered or repeated', async () => {
  await redis.client.flushall();
  const at = Date.now() - 60_000;
  const passed = Date.now() - 30_000;
  const w = flowWriter(0, 1)
    .record('list', listPieces(['a', 'b']), { expireAtMs: passed, at })
    .command('PERSIST', ['list'])
    .command('SET', ['after', '1']);
  await redis.client.set(LATE_EXPIRY_KEY, 'not a hash');
  const sink = await rig(w, { maxEvents: 10, tolerance: 'all' });
  try {
    const error = await sink.runToEnd().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof EventApplyError, String(error));
    assert.match(
      error.message,
      /event faults\/0@0 was not applied: .*command 3 of 3; the 2 before it are applied/,
    );
    assert.deepStrictEqual(sink.deadLetters.letters, []);
    await redis.client.del(LATE_EXPIRY_KEY);
    await sink.restart();
    await sink.runToEnd();
  } finally {
    await sink.stop();
  }
  assert.deepStrictEqual(await redis.client.lrange('list', 0, -1), ['a', 'b']);
  assert.strictEqual(Number(await redis.client.call('PEXPIRETIME', 'list')), -1);
  assert.strictEqual(await redis.client.get('after'), '1');
});

test('a split JSON document whose conversion fails keeps its text (and is not dead-lettered)', async () => {
  await redis.client.flushall();
  const pieces: EventValue[] = ['{"a":', '1}'].map((t) => ({ type: 'JsonValue', json: Buffer.from(t) }));
  const w = flowWriter(0, 1).record('doc', pieces);
  // the target claims RedisJSON but JSON.SET fails (here: it has no such command)
  const sink = await rig(w, { maxEvents: 10, tolerance: 'all', capabilities: { json: true } });
  try {
    const error = await sink.runToEnd().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof EventApplyError, String(error));
    assert.match(error.message, /event faults\/0@1 was not applied: __JSON_FROM_STRING failed/);
    assert.deepStrictEqual(sink.deadLetters.letters, []);
  } finally {
    await sink.stop();
  }
  assert.strictEqual(await redis.client.get('doc'), '{"a":1}');
});

test('a broken split command is dead-lettered as chunk-sequence, naming the reason; the next one applies', async () => {
  await redis.client.flushall();
  const w = flowWriter(0, 1)
    .command('RPUSH', ['broken', 'a', 'b', 'c'], { chunks: 3 })
    .command('RPUSH', ['whole', 'a', 'b', 'c'], { chunks: 2 })
    .command('SET', ['after', '1']);
  w.events.splice(1, 1); // chunk 1 of the first command is lost
  const sink = await rig(w, { tolerance: 'all' });
  try {
    await sink.runToEnd();
  } finally {
    await sink.stop();
  }
  assert.strictEqual(await redis.client.exists('broken'), 0);
  assert.deepStrictEqual(await redis.client.lrange('whole', 0, -1), ['a', 'b', 'c']);
  assert.strictEqual(await redis.client.get('after'), '1');
  const letters = sink.deadLetters.letters.map((l) => [l.at.offset, l.kind, l.reason]);
  assert.deepStrictEqual(
    letters.map(([offset, kind]) => [offset, kind]),
    [['1', 'chunk-sequence']],
  );
  assert.match(String(letters[0]![2]), /out of order \(expected chunk 1 at index 1\)/);
});

test('on a partition that never reaches its end the late-expiry hash keeps only keys still marked', async () => {
  await redis.client.flushall();
  const at = Date.now() - 60_000;
  const passed = String(Date.now() - 30_000);
  const w = flowWriter(0, 1);
  for (let i = 0; i < 2000; i++) w.command('SET', [`gone${i}`, 'v', 'PXAT', passed], { at });
  for (let i = 0; i < 2000; i++) w.command('DEL', [`gone${i}`], { at });
  for (let i = 0; i < 200; i++) w.command('SET', [`marked${i}`, 'v', 'PXAT', passed], { at });
  // batches of 20: each one that writes a note walks on over up to 500 notes
  const sink = await rig(w, { maxEvents: 20, endOffset: w.events.length + 1000 });
  try {
    await sink.runToEnd();
  } finally {
    await sink.stop();
  }
  assert.strictEqual(await redis.client.hlen(LATE_EXPIRY_KEY), 200);
  assert.strictEqual(await redis.client.exists('marked0'), 1, 'not swept before the end');
});

test('the sweep at the end of a partition with 3000 notes takes bounded steps and leaves nothing', async () => {
  await redis.client.flushall();
  const at = Date.now() - 60_000;
  const passed = String(Date.now() - 30_000);
  const w = flowWriter(0, 1);
  for (let i = 0; i < 3000; i++) w.command('SET', [`due${i}`, 'v', 'PXAT', passed], { at });
  const sink = await rig(w, { maxEvents: 3000 });
  try {
    await sink.runToEnd();
    assert.ok(sink.writer.calls >= 3000 / 500, `${sink.writer.calls} script calls`);
  } finally {
    await sink.stop();
  }
  assert.strictEqual(await redis.client.dbsize(), 1, 'only the checkpoint hash is left');
  assert.deepStrictEqual((await redis.client.hkeys(CHECKPOINT_KEY)).sort(), [
    `${TOPIC}/0`,
    `${TOPIC}/0/epoch`,
  ]);
});
