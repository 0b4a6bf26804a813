import type { KeyRecord, KeySpace } from '../keyspace';
import { CommandError, UnknownCommandError } from '../errors';
import type { ModelType, ModelValue } from '../values';

type ValueOf<T extends ModelType> = Extract<ModelValue, { type: T }>;

/** What a command handler sees: the dataset, the selected db, the record's time, argument helpers. */
export class CommandContext {
  constructor(
    readonly dataset: KeySpace,
    readonly db: number,
    readonly nowMs: number,
    readonly command: string,
    /** the whole record, name first (for error messages) */
    readonly journaled: Buffer[] = [],
  ) {}

  fail(message: string): never {
    throw new CommandError(`${this.command}: ${message}`);
  }

  /** This form of the command cannot be reproduced from the journal; `reason` says why. */
  cannot(reason: string): never {
    throw new UnknownCommandError(this.command, this.journaled, reason);
  }

  arg(args: Buffer[], i: number, what: string): Buffer {
    const a = args[i];
    if (a === undefined) this.fail(`missing ${what} (argument ${i + 1})`);
    return a;
  }

  record(key: Buffer): KeyRecord | undefined {
    return this.dataset.get(this.db, key);
  }

  /** The key's value if it exists and has `type`; undefined if missing; WRONGTYPE otherwise. */
  lookup<T extends ModelType>(key: Buffer, type: T): ValueOf<T> | undefined {
    const rec = this.record(key);
    if (!rec) return undefined;
    if (rec.value.type !== type) {
      this.fail(`WRONGTYPE key ${key.toString('latin1')} holds a ${rec.value.type}, not a ${type}`);
    }
    return rec.value as ValueOf<T>;
  }

  /** The existing value of `type`, or a new empty one stored under `key` (no TTL). */
  lookupOrCreate<T extends ModelType>(key: Buffer, type: T, empty: () => ValueOf<T>): ValueOf<T> {
    const found = this.lookup(key, type);
    if (found) return found;
    const value = empty();
    this.dataset.set(this.db, { key, value, expireAtMs: null, sticky: false, mcFlags: null });
    return value;
  }

  /** Stores a value, keeping nothing of a previous key (TTL cleared unless given). */
  put(key: Buffer, value: ModelValue, expireAtMs: number | null = null): void {
    this.dataset.set(this.db, { key, value, expireAtMs, sticky: false, mcFlags: null });
  }

  delete(key: Buffer): boolean {
    return this.dataset.delete(this.db, key);
  }

  /** Containers that became empty disappear (as in Redis/Dragonfly). */
  deleteIfEmpty(key: Buffer, size: number): void {
    if (size === 0) this.delete(key);
  }

  upper(arg: Buffer | undefined): string {
    return arg === undefined ? '' : arg.toString('latin1').toUpperCase();
  }

  int(arg: Buffer | undefined, what: string): number {
    const s = arg?.toString('latin1') ?? '';
    if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) this.fail(`${what} "${s}" is not an integer`);
    return Number(s);
  }

  bigint(arg: Buffer | undefined, what: string): bigint {
    const s = arg?.toString('latin1') ?? '';
    if (!/^-?\d+$/.test(s)) this.fail(`${what} "${s}" is not an integer`);
    const n = BigInt(s);
    if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) this.fail(`${what} "${s}" is out of the int64 range`);
    return n;
  }

  float(arg: Buffer | undefined, what: string): number {
    const s = (arg?.toString('latin1') ?? '').trim();
    const lower = s.toLowerCase();
    if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
    if (lower === '-inf' || lower === '-infinity') return -Infinity;
    const n = Number(s);
    if (s === '' || Number.isNaN(n)) this.fail(`${what} "${s}" is not a number`);
    return n;
  }
}

/** A command: the arguments after the name. */
export type CommandHandler = (ctx: CommandContext, args: Buffer[]) => void;

/** How Dragonfly prints a float result (INCRBYFLOAT, HINCRBYFLOAT): shortest round-trip text. */
export function formatFloat(n: number): Buffer {
  if (Number.isInteger(n) && Math.abs(n) < 1e17) return Buffer.from(n.toFixed(0), 'latin1');
  return Buffer.from(String(n), 'latin1');
}
