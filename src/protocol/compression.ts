import { Decompress } from 'fzstd';
import { decompressFrameSync } from 'lz4-napi';
import { ProtocolError } from './errors';

/**
 * Decompression of Dragonfly's compressed blobs (spec 3.6): one whole LZ4 or zstd frame in, its
 * content out. The frame structure is walked here first (so a truncated or overlong frame, a missing
 * content size or an absurd size is reported precisely and before anything is allocated); the
 * libraries only turn the checked frame into bytes, and the result must match the declared size.
 */

/** Dragonfly compresses buffers of at most 1 MiB; anything near this bound is garbage. */
export const MAX_DECOMPRESSED_SIZE = 16 * 1024 * 1024;

const LZ4_ITEM = 'LZ4 blob';
const ZSTD_ITEM = 'zstd blob';
const LZ4_MAGIC = 0x184d2204;
const ZSTD_MAGIC = 0xfd2fb528;

type Fail = (at: number, expected: string) => ProtocolError;

function failer(item: string, base: number): Fail {
  return (at, expected) => new ProtocolError({ offset: base + at, item, expected });
}

/**
 * Decompresses one LZ4 frame (magic 0x184D2204) that declares its content size. Both independent
 * (FLG 0x68) and linked (FLG 0x48, matches reaching into the previous block) blocks are supported.
 * `base` = stream offset of `frame[0]`, for error messages.
 */
export function decompressLz4Frame(frame: Buffer, base = 0): Buffer {
  const fail = failer(LZ4_ITEM, base);
  const contentSize = checkLz4Structure(frame, fail);
  let out: Buffer;
  try {
    out = decompressFrameSync(frame);
  } catch (e) {
    throw fail(0, `a valid LZ4 frame, the decoder said: ${(e as Error).message}`);
  }
  if (out.length !== contentSize) {
    throw fail(6, `content of the declared ${contentSize} bytes, it decompressed to ${out.length}`);
  }
  return out;
}

/** Walks the frame header and block headers; returns the declared content size. */
function checkLz4Structure(frame: Buffer, fail: Fail): number {
  if (frame.length < 7) throw fail(0, `an LZ4 frame header (at least 7 bytes), got ${frame.length} bytes`);
  const magic = frame.readUInt32LE(0);
  if (magic !== LZ4_MAGIC) throw fail(0, `the LZ4 frame magic 04 22 4D 18, got ${hexBytes(frame, 0, 4)}`);
  const flg = frame[4]!;
  const bd = frame[5]!;
  if (flg >> 6 !== 1 || (flg & 0x02) !== 0)
    throw fail(4, `FLG with version 01 and reserved bit 0, got 0x${hex(flg)}`);
  if ((flg & 0x08) === 0)
    throw fail(4, `FLG with the content-size bit set (Dragonfly always sets it), got 0x${hex(flg)}`);
  if ((flg & 0x01) !== 0)
    throw fail(4, `a frame without dictionary id (none is known), got FLG 0x${hex(flg)}`);
  const blockChecksums = (flg & 0x10) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const blockSizeCode = (bd >> 4) & 0x07;
  if ((bd & 0x8f) !== 0 || blockSizeCode < 4)
    throw fail(5, `a BD byte with block size code 4-7, got 0x${hex(bd)}`);
  const maxBlockSize = 1 << (2 * blockSizeCode + 8);
  const headerEnd = 15;
  if (frame.length < headerEnd)
    throw fail(0, `a ${headerEnd}-byte LZ4 frame header, got ${frame.length} bytes`);
  const contentSize = frame.readBigUInt64LE(6);
  if (contentSize > BigInt(MAX_DECOMPRESSED_SIZE)) {
    throw fail(6, `a content size up to ${MAX_DECOMPRESSED_SIZE} bytes, got ${contentSize}`);
  }
  let p = headerEnd;
  for (;;) {
    if (p + 4 > frame.length)
      throw fail(p, `a block size or end mark, the frame ends after ${frame.length} bytes`);
    const word = frame.readUInt32LE(p);
    p += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > maxBlockSize) throw fail(p - 4, `a block of at most ${maxBlockSize} bytes, got ${size}`);
    p += size + (blockChecksums ? 4 : 0);
    if (p > frame.length)
      throw fail(p - size, `a block of ${size} bytes, the frame ends after ${frame.length}`);
  }
  if (contentChecksum) p += 4;
  if (p !== frame.length) {
    throw fail(p, `the frame to end with its end mark after ${p} bytes, it has ${frame.length}`);
  }
  return Number(contentSize);
}

/**
 * Decompresses one zstd frame (magic 0xFD2FB528) that declares its content size (Dragonfly's frames
 * are single-segment with a 2-byte size). `base` = stream offset of `frame[0]`.
 */
export function decompressZstdFrame(frame: Buffer, base = 0): Buffer {
  const fail = failer(ZSTD_ITEM, base);
  const { contentSize, headerSize } = readZstdHeader(frame, fail);
  const out = Buffer.allocUnsafe(contentSize);
  let filled = 0;
  try {
    // fzstd's one-shot API writes into a buffer of exactly the declared size and cannot tell a short
    // or long frame; its streaming API reports every block. Streaming with a window strictly larger
    // than the content keeps the decoder from clipping a block that runs past the declared size.
    const decoder = new Decompress((chunk) => {
      if (filled + chunk.length > contentSize) {
        throw fail(0, `content of the declared ${contentSize} bytes, it decompressed to more`);
      }
      out.set(chunk, filled);
      filled += chunk.length;
    });
    decoder.push(withExplicitWindow(frame, headerSize, contentSize), true);
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw fail(0, `a valid zstd frame, the decoder said: ${(e as Error).message}`);
  }
  if (filled !== contentSize) {
    throw fail(0, `content of the declared ${contentSize} bytes, it decompressed to ${filled}`);
  }
  return out;
}

function readZstdHeader(frame: Buffer, fail: Fail): { contentSize: number; headerSize: number } {
  if (frame.length < 6) throw fail(0, `a zstd frame header (at least 6 bytes), got ${frame.length} bytes`);
  const magic = frame.readUInt32LE(0);
  if (magic !== ZSTD_MAGIC) throw fail(0, `the zstd frame magic 28 B5 2F FD, got ${hexBytes(frame, 0, 4)}`);
  const fhd = frame[4]!;
  const sizeFlag = fhd >> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  if ((fhd & 0x08) !== 0)
    throw fail(4, `a frame header descriptor with reserved bit 3 clear, got 0x${hex(fhd)}`);
  if ((fhd & 0x03) !== 0) throw fail(4, `a frame without dictionary id (none is known), got 0x${hex(fhd)}`);
  const sizeBytes = sizeFlag === 0 ? (singleSegment ? 1 : 0) : 1 << sizeFlag;
  if (sizeBytes === 0) throw fail(4, `a frame that declares its content size, got descriptor 0x${hex(fhd)}`);
  const at = 5 + (singleSegment ? 0 : 1);
  const headerSize = at + sizeBytes;
  if (frame.length < headerSize)
    throw fail(0, `a ${headerSize}-byte zstd frame header, got ${frame.length} bytes`);
  let size: bigint;
  if (sizeBytes === 1) size = BigInt(frame[at]!);
  else if (sizeBytes === 2) size = BigInt(frame.readUInt16LE(at) + 256);
  else if (sizeBytes === 4) size = BigInt(frame.readUInt32LE(at));
  else size = frame.readBigUInt64LE(at);
  if (size > BigInt(MAX_DECOMPRESSED_SIZE)) {
    throw fail(at, `a content size up to ${MAX_DECOMPRESSED_SIZE} bytes, got ${size}`);
  }
  return { contentSize: Number(size), headerSize };
}

/**
 * The same frame with its header replaced by "no content size, window = next power of two above the
 * content size" (descriptor 0x00 + window byte). The blocks are untouched and decode identically.
 */
function withExplicitWindow(frame: Buffer, headerSize: number, contentSize: number): Buffer {
  const windowLog = Math.max(10, Math.floor(Math.log2(contentSize)) + 1);
  const out = Buffer.allocUnsafe(6 + frame.length - headerSize);
  out.writeUInt32LE(ZSTD_MAGIC, 0);
  out[4] = frame[4]! & 0x04;
  out[5] = (windowLog - 10) << 3;
  frame.copy(out, 6, headerSize);
  return out;
}

function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

function hexBytes(buf: Buffer, from: number, to: number): string {
  return [...buf.subarray(from, to)].map(hex).join(' ');
}
