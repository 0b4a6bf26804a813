import { ByteQueue } from './byte-queue';
import { Cursor } from './cursor';
import { isNeedMore } from './errors';
import { readRespValue } from './resp';

/**
 * The master's side of a replica connection: what the replica sends, split into commands. Accepts
 * RESP arrays of bulk strings and inline commands (`PING\r\n`, `REPLCONF ACK 106\n`: words separated
 * by spaces, ended by LF or CR LF, as the C++ replica sends them), the two forms a Dragonfly master
 * accepts (spec 1.1). Used by the capture splitter (recorded replica bytes) and the test masters.
 */

const ITEM = 'RESP command';
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const ARRAY = 0x2a;

/**
 * Incremental command reader: bytes of an unfinished command are kept until the rest arrives. Empty
 * inline lines are skipped, as a Redis server does. Arguments are copies (never views of the input).
 */
export class CommandReader {
  private readonly queue = new ByteQueue(4 * 1024);

  /** Adds received bytes; returns every command completed by them (arguments as raw bytes). */
  feed(chunk: Buffer): Buffer[][] {
    this.queue.append(chunk);
    const commands: Buffer[][] = [];
    for (;;) {
      const args = this.next();
      if (args === undefined) break;
      if (args.length > 0) commands.push(args);
    }
    return commands;
  }

  /** Bytes received that do not form a complete command yet. */
  get buffered(): number {
    return this.queue.length;
  }

  private next(): Buffer[] | undefined {
    if (this.queue.length === 0) return undefined;
    const c = this.queue.cursor();
    try {
      const args = c.buf[c.pos] === ARRAY ? readArrayCommand(c) : readInlineCommand(c);
      this.queue.consumeTo(c);
      return args;
    } catch (e) {
      if (isNeedMore(e)) return undefined;
      throw e;
    }
  }
}

function readArrayCommand(c: Cursor): Buffer[] {
  const at = c.pos;
  const value = readRespValue(c, ITEM);
  if (!Array.isArray(value)) throw c.error(ITEM, 'a command array, got a null array', at);
  return value.map((arg) => {
    if (!Buffer.isBuffer(arg)) throw c.error(ITEM, 'a command array of bulk strings only', at);
    return arg;
  });
}

/** Words separated by spaces up to LF (a CR right before it is not part of the line). */
function readInlineCommand(c: Cursor): Buffer[] {
  const start = c.pos;
  const lf = c.buf.subarray(start, c.end).indexOf(LF);
  if (lf < 0) c.ensure(c.remaining + 1);
  const lfAt = start + lf;
  const lineEnd = lfAt > start && c.buf[lfAt - 1] === CR ? lfAt - 1 : lfAt;
  const args: Buffer[] = [];
  let pos = start;
  while (pos < lineEnd) {
    while (pos < lineEnd && c.buf[pos] === SPACE) pos++;
    const wordStart = pos;
    while (pos < lineEnd && c.buf[pos] !== SPACE) pos++;
    if (pos > wordStart) args.push(Buffer.from(c.buf.subarray(wordStart, pos)));
  }
  c.pos = lfAt + 1;
  return args;
}

/** The printable form of a command, for messages, logs and reports. */
export function commandText(args: Buffer[]): string {
  return args.map((a) => a.toString('latin1')).join(' ');
}
