import type { SnapshotEntry } from '../protocol/types';
import { COMMANDS } from './commands';
import { UNSUPPORTED_COMMANDS } from './commands/unsupported';
import { CommandContext } from './commands/context';
import { UnknownCommandError } from './errors';
import type { DumpDecoder, KeyRecord, KeySpace } from './keyspace';
import { fromRdbValue, mapKey } from './values';

export interface DatasetOptions {
  decodeDump?: DumpDecoder;
}

/**
 * An in-memory Dragonfly dataset: db index → key → value, TTL and key flags. It changes only through
 * snapshot entries (replace semantics, spec 3.7/4.8) and journal commands executed as the master did
 * (spec 5.5). Expiry is not applied on the fly: the master journals a DEL when a key expires; keys
 * whose TTL has passed are filtered when the dataset is read out (expected-json.ts).
 */
export class Dataset implements KeySpace {
  readonly dbs = new Map<number, Map<string, KeyRecord>>();
  readonly decodeDump: DumpDecoder | undefined;

  constructor(options: DatasetOptions = {}) {
    this.decodeDump = options.decodeDump;
  }

  private keys(db: number): Map<string, KeyRecord> {
    let keys = this.dbs.get(db);
    if (!keys) this.dbs.set(db, (keys = new Map()));
    return keys;
  }

  get(db: number, key: Buffer): KeyRecord | undefined {
    return this.dbs.get(db)?.get(mapKey(key));
  }

  set(db: number, record: KeyRecord): void {
    this.keys(db).set(mapKey(record.key), record);
  }

  delete(db: number, key: Buffer): boolean {
    const keys = this.dbs.get(db);
    return keys ? keys.delete(mapKey(key)) : false;
  }

  flushDb(db: number): void {
    this.dbs.delete(db);
  }

  flushAll(): void {
    this.dbs.clear();
  }

  get size(): number {
    let n = 0;
    for (const keys of this.dbs.values()) n += keys.size;
    return n;
  }

  /** A snapshot entry replaces the whole key: value, TTL and flags (never merged, spec 3.7). */
  applySnapshotEntry(entry: SnapshotEntry): void {
    this.set(entry.db, {
      key: entry.key,
      value: fromRdbValue(entry.value),
      expireAtMs: entry.expireAtMs,
      sticky: entry.flags.sticky,
      mcFlags: entry.flags.mcFlags,
    });
  }

  /**
   * Executes one journaled command (name first, then arguments) in `db`. `nowMs` is the time the
   * master ran it: commands with relative TTLs (HSETEX, SADDEX) are evaluated against it.
   */
  applyCommand(db: number, args: Buffer[], nowMs: number): void {
    const name = (args[0] ?? Buffer.alloc(0)).toString('latin1').toUpperCase();
    const handler = COMMANDS.get(name);
    if (!handler) throw new UnknownCommandError(name, args, UNSUPPORTED_COMMANDS.get(name));
    handler(new CommandContext(this, db, nowMs, name, args), args.slice(1));
  }
}
