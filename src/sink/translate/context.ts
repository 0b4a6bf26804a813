/**
 * What every translation needs: the target's capabilities, the degrade policies, where keys go
 * (db mapping) and the clocks. Pure data; the applier builds one per event.
 */
import type { SinkConfig } from '../../config/sink';
import type { TargetCapabilities } from '../../targets/capabilities';
import type { KeyMapping } from '../db-mapping';

export type DegradePolicy = SinkConfig['degrade'];

export interface TranslateContext {
  capabilities: TargetCapabilities;
  degrade: DegradePolicy;
  keys: KeyMapping;
  /** wall clock at apply time: keys whose absolute expiry has passed are not written */
  nowMs: number;
  /** when the master produced the event: relative TTLs in the journal are counted from it */
  eventTimeMs: number;
}

/** The translation-table row that handled a command, for metrics and the docs' table. */
export type Row = string;

/**
 * - commands: run these (possibly none)
 * - skip: nothing to run, on purpose (logged and counted under its row)
 * - barrier: FLUSHALL/FLUSHDB, applied once across all flows (sink/barrier.ts)
 * - deadLetter: the target cannot take it and the policy says dead-letter it
 * - unsupported: the target cannot take it and no policy covers it: an event error (errors.tolerance)
 */
export type Translation =
  | { kind: 'commands'; row: Row; exact: boolean; commands: import('../commands').RedisCommand[] }
  | { kind: 'skip'; row: Row; reason: string }
  | { kind: 'barrier'; row: Row; scope: { all: true } | { all: false; db: number } }
  | { kind: 'deadLetter'; row: Row; reason: string }
  | { kind: 'unsupported'; row: Row; reason: string };
