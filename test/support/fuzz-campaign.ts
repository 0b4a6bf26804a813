import { parentPort, Worker, workerData } from 'node:worker_threads';
import { buildCorpus, Corpus } from './fuzz-corpus';
import {
  CaseLimits,
  DEFAULT_LIMITS,
  describeThrown,
  exposeGc,
  Finding,
  FuzzCase,
  generateCase,
  runCase,
  TARGET_NAMES,
  TargetName,
} from './fuzz-targets';

/**
 * Runs many fuzz cases in a worker thread watched from the calling thread. Synchronous parser code
 * cannot be interrupted from inside, so a case that never returns (a hang) is detected from outside:
 * the worker publishes the index of the case it is running, and a case still running after `hangMs`
 * gets the worker terminated, the case reported, and a fresh worker continuing with the next case.
 */

export interface CampaignOptions {
  seed: number;
  cases: number;
  /** index of the first case (cases are numbered per seed, so a run can be resumed or narrowed) */
  firstCase?: number;
  /** the rotation of targets (default: every target, flows more often) */
  targets?: readonly TargetName[];
  limits?: CaseLimits;
  hangMs?: number;
  onProgress?: (progress: CampaignProgress) => void;
  onFinding?: (finding: CampaignFinding) => void;
}

export interface CampaignProgress {
  done: number;
  total: number;
  findings: number;
  elapsedMs: number;
}

export interface CampaignFinding {
  caseIndex: number;
  fuzzCase: FuzzCase;
  finding: Finding;
}

export interface TargetTally {
  ok: number;
  rejected: number;
  findings: number;
}

export interface CampaignResult {
  seed: number;
  cases: number;
  tallies: Record<TargetName, TargetTally>;
  findings: CampaignFinding[];
  /** largest growth of live memory (after GC) from the start to the end of a worker's run */
  retainedGrowthBytes: number;
  elapsedMs: number;
}

const DEFAULT_HANG_MS = 10_000;
const PROGRESS_EVERY_CASES = 250;
const WATCH_INTERVAL_MS = 200;
/** Heap a worker may use: far beyond what small cases need, small enough not to starve the machine. */
const WORKER_HEAP_MB = 1024;

/** A FuzzCase as plain JSON (bytes as hex): for messages between threads and for saved findings. */
export interface FuzzCaseJson extends Omit<FuzzCase, 'bytes'> {
  bytesHex: string;
}

/**
 * What makes two findings "the same": target and kind, and for errors the message with its numbers
 * masked (memory, time and hang findings differ only in numbers and in how the case ended).
 */
export function findingGroup(f: CampaignFinding): string {
  const { kind, detail } = f.finding;
  const shape =
    kind === 'memory' || kind === 'slow' || kind === 'hang' ? '' : ` ${detail.replace(/\d+/g, 'N')}`;
  return `${f.fuzzCase.target} ${kind}${shape}`;
}

export function caseToJson(c: FuzzCase): FuzzCaseJson {
  const { bytes, ...rest } = c;
  return { ...rest, bytesHex: bytes.toString('hex') };
}

export function caseFromJson(j: FuzzCaseJson): FuzzCase {
  const { bytesHex, ...rest } = j;
  return { ...rest, bytes: Buffer.from(bytesHex, 'hex') };
}

interface WorkerInput {
  seed: number;
  first: number;
  end: number;
  targets: readonly TargetName[] | undefined;
  limits: CaseLimits;
  /** shared counters: SLOT_RUNNING = the case being run, then ok/rejected per target */
  shared: SharedArrayBuffer;
}

type WorkerMessage =
  /** index of the next case to run */
  | { type: 'progress'; next: number }
  | { type: 'finding'; caseIndex: number; fuzzCase: FuzzCaseJson; finding: Finding }
  | { type: 'done'; retainedGrowthBytes: number };

const NOT_RUNNING = -1;
const SLOT_RUNNING = 0;
const okSlot = (t: number): number => 1 + 2 * t;
const rejectedSlot = (t: number): number => 2 + 2 * t;
const SHARED_SLOTS = 1 + 2 * TARGET_NAMES.length;

function emptyTallies(): Record<TargetName, TargetTally> {
  const tallies = {} as Record<TargetName, TargetTally>;
  for (const name of TARGET_NAMES) tallies[name] = { ok: 0, rejected: 0, findings: 0 };
  return tallies;
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now();
  const first = options.firstCase ?? 0;
  const end = first + options.cases;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const hangMs = options.hangMs ?? DEFAULT_HANG_MS;
  const tallies = emptyTallies();
  const findings: CampaignFinding[] = [];
  let retainedGrowthBytes = 0;
  let mainCorpus: Corpus | null = null;
  const record = (f: CampaignFinding): void => {
    findings.push(f);
    tallies[f.fuzzCase.target].findings++;
    options.onFinding?.(f);
  };
  /** A case whose worker died: rebuilt here from its seed (cases are deterministic). */
  const recordLost = (caseIndex: number, finding: Finding): void => {
    mainCorpus ??= buildCorpus();
    record({
      caseIndex,
      fuzzCase: generateCase(mainCorpus, options.seed, caseIndex, options.targets),
      finding,
    });
  };

  for (let next = first; next < end;) {
    const shared = new SharedArrayBuffer(4 * SHARED_SLOTS);
    const counters = new Int32Array(shared);
    Atomics.store(counters, SLOT_RUNNING, NOT_RUNNING);
    const input: WorkerInput = {
      seed: options.seed,
      first: next,
      end,
      targets: options.targets,
      limits,
      shared,
    };
    const outcome = await runWorker(input, counters, hangMs, {
      progress: (nextCase) =>
        options.onProgress?.({
          done: nextCase - first,
          total: options.cases,
          findings: findings.length,
          elapsedMs: Date.now() - started,
        }),
      finding: (m) =>
        record({ caseIndex: m.caseIndex, fuzzCase: caseFromJson(m.fuzzCase), finding: m.finding }),
    });
    TARGET_NAMES.forEach((name, t) => {
      tallies[name].ok += Atomics.load(counters, okSlot(t));
      tallies[name].rejected += Atomics.load(counters, rejectedSlot(t));
    });
    if (outcome.kind === 'done') {
      retainedGrowthBytes = Math.max(retainedGrowthBytes, outcome.retainedGrowthBytes);
      break;
    }
    if (outcome.caseIndex === NOT_RUNNING)
      throw new Error(`the fuzz worker failed before running a case: ${outcome.detail}`);
    recordLost(outcome.caseIndex, { kind: outcome.kind, detail: outcome.detail, stack: outcome.stack });
    next = outcome.caseIndex + 1;
  }
  return {
    seed: options.seed,
    cases: options.cases,
    tallies,
    findings,
    retainedGrowthBytes,
    elapsedMs: Date.now() - started,
  };
}

type WorkerOutcome =
  | { kind: 'done'; retainedGrowthBytes: number }
  | { kind: 'hang' | 'crash' | 'memory'; caseIndex: number; detail: string; stack?: string };

interface WorkerHandlers {
  progress: (next: number) => void;
  finding: (m: Extract<WorkerMessage, { type: 'finding' }>) => void;
}

function runWorker(
  input: WorkerInput,
  running: Int32Array,
  hangMs: number,
  on: WorkerHandlers,
): Promise<WorkerOutcome> {
  const bootstrap = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(__filename)}).campaignWorker();`;
  const worker = new Worker(bootstrap, {
    eval: true,
    workerData: input,
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
  });
  return new Promise((resolve) => {
    let settled = false;
    let watched = NOT_RUNNING;
    let watchedSince = Date.now();
    const settle = (outcome: WorkerOutcome): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      void worker.terminate();
      resolve(outcome);
    };
    const watchdog = setInterval(() => {
      const now = Atomics.load(running, SLOT_RUNNING);
      if (now !== watched) {
        watched = now;
        watchedSince = Date.now();
      } else if (now !== NOT_RUNNING && Date.now() - watchedSince > hangMs) {
        settle({
          kind: 'hang',
          caseIndex: now,
          detail: `no result after ${hangMs} ms (the worker was terminated)`,
        });
      }
    }, WATCH_INTERVAL_MS);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') on.progress(m.next);
      else if (m.type === 'finding') on.finding(m);
      else settle({ kind: 'done', retainedGrowthBytes: m.retainedGrowthBytes });
    });
    worker.on('error', (e) => {
      const outOfMemory = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      settle({
        kind: outOfMemory ? 'memory' : 'crash',
        caseIndex: Atomics.load(running, SLOT_RUNNING),
        ...describeThrown(e),
      });
    });
    worker.on('exit', (code) => {
      settle({
        kind: 'crash',
        caseIndex: Atomics.load(running, SLOT_RUNNING),
        detail: `the fuzz worker exited with code ${code}`,
      });
    });
  });
}

/** Live memory after a full collection (the worker exposes gc to itself for this measurement). */
function retainedMemory(gc: () => void): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** The worker side: builds the corpus, runs its range of cases, reports findings as they come. */
export function campaignWorker(): void {
  const input = workerData as WorkerInput;
  const port = parentPort!;
  const counters = new Int32Array(input.shared);
  const gc = exposeGc();
  const limits: CaseLimits = { ...input.limits, collectGarbage: gc };
  const corpus = buildCorpus();
  const before = retainedMemory(gc);
  for (let i = input.first; i < input.end; i++) {
    const fuzzCase = generateCase(corpus, input.seed, i, input.targets);
    Atomics.store(counters, SLOT_RUNNING, i);
    const outcome = runCase(fuzzCase, limits);
    const t = TARGET_NAMES.indexOf(fuzzCase.target);
    if (outcome.kind === 'finding') {
      port.postMessage({
        type: 'finding',
        caseIndex: i,
        fuzzCase: caseToJson(fuzzCase),
        finding: outcome.finding,
      });
    } else {
      Atomics.add(counters, outcome.kind === 'ok' ? okSlot(t) : rejectedSlot(t), 1);
    }
    if ((i - input.first + 1) % PROGRESS_EVERY_CASES === 0)
      port.postMessage({ type: 'progress', next: i + 1 });
  }
  Atomics.store(counters, SLOT_RUNNING, NOT_RUNNING);
  const retainedGrowthBytes = retainedMemory(gc) - before;
  port.postMessage({ type: 'done', retainedGrowthBytes });
}
