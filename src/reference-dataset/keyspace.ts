import type { RdbValue } from '../protocol/types';
import type { ModelValue } from './values';

export interface KeyRecord {
  key: Buffer;
  value: ModelValue;
  /** absolute Unix ms, null = no expiry */
  expireAtMs: number | null;
  sticky: boolean;
  mcFlags: number | null;
}

/** Decodes a DUMP payload (RESTORE): the parser layer provides it, the dataset stays I/O-free. */
export type DumpDecoder = (payload: Buffer) => { rdbType: number; value: RdbValue };

/**
 * What command handlers may do to a dataset. Handlers depend on this view rather than on Dataset,
 * which holds the command table: that keeps the dependency one-way.
 */
export interface KeySpace {
  readonly decodeDump: DumpDecoder | undefined;
  get(db: number, key: Buffer): KeyRecord | undefined;
  set(db: number, record: KeyRecord): void;
  delete(db: number, key: Buffer): boolean;
  flushDb(db: number): void;
  flushAll(): void;
}
