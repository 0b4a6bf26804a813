import { readCaptureSessions } from '../../src/capture/session';
import type { Fixture } from './fixtures';

/**
 * The flow streams of a recorded capture (a fixture found with fixtures.ts, or any capture file): for
 * every FULL or PARTIAL flow, the master → replica bytes after the DFLY FLOW reply, as the TCP reads
 * delivered them, with what a FlowStreamParser needs to know about the flow.
 */

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

/** `capture.name` labels the flows (a fixture's name, or a capture file's path). */
export function fixtureFlows(capture: Pick<Fixture, 'name' | 'capturePath'>): FixtureFlow[] {
  const flows: FixtureFlow[] = [];
  for (const session of readCaptureSessions(capture.capturePath).sessions) {
    for (const flow of session.flows) {
      const reply = flow.reply;
      if (!reply || reply.mode === 'error') continue;
      const chunks = flow.stream.map((s) => s.bytes);
      flows.push({
        fixture: capture.name,
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
