import { packedUint } from '../../../../src/testmaster/encoder';

/**
 * Byte builders for hand-made RDB / flow vectors in tests. `hx` reads hex text (spaces ignored);
 * the others produce the RDB encodings the spec describes (packed lengths, strings, listpacks,
 * ziplists, intsets) so spec-derived vectors stay readable.
 */

export function hx(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

export function cat(...parts: (Buffer | string | number)[]): Buffer {
  return Buffer.concat(
    parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : typeof p === 'string' ? hx(p) : p)),
  );
}

/** Packed length (spec 0.2), shortest form: the test master's encoder, checked against real bytes. */
export const packed = packedUint;

/** A raw RDB string: packed length + bytes. */
export function str(s: string | Buffer): Buffer {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  return Buffer.concat([packed(bytes.length), bytes]);
}

export function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

export function i64le(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(n));
  return b;
}

export function u64le(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

export function f64le(x: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b;
}

/** A listpack: numbers 0..127 as 7-bit uints, everything else as strings (6-bit or 12-bit length). */
export function listpack(elements: (string | number)[]): Buffer {
  const body: Buffer[] = [];
  for (const e of elements) {
    let enc: Buffer;
    if (typeof e === 'number' && e >= 0 && e < 128) enc = Buffer.from([e]);
    else {
      const s = Buffer.from(String(e), 'latin1');
      enc =
        s.length < 64
          ? Buffer.concat([Buffer.from([0x80 | s.length]), s])
          : Buffer.concat([Buffer.from([0xe0 | (s.length >> 8), s.length & 0xff]), s]);
    }
    body.push(enc, backlen(enc.length));
  }
  const content = Buffer.concat(body);
  const total = 6 + content.length + 1;
  const header = Buffer.alloc(6);
  header.writeUInt32LE(total, 0);
  header.writeUInt16LE(Math.min(elements.length, 65535), 4);
  return Buffer.concat([header, content, Buffer.from([0xff])]);
}

function backlen(n: number): Buffer {
  if (n <= 127) return Buffer.from([n]);
  return Buffer.from([n >> 7, (n & 127) | 128]);
}

/** A ziplist of short strings (6-bit length encoding) and 0..12 immediates for small numbers. */
export function ziplist(elements: (string | number)[]): Buffer {
  const entries: Buffer[] = [];
  let prev = 0;
  for (const e of elements) {
    const data =
      typeof e === 'number' && e >= 0 && e <= 12
        ? Buffer.from([0xf1 + e])
        : (() => {
            const s = Buffer.from(String(e), 'latin1');
            return Buffer.concat([Buffer.from([s.length]), s]);
          })();
    const entry = Buffer.concat([Buffer.from([prev]), data]);
    entries.push(entry);
    prev = entry.length;
  }
  const content = Buffer.concat(entries);
  const header = Buffer.alloc(10);
  header.writeUInt32LE(10 + content.length + 1, 0);
  header.writeUInt32LE(10 + content.length - prev, 4);
  header.writeUInt16LE(elements.length, 8);
  return Buffer.concat([header, content, Buffer.from([0xff])]);
}

/** An intset of the given element width (2, 4 or 8 bytes). */
export function intset(width: 2 | 4 | 8, values: number[]): Buffer {
  const b = Buffer.alloc(8 + width * values.length);
  b.writeUInt32LE(width, 0);
  b.writeUInt32LE(values.length, 4);
  values.forEach((v, i) => {
    if (width === 2) b.writeInt16LE(v, 8 + 2 * i);
    else if (width === 4) b.writeInt32LE(v, 8 + 4 * i);
    else b.writeBigInt64LE(BigInt(v), 8 + 8 * i);
  });
  return b;
}

/** A 16-byte raw stream id (uint64 BE ms, uint64 BE seq). */
export function rawStreamId(ms: number | bigint, seq: number | bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(BigInt(ms), 0);
  b.writeBigUInt64BE(BigInt(seq), 8);
  return b;
}

export const HEADER = Buffer.from('REDIS0009', 'latin1');
export const TOKEN = '5f1c0a7e9b3d24681ace0b2d4f6a8c0e13579bdf';

/** EOF + zero checksum + the test token. */
export function eof(token = TOKEN): Buffer {
  return cat('FF 00 00 00 00 00 00 00 00', Buffer.from(token, 'latin1'));
}

/** A TAGGED_CHUNK item. */
export function chunk(streamId: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xe0]), u32le(streamId), u32le(payload.length), payload]);
}
