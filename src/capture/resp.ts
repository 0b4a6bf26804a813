/**
 * Just enough RESP to read a recorded replication handshake: the replica's commands (inline text or
 * RESP arrays of bulk strings) and the master's RESP2 replies. Both readers work on a buffer that may
 * end mid-item: they return null until the item is complete, and say where it ended.
 */

export type RespValue =
  | { kind: 'simple'; text: string }
  | { kind: 'error'; text: string }
  | { kind: 'integer'; value: number }
  | { kind: 'bulk'; value: Buffer | null }
  | { kind: 'array'; items: RespValue[] | null };

export interface Parsed<T> {
  value: T;
  /** offset just past the item */
  end: number;
}

export class RespFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespFormatError';
  }
}

function lineEnd(buf: Buffer, from: number): number {
  const cr = buf.indexOf('\r\n', from, 'latin1');
  return cr;
}

function readInteger(buf: Buffer, from: number, what: string): Parsed<number> | null {
  const cr = lineEnd(buf, from);
  if (cr < 0) return null;
  const text = buf.toString('latin1', from, cr);
  if (!/^-?\d+$/.test(text)) throw new RespFormatError(`bad RESP ${what} "${text}" at byte ${from}`);
  return { value: Number(text), end: cr + 2 };
}

/** Reads one RESP2 value starting at `from`; null when the buffer ends before it does. */
export function parseRespValue(buf: Buffer, from = 0): Parsed<RespValue> | null {
  if (from >= buf.length) return null;
  const type = String.fromCharCode(buf[from]!);
  switch (type) {
    case '+':
    case '-': {
      const cr = lineEnd(buf, from + 1);
      if (cr < 0) return null;
      const text = buf.toString('utf8', from + 1, cr);
      return { value: type === '+' ? { kind: 'simple', text } : { kind: 'error', text }, end: cr + 2 };
    }
    case ':': {
      const n = readInteger(buf, from + 1, 'integer');
      return n && { value: { kind: 'integer', value: n.value }, end: n.end };
    }
    case '$': {
      const n = readInteger(buf, from + 1, 'bulk length');
      if (!n) return null;
      if (n.value < 0) return { value: { kind: 'bulk', value: null }, end: n.end };
      if (n.end + n.value + 2 > buf.length) return null;
      return {
        value: { kind: 'bulk', value: buf.subarray(n.end, n.end + n.value) },
        end: n.end + n.value + 2,
      };
    }
    case '*': {
      const n = readInteger(buf, from + 1, 'array length');
      if (!n) return null;
      if (n.value < 0) return { value: { kind: 'array', items: null }, end: n.end };
      const items: RespValue[] = [];
      let pos = n.end;
      for (let i = 0; i < n.value; i++) {
        const item = parseRespValue(buf, pos);
        if (!item) return null;
        items.push(item.value);
        pos = item.end;
      }
      return { value: { kind: 'array', items }, end: pos };
    }
    default:
      throw new RespFormatError(`unexpected RESP type byte 0x${buf[from]!.toString(16)} at byte ${from}`);
  }
}

/**
 * Reads one client command: a RESP array of bulk strings, or an inline command (words separated by
 * spaces, ended by LF or CRLF, as the C++ replica sends them). Returns the arguments as raw bytes.
 */
export function parseCommand(buf: Buffer, from = 0): Parsed<Buffer[]> | null {
  if (from >= buf.length) return null;
  if (buf[from] === 0x2a) {
    const parsed = parseRespValue(buf, from);
    if (!parsed) return null;
    const v = parsed.value;
    if (v.kind !== 'array' || v.items === null)
      throw new RespFormatError(`bad command array at byte ${from}`);
    const args = v.items.map((item) => {
      if (item.kind !== 'bulk' || item.value === null) {
        throw new RespFormatError(`command array at byte ${from} holds a ${item.kind}, not a bulk string`);
      }
      return item.value;
    });
    return { value: args, end: parsed.end };
  }
  const lf = buf.indexOf(0x0a, from);
  if (lf < 0) return null;
  const lineStop = lf > from && buf[lf - 1] === 0x0d ? lf - 1 : lf;
  const args: Buffer[] = [];
  let pos = from;
  while (pos < lineStop) {
    while (pos < lineStop && buf[pos] === 0x20) pos++;
    const start = pos;
    while (pos < lineStop && buf[pos] !== 0x20) pos++;
    if (pos > start) args.push(buf.subarray(start, pos));
  }
  return { value: args, end: lf + 1 };
}

/** The printable form of a command, for messages and reports. */
export function commandText(args: Buffer[]): string {
  return args.map((a) => a.toString('latin1')).join(' ');
}
