import { Cursor, hex } from '../cursor';
import { ExpireAtMs, KeyFlags, RdbValue, SnapshotEntry } from '../types';
import { StepReader } from './steps';
import { createValueReader, SUPPORTED_TYPES_TEXT } from './value-reader';

/** Key-entry prefixes (spec 3.3 / 4.1): they apply to the next entry only. */
export const OPCODE_EXPIRETIME_MS = 0xfc;
export const OPCODE_DF_MASK = 0xdc;

const DF_MASK_STICKY = 1;
const DF_MASK_MC_FLAGS = 2;

/**
 * One key entry (spec 4.1): `[0xFC int64 expiry][0xDC flags [mc flags]] type key value`. The prefixes,
 * type and key are one step; the value is read in its own steps. Used for untagged entries and for
 * the reassembled payload of tagged chunks alike.
 */
export class EntryReader implements StepReader<SnapshotEntry> {
  private value: StepReader<RdbValue> | null = null;
  private rdbType = 0;
  private key: Buffer = Buffer.alloc(0);
  private expireAtMs: ExpireAtMs = null;
  private flags: KeyFlags = { sticky: false, mcFlags: null };

  constructor(
    private readonly db: number,
    private readonly rdbVersion: number,
  ) {}

  step(c: Cursor): boolean {
    if (this.value) return this.value.step(c);
    this.readHeader(c);
    return false;
  }

  private readHeader(c: Cursor): void {
    let expireAtMs: ExpireAtMs = null;
    let sticky = false;
    let mcFlags: number | null = null;
    for (;;) {
      const at = c.pos;
      const b = c.u8();
      if (b === OPCODE_EXPIRETIME_MS) {
        expireAtMs = c.i64le();
      } else if (b === OPCODE_DF_MASK) {
        const mask = c.u32le();
        sticky = (mask & DF_MASK_STICKY) !== 0;
        mcFlags = mask & DF_MASK_MC_FLAGS ? c.u32le() : null;
      } else {
        const reader = createValueReader(b, this.rdbVersion);
        if (!reader) {
          throw c.error(
            'key entry type',
            `an RDB type id (${SUPPORTED_TYPES_TEXT}), got ${b} (0x${hex(b)})`,
            at,
          );
        }
        const key = c.rdbString('key');
        this.rdbType = b;
        this.key = key;
        this.expireAtMs = expireAtMs;
        this.flags = { sticky, mcFlags };
        this.value = reader;
        return;
      }
    }
  }

  result(): SnapshotEntry {
    return {
      db: this.db,
      key: this.key,
      expireAtMs: this.expireAtMs,
      flags: this.flags,
      rdbType: this.rdbType,
      value: this.value!.result(),
    };
  }
}
