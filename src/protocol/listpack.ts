import {
  checkContainerFrame,
  containerFail,
  CONTAINER_TERMINATOR,
  type ContainerFail,
} from './container-frame';
import { hex } from './cursor';
import { decimalText, ownCopy } from './element-text';

/**
 * Redis listpack (spec 4.5): uint32 LE total bytes, uint16 LE element count (65535 = unknown), the
 * elements, terminator 0xFF. Each element is encoding+data followed by its "backlen".
 */

const ITEM = 'listpack';
const HEADER_SIZE = 6;
const UNKNOWN_COUNT = 65535;

/**
 * Decodes a whole listpack into its elements, in order. Integer elements come back as their canonical
 * decimal text, so callers see every element as bytes (as Redis' LRANGE/HGETALL would return them).
 * The total size, every element's bounds and backlen, the count and the terminator are checked.
 * Nothing returned shares memory with `buf` (it may be a reused window): strings are views of one
 * private copy. `base` = stream offset of `buf[0]`.
 */
export function decodeListpack(buf: Buffer, base = 0): Buffer[] {
  const fail = containerFail(ITEM, base);
  checkContainerFrame(buf, HEADER_SIZE, fail);
  const declaredCount = buf.readUInt16LE(4);
  /** the terminator's position: every element must end before it */
  const end = buf.length - 1;
  const own = ownCopy(buf);
  const need = (at: number, n: number): void => {
    if (at + n > end) throw fail(at, `an element of ${n} bytes before the terminator, only ${end - at} left`);
  };
  const out: Buffer[] = [];
  let p = HEADER_SIZE;
  while (p < end) {
    const b0 = buf[p]!;
    if (b0 === CONTAINER_TERMINATOR) throw fail(p, `the terminator only at the last byte (${base + end})`);
    let size: number;
    if (b0 < 0x80) {
      out.push(decimalText(b0));
      size = 1;
    } else if (b0 < 0xc0) {
      size = 1 + (b0 & 0x3f);
      need(p, size);
      out.push(own.subarray(p + 1, p + size));
    } else if (b0 < 0xe0) {
      need(p, 2);
      const v = ((b0 & 0x1f) << 8) | buf[p + 1]!;
      out.push(decimalText(v >= 4096 ? v - 8192 : v));
      size = 2;
    } else if (b0 < 0xf0) {
      need(p, 2);
      size = 2 + (((b0 & 0x0f) << 8) | buf[p + 1]!);
      need(p, size);
      out.push(own.subarray(p + 2, p + size));
    } else {
      switch (b0) {
        case 0xf0:
          need(p, 5);
          size = 5 + buf.readUInt32LE(p + 1);
          need(p, size);
          out.push(own.subarray(p + 5, p + size));
          break;
        case 0xf1:
          size = 3;
          need(p, size);
          out.push(decimalText(buf.readInt16LE(p + 1)));
          break;
        case 0xf2:
          size = 4;
          need(p, size);
          out.push(decimalText(buf.readIntLE(p + 1, 3)));
          break;
        case 0xf3:
          size = 5;
          need(p, size);
          out.push(decimalText(buf.readInt32LE(p + 1)));
          break;
        case 0xf4:
          size = 9;
          need(p, size);
          out.push(decimalText(buf.readBigInt64LE(p + 1)));
          break;
        default:
          throw fail(p, `an element encoding byte (0x00-0xF4), got 0x${hex(b0)}`);
      }
    }
    const backlen = backlenSize(size);
    need(p, size + backlen);
    checkBacklen(buf, p + size, backlen, size, fail);
    p += size + backlen;
  }
  if (declaredCount !== UNKNOWN_COUNT && declaredCount !== out.length) {
    throw fail(
      4,
      `an element count equal to the ${out.length} elements present, header says ${declaredCount}`,
    );
  }
  return out;
}

/** How many bytes the backlen of an element of `size` bytes (encoding + data) takes. */
function backlenSize(size: number): number {
  if (size <= 127) return 1;
  if (size < 16383) return 2;
  if (size < 2097151) return 3;
  if (size < 268435455) return 4;
  return 5;
}

/** Backlen = `size` in big-endian 7-bit groups; every byte after the first has bit 7 set. */
function checkBacklen(buf: Buffer, at: number, width: number, size: number, fail: ContainerFail): void {
  for (let i = 0; i < width; i++) {
    const group = (size >>> (7 * (width - 1 - i))) & 0x7f;
    const expected = i === 0 ? group : group | 0x80;
    if (buf[at + i] !== expected) {
      throw fail(at, `a backlen encoding the element size ${size}, got byte 0x${hex(buf[at + i]!)}`);
    }
  }
}
