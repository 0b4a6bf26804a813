import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ExpectedDataset } from '../../src/reference-dataset/expected-json';

/**
 * The one way tests, benches and the fuzz corpus find the recorded sessions: `FIXTURES_DIR`, else
 * `<repo>/../shared/fixtures`. Every `dragonfly-<version>/<scenario>/` folder holding a
 * `session.dfcap[.gz]` is a fixture, so recordings added later are picked up without touching the
 * tests; a test that needs one scenario looks it up by name with findFixture.
 */

export interface FixtureMeta {
  scenario: string;
  dragonflyVersion: string;
  masterFlags: string;
  officialReplicaAgreed: boolean;
  capturedAt: string;
  [field: string]: unknown;
}

export interface Fixture {
  /** "<version dir>/<scenario>" */
  name: string;
  dir: string;
  capturePath: string;
  /** bytes of the capture file, for picking fewer random chunkings on big ones */
  captureBytes: number;
}

export function fixturesRoot(): string {
  return resolve(process.env.FIXTURES_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'fixtures'));
}

function captureIn(dir: string): string | null {
  for (const name of ['session.dfcap.gz', 'session.dfcap'])
    if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

export function listFixtures(root = fixturesRoot()): Fixture[] {
  if (!existsSync(root)) {
    throw new Error(`fixtures directory ${root} does not exist; set FIXTURES_DIR to the recorded sessions`);
  }
  const fixtures: Fixture[] = [];
  for (const version of readdirSync(root).sort()) {
    const versionDir = join(root, version);
    if (!version.startsWith('dragonfly-') || !statSync(versionDir).isDirectory()) continue;
    for (const scenario of readdirSync(versionDir).sort()) {
      const dir = join(versionDir, scenario);
      const capturePath = statSync(dir).isDirectory() ? captureIn(dir) : null;
      if (!capturePath) continue;
      fixtures.push({
        name: `${version}/${scenario}`,
        dir,
        capturePath,
        captureBytes: statSync(capturePath).size,
      });
    }
  }
  return fixtures;
}

/**
 * One fixture by its full name, e.g. "dragonfly-v1.40.1/types" (tests that check recorded bytes name
 * the version they were written against).
 */
export function findFixture(name: string): Fixture {
  const fixtures = listFixtures();
  const found = fixtures.find((f) => f.name === name);
  if (!found) {
    throw new Error(
      `fixture ${name} not found under ${fixturesRoot()} (found: ${fixtures.map((f) => f.name).join(', ') || 'none'}); ` +
        'set FIXTURES_DIR to the folder of the recorded sessions',
    );
  }
  return found;
}

export function loadMeta(fixture: Fixture): FixtureMeta {
  return JSON.parse(readFileSync(join(fixture.dir, 'meta.json'), 'utf8')) as FixtureMeta;
}

export function loadExpected(fixture: Fixture): ExpectedDataset {
  const gz = join(fixture.dir, 'expected.json.gz');
  const bytes = existsSync(gz)
    ? gunzipSync(readFileSync(gz))
    : readFileSync(join(fixture.dir, 'expected.json'));
  return JSON.parse(bytes.toString('utf8')) as ExpectedDataset;
}
