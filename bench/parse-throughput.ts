/**
 * Parse throughput of FlowStreamParser on the largest recorded fixture (by flow bytes), fed exactly
 * as the TCP reads arrived, versus a bare loop that only reads the same bytes (the upper limit).
 *
 *   npx tsx bench/parse-throughput.ts [path/to/session.dfcap.gz] [rounds]
 */
import { FlowStreamParser } from '../src/protocol/flow-parser';
import { FixtureFlow, fixtureFlows } from '../test/support/fixture-flows';
import { listFixtures } from '../test/support/fixtures';

interface Run {
  seconds: number;
  entries: number;
  items: number;
}

function pickFlows(path: string | undefined): { name: string; flows: FixtureFlow[] } {
  const captures = path ? [{ name: path, capturePath: path }] : listFixtures();
  if (captures.length === 0) {
    console.error('no fixture captures found; pass the path of a session.dfcap.gz');
    process.exit(1);
  }
  let best: { name: string; flows: FixtureFlow[]; bytes: number } | null = null;
  for (const capture of captures) {
    const flows = fixtureFlows(capture);
    const bytes = flows.reduce((n, f) => n + f.bytes, 0);
    if (!best || bytes > best.bytes) best = { name: capture.name, flows, bytes };
  }
  return best!;
}

function parseAll(flows: FixtureFlow[]): Run {
  const start = process.hrtime.bigint();
  let entries = 0;
  let items = 0;
  for (const flow of flows) {
    const parser = new FlowStreamParser({ flowId: flow.flowId, start: flow.start, eofToken: flow.eofToken });
    for (const chunk of flow.chunks) items += parser.feed(chunk).length;
    items += parser.end().length;
    entries += parser.stats.entries;
  }
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, entries, items };
}

/** Sum of all bytes seen by the bare loop, printed so the loop cannot be optimised away. */
let byteSum = 0;

/** Touches every byte once (the cost of merely reading the input). */
function readAll(flows: FixtureFlow[]): Run {
  const start = process.hrtime.bigint();
  let sum = 0;
  for (const flow of flows) {
    for (const chunk of flow.chunks) for (let i = 0; i < chunk.length; i++) sum = (sum + chunk[i]!) | 0;
  }
  byteSum = sum;
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, entries: 0, items: 0 };
}

function best(rounds: number, run: () => Run): Run {
  let fastest: Run | null = null;
  for (let i = 0; i < rounds; i++) {
    const r = run();
    if (!fastest || r.seconds < fastest.seconds) fastest = r;
  }
  return fastest!;
}

const { name, flows } = pickFlows(process.argv[2]);
const rounds = Number(process.argv[3] ?? 5);
const bytes = flows.reduce((n, f) => n + f.bytes, 0);
const mb = bytes / 1e6;

parseAll(flows);
const parsed = best(rounds, () => parseAll(flows));
const read = best(rounds, () => readAll(flows));

const rate = (r: Run): string => `${(mb / r.seconds).toFixed(1)} MB/s`;
console.log(`fixture ${name}: ${flows.length} flows, ${mb.toFixed(1)} MB, best of ${rounds} rounds`);
console.log(
  `FlowStreamParser: ${rate(parsed)}, ${Math.round(parsed.entries / parsed.seconds).toLocaleString('en')} entries/s, ` +
    `${Math.round(parsed.items / parsed.seconds).toLocaleString('en')} items/s (${parsed.entries} entries, ${parsed.items} items)`,
);
console.log(`bare read loop:   ${rate(read)} (byte sum ${byteSum})`);
console.log(`parser / bare loop: ${(read.seconds / parsed.seconds).toFixed(3)} of the limit`);
