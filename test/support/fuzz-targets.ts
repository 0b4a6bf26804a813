import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isDeepStrictEqual, inspect } from 'node:util';
import {
  decompressLz4Frame,
  decompressZstdFrame,
  MAX_DECOMPRESSED_SIZE,
} from '../../src/protocol/compression';
import { Cursor } from '../../src/protocol/cursor';
import { isNeedMore, ProtocolError } from '../../src/protocol/errors';
import { FlowStreamParser } from '../../src/protocol/flow-parser';
import { decodeIntset } from '../../src/protocol/intset';
import { JournalEntry, readJournalEntry } from '../../src/protocol/journal';
import { decodeListpack } from '../../src/protocol/listpack';
import { lzfDecompress } from '../../src/protocol/lzf';
import { decodeDumpPayload } from '../../src/protocol/rdb/dump';
import { RespReader, RespValue } from '../../src/protocol/resp';
import { decodeZiplist } from '../../src/protocol/ziplist';
import { caseSeed, mutate, randomChunkSizes, Rng, splitBySizes } from './fuzz';
import { Corpus, cutFlowWindow, FlowSeed, withCrc, withLz4HeaderChecksum } from './fuzz-corpus';

/**
 * What is fuzzed and what counts as a finding. A case is one mutated seed fed to one parser; the
 * parser must either succeed or throw a ProtocolError whose offset lies within the input and whose
 * item is named. Anything else thrown, a case slower than its budget, a case that grows memory beyond
 * the parsers' own size bounds, or a result that depends on how the input was chunked is a finding.
 */

export const TARGET_NAMES = [
  'flow',
  'journal',
  'resp',
  'dump',
  'lz4',
  'zstd',
  'listpack',
  'ziplist',
  'intset',
  'lzf',
  'rdb-string',
] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** Targets fed in chunks: their result must not depend on the chunking. */
const INCREMENTAL: ReadonlySet<TargetName> = new Set(['flow', 'resp']);

/** Flow streams are the main subject: they get a third of the cases. */
const ROTATION: readonly TargetName[] = [...TARGET_NAMES, 'flow', 'flow', 'flow', 'flow'];

/** Everything needed to run a case again: saved as JSON (+ the bytes) when it is a finding. */
export interface FuzzCase {
  target: TargetName;
  /** which seed was mutated, and how */
  label: string;
  applied: string[];
  bytes: Buffer;
  /** how the bytes are fed to incremental parsers (flow, resp); the whole buffer for the others */
  chunkSizes: number[];
  flow?: { flowId: number; start: 'rdb' | 'journal'; eofToken: string | undefined };
}

/** A hand-built case of a flow parser: fed whole, flow 1, no EOF token check. */
export function flowCase(label: string, bytes: Buffer, start: 'rdb' | 'journal' = 'rdb'): FuzzCase {
  return {
    target: 'flow',
    label,
    applied: [],
    bytes,
    chunkSizes: [bytes.length],
    flow: { flowId: 1, start, eofToken: undefined },
  };
}

/** A hand-built case of any other target, fed whole. */
export function wholeCase(target: TargetName, label: string, bytes: Buffer): FuzzCase {
  return { target, label, applied: [], bytes, chunkSizes: [bytes.length] };
}

/** The decoders' own bound on an LZF string's declared length (Cursor.rdbString's default limit). */
const LZF_CALLER_LIMIT = 1 << 30;
/** Share of dump cases whose CRC is recomputed after mutation, so the value decoders are reached. */
const DUMP_FIX_CRC_CHANCE = 0.8;
/** Likewise for the LZ4 frame header checksum, so that mutated descriptors reach the decoder. */
const LZ4_FIX_CHECKSUM_CHANCE = 0.8;

/** The case `index` of a run with `seed`: deterministic, so `--seed S --case I` reproduces it. */
export function generateCase(
  corpus: Corpus,
  seed: number,
  index: number,
  targets: readonly TargetName[] = ROTATION,
): FuzzCase {
  const rng = new Rng(caseSeed(seed, index));
  const target = targets[index % targets.length]!;
  if (target === 'flow') return generatedFlowCase(rng, corpus);
  const seeds = corpus[target === 'rdb-string' ? 'rdbString' : target];
  const seedIndex = rng.int(seeds.length);
  const m = mutate(rng, seeds[seedIndex]!);
  let bytes = m.bytes;
  if (target === 'dump' && bytes.length > 8 && rng.chance(DUMP_FIX_CRC_CHANCE)) {
    bytes = withCrc(bytes.subarray(0, bytes.length - 8));
    m.applied.push('fixCrc');
  }
  if (target === 'lz4' && rng.chance(LZ4_FIX_CHECKSUM_CHANCE)) {
    bytes = withLz4HeaderChecksum(bytes);
    m.applied.push('fixHeaderChecksum');
  }
  return {
    target,
    label: `${target} seed #${seedIndex}`,
    applied: m.applied,
    bytes,
    chunkSizes: INCREMENTAL.has(target) ? randomChunkSizes(rng, bytes.length) : [bytes.length],
  };
}

function generatedFlowCase(rng: Rng, corpus: Corpus): FuzzCase {
  const seed: FlowSeed =
    corpus.builtRdb.length > 0 && rng.chance(0.15)
      ? rng.pick(corpus.builtRdb)
      : cutFlowWindow(rng, rng.pick(corpus.flows));
  const m = mutate(rng, seed.bytes);
  return {
    target: 'flow',
    label: seed.label,
    applied: m.applied,
    bytes: m.bytes,
    chunkSizes: randomChunkSizes(rng, m.bytes.length),
    flow: { flowId: seed.flowId, start: seed.start, eofToken: rng.chance(0.9) ? seed.eofToken : undefined },
  };
}

/** What a run produced, compared between the chunked and the one-piece run. */
type RunResult = { ok: unknown } | { error: unknown };

function attempt(run: () => unknown): RunResult {
  try {
    return { ok: run() };
  } catch (error) {
    return { error };
  }
}

function runFlow(c: FuzzCase, chunks: Buffer[]): unknown {
  const parser = new FlowStreamParser(c.flow!);
  const items = chunks.flatMap((chunk) => parser.feed(chunk));
  items.push(...parser.end());
  return items;
}

function runResp(chunks: Buffer[]): unknown {
  const reader = new RespReader();
  const replies: RespValue[] = [];
  for (const chunk of chunks) {
    reader.feed(chunk);
    for (let reply = reader.next(); reply !== undefined; reply = reader.next()) replies.push(reply);
  }
  return { replies, rest: reader.takeRest() };
}

/** Entries until the input ends; ending inside an entry (NEED_MORE) is how truncation shows here. */
function runJournal(bytes: Buffer): unknown {
  const c = new Cursor(bytes);
  const state = { db: 0 };
  const entries: JournalEntry[] = [];
  try {
    while (c.pos < c.end) entries.push(readJournalEntry(c, state));
  } catch (e) {
    if (!isNeedMore(e)) throw e;
  }
  return entries;
}

function runRdbString(bytes: Buffer): unknown {
  const c = new Cursor(bytes);
  try {
    return c.rdbString('fuzzed string');
  } catch (e) {
    if (isNeedMore(e)) return 'needs more input';
    throw e;
  }
}

function runLzf(bytes: Buffer): unknown {
  if (bytes.length < 4) return 'no length prefix';
  // the callers (RDB strings) never pass a declared length above their limit
  const outLength = Math.min(bytes.readUInt32LE(0), LZF_CALLER_LIMIT);
  return lzfDecompress(bytes.subarray(4), outLength, 4);
}

function runTarget(c: FuzzCase, chunks: Buffer[]): unknown {
  switch (c.target) {
    case 'flow':
      return runFlow(c, chunks);
    case 'resp':
      return runResp(chunks);
    case 'journal':
      return runJournal(c.bytes);
    case 'dump':
      return decodeDumpPayload(c.bytes);
    case 'lz4':
      return decompressLz4Frame(c.bytes);
    case 'zstd':
      return decompressZstdFrame(c.bytes);
    case 'listpack':
      return decodeListpack(c.bytes);
    case 'ziplist':
      return decodeZiplist(c.bytes);
    case 'intset':
      return decodeIntset(c.bytes);
    case 'lzf':
      return runLzf(c.bytes);
    case 'rdb-string':
      return runRdbString(c.bytes);
  }
}

export type FindingKind = 'crash' | 'bad-error' | 'slow' | 'memory' | 'chunking' | 'hang';

export interface Finding {
  kind: FindingKind;
  /** one line: what was thrown or observed */
  detail: string;
  stack?: string;
}

export type CaseOutcome =
  { kind: 'ok' } | { kind: 'rejected'; error: ProtocolError } | { kind: 'finding'; finding: Finding };

export interface CaseLimits {
  /** a case running longer than this is a finding (synchronous code cannot be interrupted) */
  budgetMs: number;
  /** heap + ArrayBuffer growth allowed during one case */
  memoryBytes: number;
  /**
   * Called after a run that grew memory by more than GARBAGE_COLLECT_AFTER_BYTES: a later case's
   * measurement would otherwise be lowered by the collection of this garbage (see exposeGc).
   */
  collectGarbage?: () => void;
}

const GARBAGE_COLLECT_AFTER_BYTES = 32 * 1024 * 1024;

/** The V8 full collection, made callable from this process or worker (for memory measurements). */
export function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Anything allocated before its bytes have arrived is bounded by the parsers at
 * MAX_DECOMPRESSED_SIZE (a declared frame content size); a case may grow memory by that much plus
 * headroom for its own input and results, never by what a garbage length field claims.
 */
export const DEFAULT_LIMITS: CaseLimits = {
  budgetMs: 2000,
  memoryBytes: MAX_DECOMPRESSED_SIZE + 64 * 1024 * 1024,
};

function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export function describeThrown(e: unknown): { detail: string; stack?: string } {
  if (e instanceof Error) return { detail: `${e.constructor.name}: ${e.message}`, stack: e.stack };
  return { detail: `a non-Error value was thrown: ${inspect(e, { depth: 2 })}` };
}

/** Checks that a ProtocolError says where (within the input, on the right flow) and what. */
function errorProblem(c: FuzzCase, e: ProtocolError): string | null {
  if (!Number.isSafeInteger(e.offset) || e.offset < 0 || e.offset > c.bytes.length) {
    return `ProtocolError offset ${e.offset} outside the ${c.bytes.length}-byte input: ${e.message}`;
  }
  if (typeof e.item !== 'string' || e.item.length === 0) return `ProtocolError without an item: ${e.message}`;
  if (c.flow && e.flowId !== c.flow.flowId) {
    return `ProtocolError names flow ${e.flowId}, the parser was for flow ${c.flow.flowId}: ${e.message}`;
  }
  return null;
}

function classify(c: FuzzCase, result: RunResult): CaseOutcome {
  if ('ok' in result) return { kind: 'ok' };
  const e = result.error;
  if (!(e instanceof ProtocolError))
    return { kind: 'finding', finding: { kind: 'crash', ...describeThrown(e) } };
  const problem = errorProblem(c, e);
  if (problem) return { kind: 'finding', finding: { kind: 'bad-error', detail: problem, stack: e.stack } };
  return { kind: 'rejected', error: e };
}

function sameResult(a: RunResult, b: RunResult): boolean {
  if ('ok' in a && 'ok' in b) return isDeepStrictEqual(a.ok, b.ok);
  if ('error' in a && 'error' in b && a.error instanceof ProtocolError && b.error instanceof ProtocolError) {
    return a.error.message === b.error.message;
  }
  return false;
}

function resultText(r: RunResult): string {
  if ('error' in r) return describeThrown(r.error).detail;
  return `success (${Array.isArray(r.ok) ? `${r.ok.length} items` : 'value'})`;
}

/**
 * Runs one case under the guards. Incremental targets run twice, in the case's chunks and in one
 * piece, and must give the same result.
 */
export function runCase(c: FuzzCase, limits: CaseLimits = DEFAULT_LIMITS): CaseOutcome {
  const runs: RunResult[] = [];
  const ways = INCREMENTAL.has(c.target) ? [splitBySizes(c.bytes, c.chunkSizes), [c.bytes]] : [[c.bytes]];
  for (const chunks of ways) {
    const memoryBefore = memoryInUse();
    const started = performance.now();
    const result = attempt(() => runTarget(c, chunks));
    const ms = performance.now() - started;
    const grown = memoryInUse() - memoryBefore;
    if (grown > GARBAGE_COLLECT_AFTER_BYTES) limits.collectGarbage?.();
    const outcome = classify(c, result);
    if (outcome.kind === 'finding') return outcome;
    if (ms > limits.budgetMs) {
      const detail = `took ${ms.toFixed(0)} ms (budget ${limits.budgetMs} ms) for ${c.bytes.length} bytes in ${chunks.length} chunks`;
      return { kind: 'finding', finding: { kind: 'slow', detail } };
    }
    if (grown > limits.memoryBytes) {
      const detail =
        `memory grew by ${mib(grown)} (limit ${mib(limits.memoryBytes)}) for ${c.bytes.length} bytes of input; ` +
        `ended with ${resultText(result)}`;
      return { kind: 'finding', finding: { kind: 'memory', detail } };
    }
    runs.push(result);
  }
  const [chunked, whole] = runs;
  if (whole && !sameResult(chunked!, whole)) {
    const detail = `in ${c.chunkSizes.length} chunks: ${resultText(chunked!)}; in one piece: ${resultText(whole)}`;
    return { kind: 'finding', finding: { kind: 'chunking', detail } };
  }
  return classify(c, chunked!);
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
