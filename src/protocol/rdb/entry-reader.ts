import { Cursor, hex } from '../cursor';
import { ExpireAtMs, KeyFlags, RdbValue, SnapshotEntry } from '../types';
import { RDB_OPCODE } from './opcodes';
import { StepReader } from './steps';
import { readString } from './strings';
import { isRdbTypeId } from './type-ids';
import { createValueReader, SUPPORTED_TYPES_TEXT } from './value-reader';

const DF_MASK_STICKY = 1;
const DF_MASK_MC_FLAGS = 2;

/** Everything of a key entry before its value. */
export interface EntryHeader {
  rdbType: number;
  key: Buffer;
  expireAtMs: ExpireAtMs;
  flags: KeyFlags;
}

/** Reads `[0xFC int64 expiry][0xDC flags [mc flags]] type key` (spec 4.1). */
export function readEntryHeader(c: Cursor): EntryHeader {
  let expireAtMs: ExpireAtMs = null;
  let sticky = false;
  let mcFlags: number | null = null;
  for (;;) {
    const at = c.pos;
    const b = c.u8();
    if (b === RDB_OPCODE.EXPIRETIME_MS) {
      expireAtMs = c.i64le();
    } else if (b === RDB_OPCODE.DF_MASK) {
      const mask = c.u32le();
      sticky = (mask & DF_MASK_STICKY) !== 0;
      mcFlags = mask & DF_MASK_MC_FLAGS ? c.u32le() : null;
    } else {
      if (!isRdbTypeId(b)) {
        throw c.error(
          'key entry type',
          `an RDB type id (${SUPPORTED_TYPES_TEXT}), got ${b} (0x${hex(b)})`,
          at,
        );
      }
      const key = readString(c, 'key');
      return { rdbType: b, key, expireAtMs, flags: { sticky, mcFlags } };
    }
  }
}

export function snapshotEntry(db: number, header: EntryHeader, value: RdbValue): SnapshotEntry {
  return {
    db,
    key: header.key,
    expireAtMs: header.expireAtMs,
    flags: header.flags,
    rdbType: header.rdbType,
    value,
  };
}

/**
 * One key entry read in steps: the header (unless the caller already read it), then the value's
 * own steps. Used for big untagged entries and for the reassembled payload of tagged chunks.
 */
export class EntryReader implements StepReader<SnapshotEntry> {
  private header: EntryHeader | null = null;
  private value: StepReader<RdbValue> | null = null;

  constructor(
    private readonly db: number,
    private readonly rdbVersion: number,
    header: EntryHeader | null = null,
  ) {
    if (header) this.start(header);
  }

  step(c: Cursor): boolean {
    if (this.value) return this.value.step(c);
    this.start(readEntryHeader(c));
    return false;
  }

  private start(header: EntryHeader): void {
    this.header = header;
    this.value = createValueReader(header.rdbType, this.rdbVersion);
  }

  result(): SnapshotEntry {
    return snapshotEntry(this.db, this.header!, this.value!.result());
  }
}
