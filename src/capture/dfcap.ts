import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/**
 * The recorded-session format of shared/fixtures (`.dfcap`, optionally gzipped): a 7-byte magic, then
 * records of u8 direction, u16 connection, u64 micros, u32 length, payload — all little endian.
 */
export const DFCAP_MAGIC = Buffer.from('DFCAP1\n', 'latin1');

export enum CaptureDirection {
  ReplicaToMaster = 0,
  MasterToReplica = 1,
  Opened = 2,
  Closed = 3,
}

export interface CaptureRecord {
  direction: CaptureDirection;
  /** connection index in accept order; 0 is the first main connection */
  connection: number;
  /** microseconds since the recording started */
  micros: number;
  payload: Buffer;
}

export class CaptureFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureFormatError';
  }
}

/** Reads a whole capture file (gzip is detected by its magic bytes). */
export function readCaptureFile(path: string): CaptureRecord[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CaptureFormatError(`cannot read capture ${path}: ${(e as Error).message}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return parseCapture(bytes, path);
}

export function parseCapture(bytes: Buffer, name = 'capture'): CaptureRecord[] {
  if (bytes.length < DFCAP_MAGIC.length || !bytes.subarray(0, DFCAP_MAGIC.length).equals(DFCAP_MAGIC)) {
    throw new CaptureFormatError(`${name} is not a dragonfly-cdc capture (expected magic "DFCAP1\\n")`);
  }
  const records: CaptureRecord[] = [];
  let pos = DFCAP_MAGIC.length;
  while (pos < bytes.length) {
    if (pos + 15 > bytes.length) {
      throw new CaptureFormatError(`${name}: record header cut short at byte ${pos}`);
    }
    const direction = bytes[pos]!;
    if (direction > 3) throw new CaptureFormatError(`${name}: unknown direction ${direction} at byte ${pos}`);
    const connection = bytes.readUInt16LE(pos + 1);
    const micros = Number(bytes.readBigUInt64LE(pos + 3));
    const length = bytes.readUInt32LE(pos + 11);
    const start = pos + 15;
    if (start + length > bytes.length) {
      throw new CaptureFormatError(`${name}: record at byte ${pos} says ${length} bytes, file ends first`);
    }
    records.push({ direction, connection, micros, payload: bytes.subarray(start, start + length) });
    pos = start + length;
  }
  return records;
}

/** Encodes records in the same format (used by `capture record` and by tests building captures). */
export function encodeCaptureRecord(record: CaptureRecord): Buffer {
  const header = Buffer.alloc(15);
  header[0] = record.direction;
  header.writeUInt16LE(record.connection, 1);
  header.writeBigUInt64LE(BigInt(record.micros), 3);
  header.writeUInt32LE(record.payload.length, 11);
  return Buffer.concat([header, record.payload]);
}
