import { decimalText } from './element-text';
import { ProtocolError } from './errors';

/**
 * Redis intset (spec 4.4, SET_INTSET): uint32 LE element width (2, 4 or 8 bytes), uint32 LE count,
 * then count signed little-endian integers in strictly ascending order.
 */

const ITEM = 'intset';
const HEADER_SIZE = 8;

/** Decodes a whole intset into its members as decimal text. `base` = stream offset of `buf[0]`. */
export function decodeIntset(buf: Buffer, base = 0): Buffer[] {
  const fail = (at: number, expected: string): ProtocolError =>
    new ProtocolError({ offset: base + at, item: ITEM, expected });
  if (buf.length < HEADER_SIZE) throw fail(0, `at least ${HEADER_SIZE} header bytes, got ${buf.length}`);
  const width = buf.readUInt32LE(0);
  if (width !== 2 && width !== 4 && width !== 8) throw fail(0, `an element width of 2, 4 or 8, got ${width}`);
  const count = buf.readUInt32LE(4);
  if (HEADER_SIZE + count * width !== buf.length) {
    throw fail(4, `${count} elements of ${width} bytes to fill its ${buf.length} bytes exactly`);
  }
  const out: Buffer[] = new Array<Buffer>(count);
  if (width === 8) {
    let prev = 0n;
    for (let i = 0, p = HEADER_SIZE; i < count; i++, p += 8) {
      const v = buf.readBigInt64LE(p);
      if (i > 0 && v <= prev) throw fail(p, `members in strictly ascending order, ${v} follows ${prev}`);
      out[i] = decimalText(v);
      prev = v;
    }
    return out;
  }
  let prev = 0;
  for (let i = 0, p = HEADER_SIZE; i < count; i++, p += width) {
    const v = width === 2 ? buf.readInt16LE(p) : buf.readInt32LE(p);
    if (i > 0 && v <= prev) throw fail(p, `members in strictly ascending order, ${v} follows ${prev}`);
    out[i] = decimalText(v);
    prev = v;
  }
  return out;
}
