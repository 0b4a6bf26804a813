/**
 * Fuzzing of the wire-format parsers on demand (the CI test runs a few thousand cases of the same).
 *
 *   npx tsx scripts/fuzz.ts [--cases 100000] [--seed N] [--target flow,resp,...] [--hang-ms 10000]
 *   npx tsx scripts/fuzz.ts --seed N --case I [--target ...]    run one generated case here and show it
 *   npx tsx scripts/fuzz.ts --replay .cache/fuzz/<finding>.json  run a saved finding again
 *
 * Every finding is saved under .cache/fuzz/ (the case as JSON and its raw bytes) with the command that
 * replays it. Exit code 1 when anything was found.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildCorpus } from '../test/support/fuzz-corpus';
import {
  CampaignFinding,
  CampaignProgress,
  caseFromJson,
  caseToJson,
  findingGroup,
  FuzzCaseJson,
  runCampaign,
} from '../test/support/fuzz-campaign';
import {
  Finding,
  FuzzCase,
  generateCase,
  runCase,
  TARGET_NAMES,
  TargetName,
} from '../test/support/fuzz-targets';

const root = join(__dirname, '..');
const findingsDir = join(root, '.cache', 'fuzz');
const PROGRESS_EVERY_MS = 2000;
/** Saved files per kind of finding (same target, kind and message shape); the rest are only counted. */
const SAVED_PER_GROUP = 3;

const USAGE = `usage: npx tsx scripts/fuzz.ts [--cases N] [--seed N] [--target ${TARGET_NAMES.join(',')}] [--hang-ms MS]
       npx tsx scripts/fuzz.ts --seed N --case I [--target ...]
       npx tsx scripts/fuzz.ts --replay .cache/fuzz/<finding>.json`;

interface Args {
  cases: number;
  seed: number;
  caseIndex: number | undefined;
  targets: TargetName[] | undefined;
  hangMs: number;
  replay: string | undefined;
}

class UsageError extends Error {}

const OPTIONS = ['--cases', '--seed', '--case', '--hang-ms', '--replay', '--target'];

function parseArgs(argv: string[]): Args {
  const args: Args = {
    cases: 100_000,
    seed: Date.now() % 2 ** 31,
    caseIndex: undefined,
    targets: undefined,
    hangMs: 10_000,
    replay: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') throw new UsageError('fuzzing of the wire-format parsers');
    if (!OPTIONS.includes(flag)) throw new UsageError(`unknown option ${flag}`);
    const value = argv[i + 1];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    i++;
    const count = (): number => {
      if (!/^\d+$/.test(value)) throw new UsageError(`${flag} needs a non-negative integer, got "${value}"`);
      return Number(value);
    };
    if (flag === '--cases') args.cases = count();
    else if (flag === '--seed') args.seed = count();
    else if (flag === '--case') args.caseIndex = count();
    else if (flag === '--hang-ms') args.hangMs = count();
    else if (flag === '--replay') args.replay = value;
    else args.targets = value.split(',').map(targetName);
  }
  return args;
}

function targetName(name: string): TargetName {
  if (!(TARGET_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`unknown target "${name}"; the targets are ${TARGET_NAMES.join(', ')}`);
  }
  return name as TargetName;
}

function targetOption(targets: TargetName[] | undefined): string {
  return targets ? ` --target ${targets.join(',')}` : '';
}

function describeCase(c: FuzzCase): string {
  const hex = c.bytes.toString('hex');
  const flow = c.flow
    ? `, flow ${c.flow.flowId} from ${c.flow.start}, token ${c.flow.eofToken ? 'checked' : 'unchecked'}`
    : '';
  return [
    `target ${c.target}${flow}`,
    `seed input: ${c.label}`,
    `mutations: ${c.applied.join(', ') || 'none'}`,
    `${c.bytes.length} bytes in ${c.chunkSizes.length} chunks: ${hex.length > 400 ? `${hex.slice(0, 400)}...` : hex}`,
  ].join('\n  ');
}

function describeFinding(f: Finding): string {
  return `${f.kind}: ${f.detail}${f.stack ? `\n${f.stack}` : ''}`;
}

/** Runs one case in this process (a hang then hangs here: that is the point of looking at it). */
function runHere(c: FuzzCase): number {
  console.log(`case:\n  ${describeCase(c)}`);
  const outcome = runCase(c);
  if (outcome.kind === 'finding') {
    console.log(`finding: ${describeFinding(outcome.finding)}`);
    return 1;
  }
  console.log(outcome.kind === 'ok' ? 'parsed successfully' : `rejected: ${outcome.error.message}`);
  return 0;
}

function replay(path: string): number {
  let saved: { fuzzCase: FuzzCaseJson };
  try {
    saved = JSON.parse(readFileSync(path, 'utf8')) as { fuzzCase: FuzzCaseJson };
  } catch (e) {
    throw new UsageError(`cannot read the saved finding ${path}: ${(e as Error).message}`);
  }
  return runHere(caseFromJson(saved.fuzzCase));
}

async function campaign(args: Args): Promise<number> {
  console.log(
    `fuzzing ${args.cases} cases, seed ${args.seed}${targetOption(args.targets)} ` +
      `(rerun with: npx tsx scripts/fuzz.ts --cases ${args.cases} --seed ${args.seed}${targetOption(args.targets)})`,
  );
  mkdirSync(findingsDir, { recursive: true });
  const groups = new Map<string, number>();
  let lastProgress = 0;
  const onProgress = (p: CampaignProgress): void => {
    if (p.elapsedMs - lastProgress < PROGRESS_EVERY_MS && p.done < p.total) return;
    lastProgress = p.elapsedMs;
    const rate = Math.round(p.done / Math.max(p.elapsedMs / 1000, 0.001));
    console.log(`  ${p.done}/${p.total} cases (${rate}/s), ${p.findings} findings`);
  };
  const onFinding = (f: CampaignFinding): void => {
    const key = findingGroup(f);
    const seen = (groups.get(key) ?? 0) + 1;
    groups.set(key, seen);
    if (seen > SAVED_PER_GROUP) return;
    const name = `${f.fuzzCase.target}-${f.finding.kind}-s${args.seed}-c${f.caseIndex}`;
    const json = join(findingsDir, `${name}.json`);
    writeFileSync(
      json,
      JSON.stringify(
        { seed: args.seed, caseIndex: f.caseIndex, finding: f.finding, fuzzCase: caseToJson(f.fuzzCase) },
        null,
        2,
      ),
    );
    writeFileSync(join(findingsDir, `${name}.bin`), f.fuzzCase.bytes);
    console.log(`FINDING case ${f.caseIndex} (${f.fuzzCase.target}, ${f.finding.kind}): ${f.finding.detail}`);
    console.log(`  ${describeCase(f.fuzzCase)}`);
    console.log(
      `  saved ${relative(root, json)}; replay: npx tsx scripts/fuzz.ts --replay ${relative(root, json)}`,
    );
  };
  const result = await runCampaign({
    seed: args.seed,
    cases: args.cases,
    targets: args.targets,
    hangMs: args.hangMs,
    onProgress,
    onFinding,
  });
  console.log(`\n${result.cases} cases in ${(result.elapsedMs / 1000).toFixed(1)} s, seed ${result.seed}`);
  console.log('target        parsed  rejected  findings');
  for (const name of TARGET_NAMES) {
    const t = result.tallies[name];
    if (t.ok + t.rejected + t.findings === 0) continue;
    console.log(
      `${name.padEnd(12)} ${String(t.ok).padStart(7)} ${String(t.rejected).padStart(9)} ${String(t.findings).padStart(9)}`,
    );
  }
  console.log(
    `live memory growth over the run: ${(result.retainedGrowthBytes / 1024 / 1024).toFixed(1)} MiB`,
  );
  if (result.findings.length === 0) {
    console.log('no findings');
    return 0;
  }
  console.log(
    `${result.findings.length} findings of ${groups.size} kinds (files in ${relative(root, findingsDir)}/):`,
  );
  for (const [key, count] of groups) console.log(`  ${count} × ${key}`);
  return 1;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.replay) return replay(args.replay);
  if (args.caseIndex !== undefined)
    return runHere(generateCase(buildCorpus(), args.seed, args.caseIndex, args.targets));
  return campaign(args);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) console.error(`${e.message}\n${USAGE}`);
    else console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
