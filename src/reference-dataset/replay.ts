import type { FlowItem, JournalRecord } from '../protocol/types';
import type { Dataset } from './dataset';
import { CommandError, UnknownCommandError } from './errors';

/**
 * Applies the items of every flow of one session to a dataset the way Dragonfly's replica does: each
 * flow in its own order, no ordering across flows, except the global FLUSHALL/FLUSHDB commands that
 * the master journals on every flow with one txid (spec 5.4): each is applied once, after every flow
 * has reached it and before any flow goes past it.
 */

export interface TimedItem {
  item: FlowItem;
  /** absolute Unix ms at which the master produced it (for relative TTLs such as HSETEX) */
  atMs: number;
}

/** A FLUSH inside a JOURNAL_BLOB aborts the full sync; the replica starts over (spec 3.7). */
export class FullSyncRestart extends Error {
  constructor(
    readonly flowId: number,
    readonly txid: number,
  ) {
    super(
      `flow ${flowId}: FLUSH (txid ${txid}) arrived inside a JOURNAL_BLOB during full sync; ` +
        'Dragonfly aborts such a sync and the replica must full-sync again',
    );
    this.name = 'FullSyncRestart';
  }
}

export class FlowBarrierError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlowBarrierError';
  }
}

type CommandRecord = Extract<JournalRecord, { args: Buffer[] }>;

const GLOBAL_COMMANDS = new Set(['FLUSHALL', 'FLUSHDB']);

function commandOf(item: FlowItem): CommandRecord | null {
  if (item.kind !== 'journal') return null;
  const r = item.record;
  return r.op === 'command' || r.op === 'multi_command' || r.op === 'expired' ? r : null;
}

function globalCommand(item: FlowItem): CommandRecord | null {
  const r = commandOf(item);
  return r && GLOBAL_COMMANDS.has(r.args[0]?.toString('latin1').toUpperCase() ?? '') ? r : null;
}

function applyItem(dataset: Dataset, timed: TimedItem): void {
  const { item } = timed;
  if (item.kind === 'entry') {
    dataset.applySnapshotEntry(item.entry);
    return;
  }
  const r = commandOf(item);
  if (r) dataset.applyCommand(r.db, r.args, timed.atMs);
}

/** Prefixes where it happened to a model error's message (the error keeps its class). */
export function withContext(e: unknown, where: string): unknown {
  if (e instanceof CommandError || e instanceof UnknownCommandError) e.message = `${where}: ${e.message}`;
  return e;
}

/** Applies `flows` (index = flow id) to `dataset`. Throws FullSyncRestart or FlowBarrierError. */
export function replayFlows(dataset: Dataset, flows: TimedItem[][]): void {
  const pos = flows.map(() => 0);
  for (;;) {
    flows.forEach((items, flowId) => {
      while (pos[flowId]! < items.length) {
        const timed = items[pos[flowId]!]!;
        const barrier = globalCommand(timed.item);
        if (barrier && timed.item.kind === 'journal' && timed.item.inSnapshot) {
          throw new FullSyncRestart(flowId, barrier.txid);
        }
        if (barrier) break;
        try {
          applyItem(dataset, timed);
        } catch (e) {
          throw withContext(e, `flow ${flowId}, item ${pos[flowId]}`);
        }
        pos[flowId]!++;
      }
    });
    const waiting = flows.flatMap((items, flowId) => {
      const timed = items[pos[flowId]!];
      return timed ? [{ flowId, timed, record: globalCommand(timed.item)! }] : [];
    });
    if (waiting.length === 0) return;
    const first = waiting[0]!;
    const name = first.record.args[0]!.toString('latin1').toUpperCase();
    const ended = flows.map((_, id) => id).filter((id) => !waiting.some((w) => w.flowId === id));
    const other = waiting.find((w) => w.record.txid !== first.record.txid);
    if (ended.length > 0 || other) {
      const at = waiting.map((w) => `flow ${w.flowId}: txid ${w.record.txid}`).join(', ');
      throw new FlowBarrierError(
        `flows disagree at the ${name} barrier (${at}` +
          `${ended.length > 0 ? `; flows ${ended.join(', ')} ended without it` : ''}); ` +
          'every flow must carry each FLUSHALL/FLUSHDB with the same txid',
      );
    }
    dataset.applyCommand(first.record.db, first.record.args, first.timed.atMs);
    for (const w of waiting) pos[w.flowId]!++;
  }
}
