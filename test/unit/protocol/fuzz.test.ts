import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { CampaignFinding, findingGroup, runCampaign } from '../../support/fuzz-campaign';
import {
  CaseLimits,
  exposeGc,
  flowCase,
  FuzzCase,
  runCase,
  TARGET_NAMES,
  wholeCase,
} from '../../support/fuzz-targets';
import { HEADER, hx as hex } from './rdb/bytes';

/**
 * The robustness proof of the wire-format parsers: mutated and truncated real fixture bytes (and
 * hand-built inputs), fed in random chunks, either parse or raise a ProtocolError that names its offset
 * and item; never another error, a hang, a result that depends on the chunking, or memory beyond the
 * parsers' own bounds. More cases on demand: `npx tsx scripts/fuzz.ts --cases 100000 --seed N`.
 * FUZZ_SEED / FUZZ_CASES change this test's run.
 */

function envCount(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`${name} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

const SEED = envCount('FUZZ_SEED', 20240611);
const CASES = envCount('FUZZ_CASES', 4000);
/** Live memory after GC may grow this much over the whole run (garbage inputs must not accumulate). */
const RETAINED_GROWTH_LIMIT = 64 * 1024 * 1024;
const FINDINGS_SHOWN = 8;

function findingText(f: CampaignFinding): string {
  const c = f.fuzzCase;
  const hex = c.bytes.toString('hex');
  return [
    `case ${f.caseIndex} (${c.target}, ${f.finding.kind}): ${f.finding.detail}`,
    `  seed input: ${c.label}; mutations: ${c.applied.join(', ') || 'none'}; ${c.chunkSizes.length} chunks`,
    `  input (${c.bytes.length} bytes): ${hex.length > 240 ? `${hex.slice(0, 240)}...` : hex}`,
    `  replay: npx tsx scripts/fuzz.ts --seed ${SEED} --case ${f.caseIndex}`,
  ].join('\n');
}

/** Findings grouped (findingGroup): one example per group. */
function summarize(findings: CampaignFinding[]): string {
  const groups = new Map<string, { first: CampaignFinding; count: number }>();
  for (const f of findings) {
    const key = findingGroup(f);
    const group = groups.get(key);
    if (group) group.count++;
    else groups.set(key, { first: f, count: 1 });
  }
  const shown = [...groups.values()].slice(0, FINDINGS_SHOWN);
  return [
    `${findings.length} findings in ${groups.size} groups (seed ${SEED}):`,
    ...shown.map((g) => `${findingText(g.first)}\n  (${g.count} case${g.count === 1 ? '' : 's'} like it)`),
  ].join('\n');
}

test(`fuzz: ${CASES} mutated and truncated inputs across every parser (seed ${SEED})`, async () => {
  const result = await runCampaign({ seed: SEED, cases: CASES });
  for (const name of TARGET_NAMES) {
    const t = result.tallies[name];
    // both paths must be reached, or the mutations are not testing this parser
    assert.ok(t.ok > 0, `${name}: no case parsed successfully (seed ${SEED})`);
    assert.ok(t.rejected > 0, `${name}: no case was rejected with a ProtocolError (seed ${SEED})`);
  }
  assert.ok(
    result.retainedGrowthBytes < RETAINED_GROWTH_LIMIT,
    `live memory grew by ${result.retainedGrowthBytes} bytes over the run (seed ${SEED})`,
  );
  assert.equal(result.findings.length, 0, summarize(result.findings));
});

/** Nothing here may allocate by what a length field claims: a few MiB at most. */
const TIGHT: CaseLimits = { budgetMs: 2000, memoryBytes: 16 * 1024 * 1024 };

/** Length fields that claim gigabytes (or 2^53): rejected, or waited on, but never allocated. */
const HUGE_LENGTH_CASES: FuzzCase[] = [
  flowCase('AUX key of 1 GiB', Buffer.concat([HEADER, hex('FA 80 40 00 00 00 61 62')])),
  flowCase(
    'string value of 2^53-1 bytes',
    Buffer.concat([HEADER, hex('00 01 6B 81 00 1F FF FF FF FF FF FF 61')]),
  ),
  flowCase(
    'SET of 2^53-1 members',
    Buffer.concat([HEADER, hex('02 01 6B 81 00 1F FF FF FF FF FF FF 01 61')]),
  ),
  flowCase('TAGGED_CHUNK of 4 GiB - 16', Buffer.concat([HEADER, hex('E0 01 00 00 00 F0 FF FF FF 00')])),
  flowCase('TAGGED_CHUNK of 200 MiB', Buffer.concat([HEADER, hex('E0 01 00 00 00 00 00 80 0C 00 01 6B')])),
  flowCase('LZ4 blob of 4 GiB', Buffer.concat([HEADER, hex('CA 81 00 00 00 01 00 00 00 00 04 22 4D 18')])),
  flowCase('zstd blob of 1 GiB', Buffer.concat([HEADER, hex('C9 80 40 00 00 00 28 B5 2F FD')])),
  flowCase('JOURNAL_BLOB string of 1 GiB', Buffer.concat([HEADER, hex('D2 01 80 40 00 00 00 0A')])),
  flowCase(
    'CMS of 2^40 counters',
    Buffer.concat([HEADER, hex('23 01 6B 81 00 00 01 00 00 00 00 00 81 00 00 01 00 00 00 00 00 00')]),
  ),
  flowCase('journal total_len of 1 GiB', hex('0A 01 01 02 80 40 00 00 00 03 53 45 54'), 'journal'),
  flowCase('journal of 2^53-1 arguments', hex('0A 01 01 81 00 1F FF FF FF FF FF FF 01 03'), 'journal'),
  wholeCase('resp', 'bulk string of 512 MiB', Buffer.from('$536870912\r\nab', 'latin1')),
  wholeCase('resp', 'bulk string of 4 GiB', Buffer.from('$4294967296\r\n', 'latin1')),
  wholeCase('resp', 'array of 2^20 elements', Buffer.from('*1048576\r\n:1\r\n', 'latin1')),
  wholeCase('lz4', 'LZ4 content size 2^40', hex('04 22 4D 18 68 40 00 00 00 00 00 01 00 00 00 00 00 00 00')),
  wholeCase('zstd', 'zstd content size 2^40', hex('28 B5 2F FD C0 00 00 00 00 00 01 00 00 01 00 00')),
  wholeCase(
    'listpack',
    'listpack element of 4 GiB - 16',
    hex('10 00 00 00 01 00 F0 F0 FF FF FF 61 62 63 64 FF'),
  ),
  wholeCase(
    'ziplist',
    'ziplist entry of 2 GiB',
    hex('12 00 00 00 0A 00 00 00 01 00 00 80 80 00 00 00 61 FF'),
  ),
  wholeCase('intset', 'intset of 2^32-1 members', hex('02 00 00 00 FF FF FF FF 01 00')),
  wholeCase('rdb-string', 'string of 1 GiB', hex('80 40 00 00 00 61')),
];

test('length fields claiming gigabytes are rejected or waited on, never allocated', () => {
  const gc = exposeGc();
  for (const c of HUGE_LENGTH_CASES) {
    gc(); // measured from a clean heap, so that no earlier garbage can hide an allocation
    const outcome = runCase(c, TIGHT);
    assert.notEqual(
      outcome.kind,
      'finding',
      `${c.target}: ${c.label}: ${outcome.kind === 'finding' ? outcome.finding.detail : ''}`,
    );
  }
});
