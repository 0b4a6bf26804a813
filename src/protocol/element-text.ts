/**
 * How compact containers (listpack, ziplist, intset) hand out their elements: every element is bytes,
 * integer encodings become their canonical decimal text (what Redis itself would return for them).
 */

export function decimalText(n: number | bigint): Buffer {
  return Buffer.from(String(n), 'latin1');
}

/** A copy of buf[from..to): containers may be decoded from a window that is reused afterwards. */
export function copyBytes(buf: Buffer, from: number, to: number): Buffer {
  const out = Buffer.allocUnsafe(to - from);
  buf.copy(out, 0, from, to);
  return out;
}
