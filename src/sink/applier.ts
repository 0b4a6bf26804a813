/**
 * Event → what to do in Redis, as data (no I/O). One Applier serves the partitions of one process;
 * state is kept per flow: the stream value being written chunk by chunk, and journal commands whose
 * arguments arrive in several chunks (applied once whole).
 */
import type { ChangeEvent, JournalCommand } from '../events/model';
import { ValueReassembler } from '../events/reassemble';
import type { TargetCapabilities } from '../targets/capabilities';
import { command, type RedisCommand } from './commands';
import type { KeyMapping } from './db-mapping';
import type { DegradePolicy, Translation, TranslateContext } from './translate/context';
import { journalTranslation } from './translate/journal';
import { snapshotTranslation } from './translate/snapshot';
import { newStreamChunkState, type StreamChunkState } from './translate/stream';

export type ApplyPlan =
  | Translation
  /** a chunk of a journal command: nothing to run until its last chunk */
  | { kind: 'pending'; row: 'chunk' }
  /** a new full sync of the source begins (epoch policy decides) */
  | { kind: 'snapshotStarted'; row: 'snapshot-started'; epoch: number; flows: number };

export interface ApplierOptions {
  capabilities: TargetCapabilities;
  degrade: DegradePolicy;
  keys: KeyMapping;
}

/** True for a chunk of a split value that is not its last: the value is still open after it. */
export function opensValue(event: ChangeEvent): boolean {
  const p = event.payload;
  return (p.type === 'SnapshotRecord' || p.type === 'JournalCommand') && p.chunk.index < p.chunk.count - 1;
}

export class Applier {
  private readonly streams = new Map<number, StreamChunkState>();
  private readonly commands = new ValueReassembler();

  constructor(private readonly options: ApplierOptions) {}

  /** What to do for `event`; `nowMs` is the wall clock (already-expired keys are not written). */
  plan(event: ChangeEvent, nowMs: number): ApplyPlan {
    const ctx: TranslateContext = { ...this.options, nowMs, eventTimeMs: event.source.timestampMs };
    const payload = event.payload;
    const flow = event.source.flow;
    switch (payload.type) {
      case 'SnapshotRecord': {
        if (payload.chunk.index === 0) this.streams.set(flow, newStreamChunkState());
        const state = this.streams.get(flow) ?? newStreamChunkState();
        if (payload.chunk.index === payload.chunk.count - 1) this.streams.delete(flow);
        return snapshotTranslation(payload, ctx, state);
      }
      case 'JournalCommand': {
        if (payload.chunk.count === 1) return journalTranslation(payload, ctx);
        const whole = this.commands.push(event);
        return whole === null
          ? { kind: 'pending', row: 'chunk' }
          : journalTranslation(whole.payload as JournalCommand, ctx);
      }
      case 'ExpiredKey':
        return this.expired(payload.db, payload.keys, ctx);
      case 'SnapshotStarted':
        return {
          kind: 'snapshotStarted',
          row: 'snapshot-started',
          epoch: payload.epoch,
          flows: payload.flows,
        };
      case 'TransactionExec':
      case 'SnapshotFinished':
      case 'StableSyncStarted':
      case 'Heartbeat':
        return { kind: 'skip', row: 'marker', reason: `${payload.type} carries no data` };
    }
  }

  /** Forgets a flow's open values (its partition was revoked or is re-read from its position). */
  reset(flow: number): void {
    this.streams.delete(flow);
    this.commands.discard(flow);
  }

  private expired(db: number, keys: Buffer[], ctx: TranslateContext): Translation {
    const commands: RedisCommand[] = keys.map((k) => command(ctx.keys.db(db), 'DEL', ctx.keys.key(db, k)));
    return { kind: 'commands', row: 'expired', exact: true, commands };
  }
}
