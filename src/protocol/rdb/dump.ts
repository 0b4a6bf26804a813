import { Cursor, hex } from '../cursor';
import { isNeedMore, ProtocolError } from '../errors';
import { RdbValue } from '../types';
import { crc64Jones } from './crc64';
import { isSupportedRdbVersion, MAX_RDB_VERSION, MIN_RDB_VERSION } from './rdb-version';
import { createValueReader, SUPPORTED_TYPES_TEXT } from './value-reader';

/**
 * A DUMP / RESTORE payload (spec 9.8, 4.8): type byte, value, uint16 LE RDB version, CRC-64/Jones
 * LE over everything before the CRC. The journal carries RESTORE for cross-shard RENAME/COPY.
 */

const ITEM = 'RESTORE payload';
const TRAILER_BYTES = 2 + 8;

export function decodeDumpPayload(payload: Buffer): { rdbType: number; value: RdbValue } {
  const fail = (offset: number, expected: string): ProtocolError =>
    new ProtocolError({ offset, item: ITEM, expected });
  if (payload.length < 1 + TRAILER_BYTES) {
    throw fail(
      0,
      `type byte, value, 2-byte version and 8-byte CRC (at least 11 bytes), got ${payload.length}`,
    );
  }
  const crcAt = payload.length - 8;
  const stored = payload.readBigUInt64LE(crcAt);
  const computed = crc64Jones(payload.subarray(0, crcAt));
  if (stored !== computed) {
    throw fail(crcAt, `CRC64 ${hex64(computed)} over the payload, got ${hex64(stored)} (payload corrupted)`);
  }
  const versionAt = crcAt - 2;
  const version = payload.readUInt16LE(versionAt);
  if (!isSupportedRdbVersion(version)) {
    throw fail(versionAt, `RDB version ${MIN_RDB_VERSION}-${MAX_RDB_VERSION}, got ${version}`);
  }
  const rdbType = payload[0]!;
  const reader = createValueReader(rdbType, version);
  if (!reader) throw fail(0, `an RDB type id (${SUPPORTED_TYPES_TEXT}), got ${rdbType} (0x${hex(rdbType)})`);
  const c = new Cursor(payload, 1, versionAt);
  try {
    while (!reader.step(c));
  } catch (e) {
    if (isNeedMore(e)) throw fail(versionAt, 'a value that ends before the version trailer, it runs past it');
    throw e;
  }
  if (c.pos !== versionAt) {
    throw fail(c.pos, `the version trailer right after the value, ${versionAt - c.pos} bytes are left over`);
  }
  return { rdbType, value: reader.result() };
}

function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}
