import { NEED_MORE, ProtocolError } from './errors';
import { lzfDecompress } from './lzf';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Result of reading an RDB packed length whose top bits say "special encoding" (0b11xxxxxx). */
export const RDB_ENC_INT8 = 0;
export const RDB_ENC_INT16 = 1;
export const RDB_ENC_INT32 = 2;
export const RDB_ENC_LZF = 3;

/**
 * Reads primitives from a window of bytes (`buf[pos..end)`). The only place that touches offsets.
 * When the window ends before a read completes it throws NEED_MORE (after recording how many bytes
 * would be needed in `needed`), so an incremental parser can rewind and retry once more input came.
 * `base` is the absolute stream offset of `buf[0]`, used for error messages.
 */
export class Cursor {
  buf: Buffer;
  pos: number;
  end: number;
  base: number;
  /** After NEED_MORE: the absolute end position (relative to buf) the failed read needed. */
  needed = 0;

  constructor(buf: Buffer, pos = 0, end = buf.length, base = 0) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.base = base;
  }

  /** Absolute stream offset of the current position. */
  get offset(): number {
    return this.base + this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  error(item: string, expected: string, at = this.pos): ProtocolError {
    return new ProtocolError({ offset: this.base + at, item, expected });
  }

  ensure(n: number): void {
    if (this.end - this.pos < n) {
      this.needed = this.pos + n;
      throw NEED_MORE;
    }
  }

  u8(): number {
    this.ensure(1);
    return this.buf[this.pos++]!;
  }

  u16le(): number {
    this.ensure(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32le(): number {
    this.ensure(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i64le(): number {
    this.ensure(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return Number(v);
  }

  u64le(item: string): number {
    this.ensure(8);
    const at = this.pos;
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    if (v > MAX_SAFE) throw this.error(item, `a value up to 2^53, got ${v}`, at);
    return Number(v);
  }

  f64le(): number {
    this.ensure(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A copy of the next n bytes (the window's buffer is reused after the item is consumed). */
  bytes(n: number): Buffer {
    this.ensure(n);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** The next n bytes without copying: valid only until the parser gives the window back. */
  view(n: number): Buffer {
    this.ensure(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(n: number): void {
    this.ensure(n);
    this.pos += n;
  }

  /**
   * Packed length / packed uint (spec 0.2) as a bigint. Returns -1n - kind for the special
   * 0b11xxxxxx forms so callers that expect a string can dispatch on it.
   */
  private packedRaw(item: string): bigint {
    const at = this.pos;
    const b0 = this.u8();
    const form = b0 >> 6;
    if (form === 0) return BigInt(b0 & 0x3f);
    if (form === 1) return BigInt(((b0 & 0x3f) << 8) | this.u8());
    if (form === 3) return -1n - BigInt(b0 & 0x3f);
    if (b0 === 0x80) {
      this.ensure(4);
      const v = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return BigInt(v);
    }
    if (b0 === 0x81) {
      this.ensure(8);
      const v = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      return v;
    }
    throw this.error(item, `a packed length (first byte 0x00-0x81 or 0xC0-0xFF), got 0x${hex(b0)}`, at);
  }

  /** A packed uint that fits a JS number (lengths, counts, LSNs, txids). */
  packed(item: string): number {
    const at = this.pos;
    const v = this.packedRaw(item);
    if (v < 0n) throw this.error(item, `a plain packed length, got special encoding ${-1n - v}`, at);
    if (v > MAX_SAFE) throw this.error(item, `a value up to 2^53, got ${v}`, at);
    return Number(v);
  }

  /** A packed uint of the full 64-bit range (stream ids). */
  packedBig(item: string): bigint {
    const at = this.pos;
    const v = this.packedRaw(item);
    if (v < 0n) throw this.error(item, `a plain packed length, got special encoding ${-1n - v}`, at);
    return v;
  }

  /**
   * An RDB string (spec 4.2): raw, int8/16/32-encoded (returned as decimal text) or LZF.
   * `limit` bounds the declared length so garbage cannot ask for gigabytes.
   */
  rdbString(item: string, limit = 1 << 30): Buffer {
    const at = this.pos;
    const v = this.packedRaw(item);
    if (v >= 0n) {
      if (v > BigInt(limit)) throw this.error(item, `a length up to ${limit}, got ${v}`, at);
      return this.bytes(Number(v));
    }
    const kind = Number(-1n - v);
    switch (kind) {
      case RDB_ENC_INT8:
        this.ensure(1);
        return Buffer.from(String(this.buf.readInt8(this.pos++)));
      case RDB_ENC_INT16: {
        this.ensure(2);
        const n = this.buf.readInt16LE(this.pos);
        this.pos += 2;
        return Buffer.from(String(n));
      }
      case RDB_ENC_INT32: {
        this.ensure(4);
        const n = this.buf.readInt32LE(this.pos);
        this.pos += 4;
        return Buffer.from(String(n));
      }
      case RDB_ENC_LZF: {
        const clen = this.packed(item);
        const ulen = this.packed(item);
        if (clen > limit || ulen > limit) throw this.error(item, `LZF lengths up to ${limit}`, at);
        const dataAt = this.pos;
        const data = this.view(clen);
        return lzfDecompress(data, ulen, this.base + dataAt);
      }
      default:
        throw this.error(item, `a string encoding 0-3, got special encoding ${kind}`, at);
    }
  }

  /** An RDB string read as UTF-8 text (AUX fields, stream ids as text, scores). */
  rdbText(item: string): string {
    return this.rdbString(item).toString('utf8');
  }
}

export function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}
