import { test } from 'node:test';
import assert from 'node:assert';
import { readCaptureSessions } from '../../../src/capture/session';
import type { JournalEntry } from '../../../src/protocol/journal';
import {
  auxField,
  fullSyncEnd,
  journalBlob,
  journalOffset,
  journalRecord,
  lsnEntry,
  rdbEof,
  rdbHeader,
  selectDb,
  snapshotEntry,
} from '../../../src/testmaster/encoder';
import { findFixture } from '../../support/fixtures';
import { walkFlow, type WalkedItem } from './flow-walker';

/**
 * The encoder against real bytes: every flow of a fixture is split into its items (compressed blobs
 * opened), each item is decoded and encoded again, and the result must equal the master's bytes.
 */

function encodeJournalEntry(entry: JournalEntry): Buffer {
  return entry.kind === 'lsn' ? lsnEntry(entry.lsn) : journalRecord(entry.record);
}

function reencode(item: WalkedItem): Buffer {
  switch (item.kind) {
    case 'aux':
      return auxField(item.key, item.value);
    case 'selectDb':
      return selectDb(item.db);
    case 'entry':
      return snapshotEntry(item.entry);
    case 'blob':
      return journalBlob(encodeJournalEntry(item.record));
    case 'fullSyncEnd':
      return fullSyncEnd();
    case 'journalOffset':
      return journalOffset(item.lsn);
    case 'eof':
      return rdbEof(item.token);
    case 'journal':
      return encodeJournalEntry(item.entry);
  }
}

function label(item: WalkedItem): string {
  if (item.kind === 'entry') return `entry type ${item.entry.rdbType}`;
  if (item.kind === 'journal') return item.entry.kind === 'lsn' ? 'journal LSN' : 'journal record';
  return item.kind;
}

interface Tally {
  matched: Map<string, number>;
  skipped: Map<string, number>;
  mismatches: string[];
}

function checkFixture(name: string): Tally {
  const { sessions } = readCaptureSessions(findFixture(`dragonfly-v1.40.1/${name}`).capturePath);
  const tally: Tally = { matched: new Map(), skipped: new Map(), mismatches: [] };
  for (const session of sessions) {
    for (const flow of session.flows) {
      if (flow.reply?.mode !== 'FULL' && flow.reply?.mode !== 'PARTIAL') continue;
      const stream = Buffer.concat(flow.stream.map((c) => c.bytes));
      const walked = walkFlow(stream, flow.reply.mode, flow.reply.eofToken);
      for (const [reason, n] of walked.skipped)
        tally.skipped.set(reason, (tally.skipped.get(reason) ?? 0) + n);
      for (const item of walked.items) {
        const encoded = reencode(item);
        if (encoded.equals(item.bytes)) {
          tally.matched.set(label(item), (tally.matched.get(label(item)) ?? 0) + 1);
        } else if (tally.mismatches.length < 5) {
          tally.mismatches.push(
            `${session.syncId} flow ${flow.flowId} ${label(item)}: recorded ${item.bytes.toString('hex').slice(0, 160)} ` +
              `encoded ${encoded.toString('hex').slice(0, 160)}`,
          );
        }
      }
    }
  }
  return tally;
}

const summary = (m: Map<string, number>): string =>
  [...m.entries()]
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');

for (const fixture of [
  'types',
  'auth',
  'flushes',
  'reconnect',
  'stale_resync',
  'big_values',
  'fullsync_writes',
]) {
  test(`encoder reproduces the items of fixture ${fixture} byte for byte`, (t) => {
    const tally = checkFixture(fixture);
    t.diagnostic(`matched ${summary(tally.matched)}`);
    if (tally.skipped.size > 0) t.diagnostic(`not comparable: ${summary(tally.skipped)}`);
    assert.deepStrictEqual(tally.mismatches, []);
    assert.ok((tally.matched.get('journal record') ?? 0) > 0, 'some journal records were compared');
  });
}

test('rdbHeader reproduces the whole AUX header of every flow of fixture types', () => {
  const { sessions } = readCaptureSessions(findFixture('dragonfly-v1.40.1/types').capturePath);
  for (const flow of sessions[0]!.flows) {
    const stream = Buffer.concat(flow.stream.map((c) => c.bytes));
    const aux = walkFlow(stream, 'FULL', 'x'.repeat(40)).items.filter((i) => i.kind === 'aux');
    const value = (key: string): number => {
      const found = aux.find((i) => i.key === key);
      return Number(found?.kind === 'aux' ? found.value.toString() : NaN);
    };
    const header = rdbHeader({
      flowId: flow.flowId,
      ctime: value('ctime'),
      usedMem: value('used-mem'),
      shardCount: flow.flowId === 0 ? value('shard-count') : undefined,
      tableMem: flow.flowId === 0 ? value('table-mem') : undefined,
    });
    assert.ok(stream.subarray(0, header.length).equals(header), `flow ${flow.flowId} header`);
    assert.notStrictEqual(stream[header.length], 0xfa, `flow ${flow.flowId}: no AUX field left over`);
  }
});
