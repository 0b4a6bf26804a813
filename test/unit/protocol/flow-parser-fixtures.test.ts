import assert from 'node:assert';
import { test } from 'node:test';
import { FlowStreamParser } from '../../../src/protocol/flow-parser';
import { FlowItem } from '../../../src/protocol/types';
import { FixtureFlow, fixtureFlows } from '../../support/fixture-flows';
import { listFixtures } from '../../support/fixtures';

/**
 * Every flow of every recorded fixture parses without error, fed as the TCP reads delivered it and
 * again in random chunk sizes (several seeds on the small fixtures, one on the big ones); all
 * chunkings must produce the same items. Counts are checked against spec 12.1 where it states them.
 */

const BIG_FIXTURE_BYTES = 4 * 1024 * 1024;
const SMALL_FIXTURE_SEEDS = [1, 2, 3];
const BIG_FIXTURE_SEEDS = [1];

interface Summary {
  digest: string;
  kinds: Record<string, number>;
  rdbTypes: Set<number>;
  journalOffset: number | null;
  blobRecords: number;
  stableRecords: number;
  commands: string[];
}

/** A running 32-bit FNV-1a fingerprint of everything the items hold (bytes, numbers, strings). */
class Fingerprint {
  h = 0x811c9dc5;

  private mix(x: number): void {
    this.h = Math.imul(this.h ^ (x & 0xffffffff), 16777619) >>> 0;
  }

  add(v: unknown): void {
    if (Buffer.isBuffer(v)) {
      this.mix(v.length);
      for (let i = 0; i < v.length; i++) this.mix(v[i]!);
    } else if (Array.isArray(v)) {
      this.mix(v.length);
      for (const x of v) this.add(x);
    } else if (v !== null && typeof v === 'object') {
      for (const k in v) {
        this.add(k);
        this.add((v as Record<string, unknown>)[k]);
      }
    } else if (typeof v === 'string') {
      for (let i = 0; i < v.length; i++) this.mix(v.charCodeAt(i));
    } else if (typeof v === 'number') {
      this.mix(v);
      this.mix(v / 4294967296);
    } else {
      this.add(String(v));
    }
  }
}

function summarize(flow: FixtureFlow, chunks: Iterable<Buffer>): Summary {
  const parser = new FlowStreamParser({ flowId: flow.flowId, start: flow.start, eofToken: flow.eofToken });
  const fingerprint = new Fingerprint();
  const s: Summary = {
    digest: '',
    kinds: {},
    rdbTypes: new Set(),
    journalOffset: null,
    blobRecords: 0,
    stableRecords: 0,
    commands: [],
  };
  const take = (items: FlowItem[]): void => {
    for (const item of items) {
      fingerprint.add(item);
      s.kinds[item.kind] = (s.kinds[item.kind] ?? 0) + 1;
      if (item.kind === 'entry') s.rdbTypes.add(item.entry.rdbType);
      if (item.kind === 'journalOffset') s.journalOffset = item.lsn;
      if (item.kind === 'journal') {
        if (item.inSnapshot) s.blobRecords++;
        else s.stableRecords++;
        const r = item.record;
        if (r.op === 'command' && r.args[0]!.length <= 8) s.commands.push(r.args[0]!.toString());
      }
    }
  };
  for (const chunk of chunks) take(parser.feed(chunk));
  take(parser.end());
  assert.strictEqual(parser.stats.buffered, 0);
  s.digest = `${fingerprint.h}`;
  return s;
}

function* randomChunks(chunks: Buffer[], seed: number): Generator<Buffer> {
  const whole = Buffer.concat(chunks);
  let state = seed >>> 0;
  const random = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  for (let at = 0; at < whole.length;) {
    // log-uniform sizes from 1 byte to 128 KiB: many cuts inside items, some huge reads
    const size = Math.max(1, Math.floor(2 ** (random() * 17)));
    yield whole.subarray(at, at + size);
    at += size;
  }
}

const fixtures = listFixtures();

test('fixtures are present', () => {
  assert.ok(fixtures.length > 0, 'no fixture captures found under shared/fixtures');
});

const results = new Map<string, Summary[]>();

for (const fixture of fixtures) {
  test(`fixture ${fixture.name}: every flow parses the same in TCP-read and random chunks`, () => {
    const flows = fixtureFlows(fixture);
    assert.ok(flows.length > 0);
    const total = flows.reduce((n, f) => n + f.bytes, 0);
    const seeds = total > BIG_FIXTURE_BYTES ? BIG_FIXTURE_SEEDS : SMALL_FIXTURE_SEEDS;
    const summaries: Summary[] = [];
    for (const flow of flows) {
      const natural = summarize(flow, flow.chunks);
      for (const seed of seeds) {
        const other = summarize(flow, randomChunks(flow.chunks, seed + flow.flowId));
        assert.strictEqual(other.digest, natural.digest, `${flow.syncId} flow ${flow.flowId}, seed ${seed}`);
      }
      if (flow.start === 'rdb') {
        assert.strictEqual(natural.kinds.rdbEnd, 1, `${flow.syncId} flow ${flow.flowId} reached EOF`);
        assert.strictEqual(natural.kinds.fullSyncEnd, 1);
      }
      summaries.push(natural);
    }
    results.set(fixture.name, summaries);
  });
}

const sum = (list: Summary[] | undefined, f: (s: Summary) => number): number =>
  (list ?? []).reduce((n, s) => n + f(s), 0);

test('fixture counts match spec 12.1', (t) => {
  const get = (scenario: string): Summary[] | undefined => results.get(`dragonfly-v1.40.1/${scenario}`);
  const types = get('types');
  if (!types) return t.skip('fixture types not present');
  assert.strictEqual(
    sum(types, (s) => s.kinds.entry ?? 0),
    36,
  );
  assert.deepStrictEqual(
    [...new Set(types.flatMap((s) => [...s.rdbTypes]))].sort((x, y) => x - y),
    [0, 2, 4, 5, 11, 16, 17, 18, 21, 30, 31, 32, 34],
  );
  assert.strictEqual(
    sum(types, (s) => s.stableRecords),
    346,
  );
  assert.deepStrictEqual(
    types.map((s) => s.journalOffset),
    [1, 1, 1, 1],
  );

  const writes = get('fullsync_writes');
  assert.strictEqual(
    sum(writes, (s) => s.kinds.entry ?? 0),
    281_859,
  );
  assert.strictEqual(
    sum(writes, (s) => s.blobRecords),
    355_668,
  );
  assert.strictEqual(
    sum(writes, (s) => s.stableRecords),
    11_075,
  );
  assert.deepStrictEqual(
    writes!.map((s) => s.journalOffset),
    [113_730, 114_641, 115_033, 114_973],
  );

  assert.strictEqual(
    sum(get('big_values'), (s) => s.kinds.entry ?? 0),
    6,
  );
  const reconnect = get('reconnect')!;
  assert.strictEqual(
    sum(reconnect.slice(0, 4), (s) => s.kinds.entry ?? 0),
    20_000,
  );
  assert.strictEqual(
    sum(reconnect.slice(4), (s) => s.stableRecords),
    3_957,
  );
  const flushes = get('flushes')!;
  assert.strictEqual(
    sum(flushes, (s) => s.kinds.entry ?? 0),
    5_000,
  );
  for (const s of flushes) {
    assert.ok(s.commands.includes('FLUSHALL') && s.commands.includes('FLUSHDB'));
  }
});
