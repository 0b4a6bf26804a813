import { ByteQueue } from './byte-queue';
import { Cursor } from './cursor';
import { isNeedMore } from './errors';

/**
 * RESP2 replies, as a Dragonfly master sends them during the handshake (spec 1.3, 2.2), and the
 * RESP array form used to send commands. The one RESP value type of the project: the replica, the
 * capture splitter and the test masters all read and write RespValue.
 */

/** Simple string → string, error → RespError, integer → number (bigint beyond 2^53), bulk → Buffer,
 * null bulk / null array → null, array → RespValue[]. */
export type RespValue = string | RespError | number | bigint | Buffer | null | RespValue[];

/** An error reply (`-ERR ...`): a value, not a thrown exception; the caller decides what it means. */
export class RespError {
  constructor(readonly message: string) {}

  toString(): string {
    return this.message;
  }
}

const REPLY = 'RESP reply';
const CR = 0x0d;
const LF = 0x0a;
/** Longest header or simple-string/error/integer line accepted without its CR LF. */
const MAX_LINE = 64 * 1024;
const MAX_BULK = 512 * 1024 * 1024;
const MAX_ARRAY = 1 << 20;
const MAX_DEPTH = 32;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/**
 * Incremental reply reader: feed it whatever the socket delivers, take complete replies with next().
 * Bytes after the last complete reply stay queued: on a flow connection they are the start of the
 * replication stream, handed over with takeRest().
 */
export class RespReader {
  private readonly queue = new ByteQueue(4 * 1024);

  feed(chunk: Buffer): void {
    this.queue.append(chunk);
  }

  /** The next complete reply, or undefined when it has not fully arrived yet. */
  next(): RespValue | undefined {
    if (this.queue.length === 0) return undefined;
    const c = this.queue.cursor();
    try {
      const value = readRespValue(c);
      this.queue.consumeTo(c);
      return value;
    } catch (e) {
      if (isNeedMore(e)) return undefined;
      throw e;
    }
  }

  /** Removes and returns every byte received but not yet part of a complete reply. */
  takeRest(): Buffer {
    return this.queue.take(this.queue.length);
  }
}

/**
 * Reads one complete RESP2 value at the cursor (NEED_MORE when it has not fully arrived). `item` names
 * what is read in errors: a reply, or a command sent as a RESP array.
 */
export function readRespValue(c: Cursor, item = REPLY): RespValue {
  return readValue(c, 0, item);
}

function readValue(c: Cursor, depth: number, item: string): RespValue {
  const at = c.pos;
  const type = c.u8();
  switch (type) {
    case 0x2b: // '+'
      return readLine(c, item).toString('utf8');
    case 0x2d: // '-'
      return new RespError(readLine(c, item).toString('utf8'));
    case 0x3a: // ':'
      return readInteger(c, item);
    case 0x24: {
      // '$'
      const lenAt = c.pos;
      const len = readLength(c, MAX_BULK, item);
      if (len === -1) return null;
      const value = c.bytes(len);
      expectCrlf(c, lenAt, item);
      return value;
    }
    case 0x2a: {
      // '*'
      const count = readLength(c, MAX_ARRAY, item);
      if (count === -1) return null;
      if (depth >= MAX_DEPTH) throw c.error(item, `arrays nested at most ${MAX_DEPTH} deep`, at);
      const items: RespValue[] = [];
      for (let i = 0; i < count; i++) items.push(readValue(c, depth + 1, item));
      return items;
    }
    default:
      throw c.error(
        item,
        `a RESP2 reply type byte (+ - : $ *), got 0x${type.toString(16).padStart(2, '0')}`,
        at,
      );
  }
}

/** The bytes up to the next CR LF (consumed, not returned). */
function readLine(c: Cursor, item: string): Buffer {
  const start = c.pos;
  const limit = Math.min(c.end, start + MAX_LINE + 2);
  const lf = c.buf.indexOf(LF, start);
  if (lf < 0 || lf >= limit) {
    if (limit - start >= MAX_LINE + 2)
      throw c.error(item, `a line of at most ${MAX_LINE} bytes ending in CR LF`, start);
    c.ensure(limit - start + 1);
  }
  if (lf === start || c.buf[lf - 1] !== CR) throw c.error(item, 'a line ending in CR LF, got a bare LF', lf);
  c.pos = lf + 1;
  return c.buf.subarray(start, lf - 1);
}

const INTEGER_TEXT = /^-?\d{1,20}$/;

function readInteger(c: Cursor, item: string): number | bigint {
  const at = c.pos;
  const text = readLine(c, item).toString('latin1');
  if (!INTEGER_TEXT.test(text)) throw c.error(item, `an integer, got "${text}"`, at);
  const n = Number(text);
  if (Number.isSafeInteger(n)) return n;
  const big = BigInt(text);
  return big > MAX_SAFE || big < MIN_SAFE ? big : Number(big);
}

/** A bulk length or array count: -1 (null) or 0..max. */
function readLength(c: Cursor, max: number, item: string): number {
  const at = c.pos;
  const text = readLine(c, item).toString('latin1');
  if (text === '-1') return -1;
  if (!/^\d{1,10}$/.test(text) || Number(text) > max) {
    throw c.error(item, `a length of -1 or 0 to ${max}, got "${text}"`, at);
  }
  return Number(text);
}

function expectCrlf(c: Cursor, headerAt: number, item: string): void {
  c.ensure(2);
  if (c.buf[c.pos] !== CR || c.buf[c.pos + 1] !== LF) {
    throw c.error(item, `CR LF right after the bulk string whose length starts at byte ${c.base + headerAt}`);
  }
  c.pos += 2;
}

/** A command as a RESP array of bulk strings (safe for any bytes, e.g. passwords with spaces). */
export function encodeCommand(args: (string | Buffer | number)[]): Buffer {
  const parts = args.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'utf8')));
  let size = 3 + String(parts.length).length;
  for (const p of parts) size += 5 + String(p.length).length + p.length;
  const out = Buffer.allocUnsafe(size);
  let pos = out.write(`*${parts.length}\r\n`, 0, 'latin1');
  for (const p of parts) {
    pos += out.write(`$${p.length}\r\n`, pos, 'latin1');
    pos += p.copy(out, pos);
    pos += out.write('\r\n', pos, 'latin1');
  }
  return out;
}

/** A reply in words, for messages (long texts cut at 60 characters). */
export function describeReply(v: RespValue): string {
  if (v instanceof RespError) return `error "${v.message}"`;
  if (Buffer.isBuffer(v)) return `bulk "${v.toString('latin1').slice(0, 60)}"`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `"${v.slice(0, 60)}"`;
  return String(v);
}
