import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureSessions } from '../../src/capture/session';

/**
 * The flow streams of the recorded fixtures (shared/fixtures/<version>/<scenario>/session.dfcap.gz):
 * for every FULL or PARTIAL flow, the master → replica bytes after the DFLY FLOW reply, as the TCP
 * reads delivered them, with what a FlowStreamParser needs to know about the flow.
 */

export const FIXTURES_ROOT = join(__dirname, '..', '..', '..', 'shared', 'fixtures');

export interface FixtureFlow {
  /** e.g. "dragonfly-v1.40.1/types" */
  fixture: string;
  syncId: string;
  flowId: number;
  start: 'rdb' | 'journal';
  eofToken: string;
  chunks: Buffer[];
  bytes: number;
}

/** Every fixture capture path, as "<version>/<scenario>" → absolute path of session.dfcap.gz. */
export function fixtureCaptures(): { fixture: string; path: string }[] {
  if (!existsSync(FIXTURES_ROOT)) return [];
  const out: { fixture: string; path: string }[] = [];
  for (const version of readdirSync(FIXTURES_ROOT).sort()) {
    const dir = join(FIXTURES_ROOT, version);
    if (!existsSync(dir) || version.endsWith('.md')) continue;
    for (const scenario of readdirSync(dir).sort()) {
      const path = join(dir, scenario, 'session.dfcap.gz');
      if (existsSync(path)) out.push({ fixture: `${version}/${scenario}`, path });
    }
  }
  return out;
}

export function fixtureFlows(fixture: string, path: string): FixtureFlow[] {
  const flows: FixtureFlow[] = [];
  for (const session of readCaptureSessions(path).sessions) {
    for (const flow of session.flows) {
      const reply = flow.reply;
      if (!reply || reply.mode === 'error') continue;
      const chunks = flow.stream.map((s) => s.bytes);
      flows.push({
        fixture,
        syncId: session.syncId,
        flowId: flow.flowId,
        start: reply.mode === 'FULL' ? 'rdb' : 'journal',
        eofToken: reply.eofToken,
        chunks,
        bytes: chunks.reduce((n, b) => n + b.length, 0),
      });
    }
  }
  return flows;
}
