/**
 * How compact containers (listpack, ziplist, intset) hand out their elements: every element is bytes,
 * integer encodings become their canonical decimal text (what Redis itself would return for them).
 */

/** Below this magnitude the digits are written directly (no intermediate JS string). */
const SMALL = 1_000_000_000;

export function decimalText(n: number | bigint): Buffer {
  if (typeof n === 'number' && n > -SMALL && n < SMALL) return smallDecimal(n);
  return Buffer.from(String(n), 'latin1');
}

function smallDecimal(n: number): Buffer {
  const negative = n < 0;
  let v = negative ? -n : n;
  let digits = 1;
  for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
  const size = digits + (negative ? 1 : 0);
  const out = Buffer.allocUnsafe(size);
  for (let i = size - 1; i >= size - digits; i--) {
    out[i] = 0x30 + (v % 10);
    v = (v / 10) | 0;
  }
  if (negative) out[0] = 0x2d;
  return out;
}

/**
 * A private copy of a container's bytes, so that its string elements can be handed out as views of
 * one allocation (the input may be a window of a buffer that is reused afterwards).
 */
export function ownCopy(buf: Buffer): Buffer {
  return Buffer.from(buf);
}
