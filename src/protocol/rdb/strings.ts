import { Cursor } from '../cursor';
import { copyOf } from '../bytes';
import { ProtocolError } from '../errors';

/**
 * RDB strings (spec 4.2) on the hot path, with the semantics of Cursor.rdbString. Raw strings with
 * 1- and 2-byte lengths (nearly every key, value and member) are copied inline into pooled memory;
 * everything else (long, int-encoded, LZF, incomplete) goes through Cursor.rdbString.
 */

const SPECIAL_ENCODING = 0xc0;
/** Same bound as Cursor.rdbString: garbage must not make the parser wait for gigabytes. */
const MAX_STRING_BYTES = 1 << 30;

/** The next string as an owned copy (for values that are kept). */
export function readString(c: Cursor, item: string): Buffer {
  const { buf, pos, end } = c;
  if (pos < end) {
    const b0 = buf[pos]!;
    let start = -1;
    let len = 0;
    if (b0 < 0x40) {
      start = pos + 1;
      len = b0;
    } else if (b0 < 0x80 && pos + 1 < end) {
      start = pos + 2;
      len = ((b0 & 0x3f) << 8) | buf[pos + 1]!;
    }
    if (start >= 0 && start + len <= end) {
      c.pos = start + len;
      return copyOf(buf, start, start + len);
    }
  }
  return c.rdbString(item);
}

/**
 * The next string without copying when it is raw: a view that is valid only until the parser gives
 * its input window back. For decoders that copy what they keep (listpack, ziplist, intset, journal
 * records, stream ids).
 */
export function readStringView(c: Cursor, item: string): Buffer {
  const { buf, pos } = c;
  if (pos < c.end && (buf[pos]! & SPECIAL_ENCODING) !== SPECIAL_ENCODING) {
    const len = c.packed(item);
    if (len > MAX_STRING_BYTES) throw c.error(item, `a length up to ${MAX_STRING_BYTES}, got ${len}`, pos);
    return c.view(len);
  }
  return c.rdbString(item);
}

/**
 * Reads a string that holds an encoded container (listpack, ziplist, intset) and decodes it, so that
 * an error inside the container names the right place: the offending byte itself when the string was
 * sent raw, or the string's start (with the position inside the decompressed bytes in the message)
 * when it was LZF-compressed — decompressed positions do not exist in the stream.
 */
export function decodeStringBlob<T>(c: Cursor, item: string, decode: (bytes: Buffer, base: number) => T): T {
  const at = c.offset;
  const compressed = c.pos < c.end && (c.buf[c.pos]! & SPECIAL_ENCODING) === SPECIAL_ENCODING;
  const bytes = readStringView(c, item);
  if (!compressed) return decode(bytes, c.offset - bytes.length);
  try {
    return decode(bytes, 0);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    throw new ProtocolError({
      offset: at,
      item: e.item,
      expected: `${e.expected} (at byte ${e.offset} of the decompressed ${item})`,
    });
  }
}
