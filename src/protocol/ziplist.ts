import {
  checkContainerFrame,
  containerFail,
  CONTAINER_TERMINATOR,
  type ContainerFail,
} from './container-frame';
import { hex } from './cursor';
import { decimalText, ownCopy } from './element-text';

/**
 * Redis ziplist (spec 4.5; hashes/zsets of masters ≤ v1.30, list nodes ≤ v1.23): uint32 LE total
 * bytes, uint32 LE offset of the last entry, uint16 LE count (65535 = unknown), entries, 0xFF.
 * Entry = prevlen (1 byte, or 0xFE + uint32 LE), encoding, data.
 */

const ITEM = 'ziplist';
const HEADER_SIZE = 10;
const PREVLEN_LONG = 0xfe;
const UNKNOWN_COUNT = 65535;
const STR_32 = 0x80;

/**
 * Decodes a whole ziplist into its entries, in order; integer entries become canonical decimal text.
 * Total size, tail offset, count, every prevlen and the terminator are checked. Nothing returned shares
 * memory with `buf`: strings are views of one private copy. `base` = stream offset of `buf[0]`.
 */
export function decodeZiplist(buf: Buffer, base = 0): Buffer[] {
  const fail = containerFail(ITEM, base);
  checkContainerFrame(buf, HEADER_SIZE, fail);
  const tail = buf.readUInt32LE(4);
  const declaredCount = buf.readUInt16LE(8);
  const end = buf.length - 1;
  const own = ownCopy(buf);
  const need = (at: number, n: number): void => {
    if (at + n > end)
      throw fail(at, `an entry part of ${n} bytes before the terminator, only ${end - at} left`);
  };
  const out: Buffer[] = [];
  let p = HEADER_SIZE;
  let prevSize = 0;
  let lastEntry = HEADER_SIZE;
  while (p < end) {
    const start = p;
    const b0 = buf[p]!;
    if (b0 === CONTAINER_TERMINATOR) throw fail(p, `the terminator only at the last byte (${base + end})`);
    let prevlen = b0;
    if (b0 === PREVLEN_LONG) {
      need(p, 5);
      prevlen = buf.readUInt32LE(p + 1);
      p += 5;
    } else {
      p += 1;
    }
    if (prevlen !== prevSize) {
      throw fail(start, `prevlen equal to the previous entry's size ${prevSize}, got ${prevlen}`);
    }
    need(p, 1);
    const enc = buf[p]!;
    switch (enc >> 6) {
      case 0: {
        const n = enc & 0x3f;
        need(p, 1 + n);
        out.push(own.subarray(p + 1, p + 1 + n));
        p += 1 + n;
        break;
      }
      case 1: {
        need(p, 2);
        const n = ((enc & 0x3f) << 8) | buf[p + 1]!;
        need(p, 2 + n);
        out.push(own.subarray(p + 2, p + 2 + n));
        p += 2 + n;
        break;
      }
      case 2: {
        if (enc !== STR_32) throw fail(p, `string encoding 0x80 (32-bit length), got 0x${hex(enc)}`);
        need(p, 5);
        const n = buf.readUInt32BE(p + 1);
        need(p, 5 + n);
        out.push(own.subarray(p + 5, p + 5 + n));
        p += 5 + n;
        break;
      }
      default:
        p += 1 + readInteger(buf, p, out, need, fail);
    }
    prevSize = p - start;
    lastEntry = start;
  }
  if (tail !== lastEntry)
    throw fail(4, `a tail offset equal to the last entry's ${lastEntry}, header says ${tail}`);
  if (declaredCount !== UNKNOWN_COUNT && declaredCount !== out.length) {
    throw fail(8, `an entry count equal to the ${out.length} entries present, header says ${declaredCount}`);
  }
  return out;
}

/** Integer entry at `at` (its encoding byte, 0b11xxxxxx): pushes its text, returns the data size. */
function readInteger(
  buf: Buffer,
  at: number,
  out: Buffer[],
  need: (at: number, n: number) => void,
  fail: ContainerFail,
): number {
  const enc = buf[at]!;
  switch (enc) {
    case 0xc0:
      need(at, 3);
      out.push(decimalText(buf.readInt16LE(at + 1)));
      return 2;
    case 0xd0:
      need(at, 5);
      out.push(decimalText(buf.readInt32LE(at + 1)));
      return 4;
    case 0xe0:
      need(at, 9);
      out.push(decimalText(buf.readBigInt64LE(at + 1)));
      return 8;
    case 0xf0:
      need(at, 4);
      out.push(decimalText(buf.readIntLE(at + 1, 3)));
      return 3;
    case 0xfe:
      need(at, 2);
      out.push(decimalText(buf.readInt8(at + 1)));
      return 1;
    default:
      if (enc >= 0xf1 && enc <= 0xfd) {
        out.push(decimalText((enc & 0x0f) - 1));
        return 0;
      }
      throw fail(at, `an entry encoding (string 0x00-0xBF, integer C0/D0/E0/F0/FE/F1-FD), got 0x${hex(enc)}`);
  }
}
