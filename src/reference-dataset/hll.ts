/**
 * PFADD on Redis-format HyperLogLog strings (Dragonfly stores HLLs in Redis' own layout, and
 * expected.json compares the bytes). Header: "HYLL", encoding (0 dense, 1 sparse), 3 unused bytes,
 * 8-byte cached cardinality whose top bit marks it stale. Sparse registers are run-length opcodes
 * (ZERO 00xxxxxx, XZERO 01xxxxxx yyyyyyyy, VAL 1vvvvvxx); dense ones are 16384 packed 6-bit registers.
 * The sparse update follows Redis' algorithm step by step (split the run, then merge equal neighbours
 * within five opcodes) so the bytes come out identical, not merely equivalent.
 */

const P = 14;
const REGISTERS = 1 << P;
const Q = 64 - P;
const HEADER_SIZE = 16;
const DENSE_SIZE = HEADER_SIZE + (REGISTERS * 6) / 8;
const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;
/** Redis' and Dragonfly's default `hll-sparse-max-bytes` */
const SPARSE_MAX_BYTES = 3000;
const MAGIC = Buffer.from('HYLL', 'latin1');
const MASK64 = (1n << 64n) - 1n;

export class HllFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HllFormatError';
  }
}

/** Redis' MurmurHash64A (little-endian reads), seed 0xadc83b19. */
export function murmurHash64A(data: Buffer, seed = 0xadc83b19n): bigint {
  const m = 0xc6a4a7935bd1e995n;
  const r = 47n;
  let h = (seed ^ ((BigInt(data.length) * m) & MASK64)) & MASK64;
  const whole = data.length - (data.length & 7);
  for (let i = 0; i < whole; i += 8) {
    let k = data.readBigUInt64LE(i);
    k = (k * m) & MASK64;
    k ^= k >> r;
    k = (k * m) & MASK64;
    h ^= k;
    h = (h * m) & MASK64;
  }
  const tail = data.length & 7;
  if (tail > 0) {
    for (let i = tail - 1; i >= 0; i--) h ^= BigInt(data[whole + i]!) << BigInt(8 * i);
    h = (h * m) & MASK64;
  }
  h ^= h >> r;
  h = (h * m) & MASK64;
  h ^= h >> r;
  return h;
}

/** Register index and run length of leading zeros + 1 for one element (Redis `hllPatLen`). */
export function hllPattern(element: Buffer): { index: number; count: number } {
  const hash = murmurHash64A(element);
  const index = Number(hash & BigInt(REGISTERS - 1));
  let rest = (hash >> BigInt(P)) | (1n << BigInt(Q));
  let count = 1;
  while ((rest & 1n) === 0n) {
    count++;
    rest >>= 1n;
  }
  return { index, count };
}

type Op = { zero: true; len: number } | { zero: false; value: number; len: number };

function decodeSparse(body: Buffer): Op[] {
  const ops: Op[] = [];
  for (let i = 0; i < body.length;) {
    const b = body[i]!;
    if ((b & 0xc0) === 0) {
      ops.push({ zero: true, len: (b & 0x3f) + 1 });
      i++;
    } else if ((b & 0xc0) === 0x40) {
      ops.push({ zero: true, len: (((b & 0x3f) << 8) | body[i + 1]!) + 1 });
      i += 2;
    } else {
      ops.push({ zero: false, value: ((b >> 2) & 0x1f) + 1, len: (b & 3) + 1 });
      i++;
    }
  }
  return ops;
}

function encodeSparse(ops: Op[]): Buffer {
  const out: number[] = [];
  for (const op of ops) {
    if (!op.zero) out.push(0x80 | ((op.value - 1) << 2) | (op.len - 1));
    else if (op.len > SPARSE_ZERO_MAX_LEN) out.push(0x40 | ((op.len - 1) >> 8), (op.len - 1) & 0xff);
    else out.push(op.len - 1);
  }
  return Buffer.from(out);
}

function zeroRun(len: number): Op[] {
  const ops: Op[] = [];
  for (let left = len; left > 0; left -= SPARSE_XZERO_MAX_LEN) {
    ops.push({ zero: true, len: Math.min(left, SPARSE_XZERO_MAX_LEN) });
  }
  return ops;
}

/** Redis `hllSparseSet`: returns false when the register already held `count` or more. */
function sparseSet(ops: Op[], index: number, count: number): boolean {
  let first = 0;
  let at = 0;
  while (at < ops.length && first + ops[at]!.len <= index) first += ops[at++]!.len;
  const op = ops[at];
  if (!op) throw new HllFormatError('sparse HyperLogLog covers fewer than 16384 registers');
  if (!op.zero && op.value >= count) return false;
  const last = first + op.len - 1;
  const replacement: Op[] = [];
  if (op.zero) {
    if (index !== first) replacement.push({ zero: true, len: index - first });
    replacement.push({ zero: false, value: count, len: 1 });
    if (index !== last) replacement.push({ zero: true, len: last - index });
  } else {
    if (index !== first) replacement.push({ zero: false, value: op.value, len: index - first });
    replacement.push({ zero: false, value: count, len: 1 });
    if (index !== last) replacement.push({ zero: false, value: op.value, len: last - index });
  }
  ops.splice(at, 1, ...replacement);
  // Merge adjacent equal VAL opcodes, scanning up to five opcodes from the one before the change.
  let p = Math.max(0, at - 1);
  for (let scan = 5; p < ops.length && scan > 0; scan--) {
    const a = ops[p]!;
    const b = ops[p + 1];
    if (!a.zero && b && !b.zero && a.value === b.value && a.len + b.len <= SPARSE_VAL_MAX_LEN) {
      ops.splice(p, 2, { zero: false, value: a.value, len: a.len + b.len });
      continue;
    }
    p++;
  }
  return true;
}

function denseGet(regs: Buffer, i: number): number {
  const byte = (i * 6) >> 3;
  const fb = (i * 6) & 7;
  const b0 = regs[byte]!;
  const b1 = regs[byte + 1] ?? 0;
  return ((b0 >> fb) | (b1 << (8 - fb))) & 63;
}

function denseSet(regs: Buffer, i: number, value: number): void {
  const byte = (i * 6) >> 3;
  const fb = (i * 6) & 7;
  regs[byte] = (regs[byte]! & ~(63 << fb)) | ((value << fb) & 0xff);
  if (byte + 1 < regs.length) {
    regs[byte + 1] = (regs[byte + 1]! & ~(63 >> (8 - fb))) | (value >> (8 - fb));
  }
}

function sparseToDense(header: Buffer, ops: Op[]): Buffer {
  const out = Buffer.alloc(DENSE_SIZE);
  header.copy(out, 0, 0, HEADER_SIZE);
  out[4] = 0;
  const regs = out.subarray(HEADER_SIZE);
  let i = 0;
  for (const op of ops) {
    if (!op.zero) for (let k = 0; k < op.len; k++) denseSet(regs, i + k, op.value);
    i += op.len;
  }
  return out;
}

function invalidateCache(hll: Buffer): void {
  hll[15] = hll[15]! | 0x80;
}

/** An empty sparse HLL, as PFADD creates it (cached cardinality 0, valid). */
export function emptyHll(): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(header);
  header[4] = 1;
  return Buffer.concat([header, encodeSparse(zeroRun(REGISTERS))]);
}

/** PFADD: the HLL bytes after adding `elements` (the same Buffer when no register changed). */
export function hllAdd(hll: Buffer, elements: Buffer[]): Buffer {
  if (hll.length < HEADER_SIZE || !hll.subarray(0, 4).equals(MAGIC) || hll[4]! > 1) {
    throw new HllFormatError('WRONGTYPE key is not a valid HyperLogLog string value');
  }
  let changed = false;
  if (hll[4] === 0) {
    const out = Buffer.from(hll);
    const regs = out.subarray(HEADER_SIZE);
    for (const e of elements) {
      const { index, count } = hllPattern(e);
      if (denseGet(regs, index) < count) {
        denseSet(regs, index, count);
        changed = true;
      }
    }
    if (!changed) return hll;
    invalidateCache(out);
    return out;
  }
  const header = Buffer.from(hll.subarray(0, HEADER_SIZE));
  const ops = decodeSparse(hll.subarray(HEADER_SIZE));
  for (let i = 0; i < elements.length; i++) {
    const { index, count } = hllPattern(elements[i]!);
    if (count > SPARSE_VAL_MAX_VALUE) {
      return hllAdd(sparseToDenseMarked(header, ops, changed), elements.slice(i));
    }
    if (!sparseSet(ops, index, count)) continue;
    changed = true;
    if (encodeSparse(ops).length + HEADER_SIZE > SPARSE_MAX_BYTES) {
      return hllAdd(sparseToDenseMarked(header, ops, true), elements.slice(i + 1));
    }
  }
  if (!changed) return hll;
  invalidateCache(header);
  return Buffer.concat([header, encodeSparse(ops)]);
}

function sparseToDenseMarked(header: Buffer, ops: Op[], changed: boolean): Buffer {
  const dense = sparseToDense(header, ops);
  if (changed) invalidateCache(dense);
  return dense;
}
