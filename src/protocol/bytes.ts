/** Below this size a byte loop beats Buffer#copy, which creates a typed-array view on every call. */
const SMALL_COPY = 64;

/** Copies len bytes from[at..] into to[toAt..]; the parsers' hot path copies many tiny strings. */
export function copyBytes(from: Buffer, at: number, to: Buffer, toAt: number, len: number): void {
  if (len < SMALL_COPY) {
    for (let i = 0; i < len; i++) to[toAt + i] = from[at + i]!;
  } else {
    from.copy(to, toAt, at, at + len);
  }
}

/** A copy of buf[from..to) in pooled memory (Buffer.from(view) allocates a fresh ArrayBuffer each time). */
export function copyOf(buf: Buffer, from: number, to: number): Buffer {
  const out = Buffer.allocUnsafe(to - from);
  copyBytes(buf, from, out, 0, to - from);
  return out;
}
