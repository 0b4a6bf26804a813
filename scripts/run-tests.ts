/**
 * The test entry point (`npm test` runs it after typecheck, lint and format checks).
 * Finds test files, and runs them with node's own test runner through tsx.
 * Arguments narrow the run: `npm test -- test/unit` or a single file.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..');

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const wanted = process.argv.slice(2).map((p) => join(root, p));
const roots = wanted.length > 0 ? wanted : [join(root, 'test')];
const files = roots.flatMap((p) => (statSync(p).isDirectory() ? findTests(p) : [p]));
if (files.length === 0) {
  console.error(`no test files under ${roots.map((r) => relative(root, r)).join(', ')}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { stdio: 'inherit', cwd: root, env: process.env },
);
process.exit(result.status ?? 1);
