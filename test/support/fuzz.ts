/**
 * The fuzzing toolkit: a small seeded PRNG and byte mutators. Everything is driven by one Rng, so a
 * case is fully determined by its seed and can be replayed exactly.
 */

/** A seeded uniform [0, 1) source, for tests that only need numbers (same sequence as Rng). */
export function seededRandom(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/** mulberry32: tiny, fast, and good enough to pick mutations. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: nothing to pick from');
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** The seed of case `index` of a run seeded with `seed` (splitmix32-style mixing, so neighbours differ). */
export function caseSeed(seed: number, index: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca77)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Byte values that mean something in the formats: 0x00/0xFF (EOF, terminators), 0x7F/0x80 (sign and
 * length-form edges), 0xC0-0xC3 (RDB int/LZF string encodings), 0xE0 (TAGGED_CHUNK), 0xFA-0xFF (RDB
 * opcodes AUX, RESIZEDB, EXPIRETIME_MS, EXPIRETIME, SELECTDB, EOF).
 */
export const INTERESTING_BYTES: readonly number[] = [
  0x00, 0xff, 0x7f, 0x80, 0xc0, 0xc1, 0xc2, 0xc3, 0xe0, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
];

/**
 * Length fields claiming far more than any input holds: RDB packed lengths (32- and 64-bit forms),
 * and raw little-endian u32/u64 (tagged chunk, listpack and intset headers, frame content sizes).
 */
const HUGE_PACKED: readonly string[] = [
  '80 40 00 00 00', // 1 GiB
  '80 7F FF FF FF',
  '80 FF FF FF FF',
  '81 00 00 00 01 00 00 00 00', // 4 GiB
  '81 00 1F FF FF FF FF FF FF', // 2^53 - 1
  '81 FF FF FF FF FF FF FF FF',
];
const HUGE_RAW: readonly string[] = [
  '00 00 00 40', // u32 LE 1 GiB
  'F0 FF FF FF',
  'FF FF FF 7F',
  '00 00 00 00 01 00 00 00', // u64 LE 4 GiB
  'FF FF FF FF FF FF FF FF',
];
const hexBytes = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const HUGE_PACKED_BYTES = HUGE_PACKED.map(hexBytes);
const HUGE_RAW_BYTES = HUGE_RAW.map(hexBytes);

/** Width of the RDB packed length starting with `b0` (1 when `b0` is not a length at all). */
function packedWidth(b0: number): number {
  if (b0 >> 6 === 1) return 2;
  if (b0 === 0x80) return 5;
  if (b0 === 0x81) return 9;
  return 1;
}

function splice(bytes: Buffer, at: number, remove: number, insert: Buffer): Buffer {
  return Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(Math.min(bytes.length, at + remove))]);
}

/** A mutator returns a new buffer (inputs are shared seeds and must not change). */
type Mutator = (rng: Rng, bytes: Buffer) => Buffer;

const MUTATORS: Record<string, Mutator> = {
  flipBit(rng, bytes) {
    const out = Buffer.from(bytes);
    const at = rng.int(out.length);
    out[at] = out[at]! ^ (1 << rng.int(8));
    return out;
  },
  interestingByte(rng, bytes) {
    const out = Buffer.from(bytes);
    out[rng.int(out.length)] = rng.pick(INTERESTING_BYTES);
    return out;
  },
  randomByte(rng, bytes) {
    const out = Buffer.from(bytes);
    out[rng.int(out.length)] = rng.int(256);
    return out;
  },
  insert(rng, bytes) {
    const insert = rng.chance(0.5) ? Buffer.from([rng.pick(INTERESTING_BYTES)]) : rng.bytes(rng.range(1, 8));
    return splice(bytes, rng.int(bytes.length + 1), 0, insert);
  },
  delete(rng, bytes) {
    return splice(bytes, rng.int(bytes.length), rng.range(1, 16), Buffer.alloc(0));
  },
  duplicateRange(rng, bytes) {
    const from = rng.int(bytes.length);
    const range = bytes.subarray(from, from + rng.range(1, 64));
    return splice(bytes, rng.int(bytes.length + 1), 0, Buffer.from(range));
  },
  /** Replaces the packed length at a random position (or the byte there) by a huge one. */
  hugePackedLength(rng, bytes) {
    const at = rng.int(bytes.length);
    return splice(bytes, at, packedWidth(bytes[at]!), rng.pick(HUGE_PACKED_BYTES));
  },
  /** Overwrites a random position with a huge raw little-endian u32/u64. */
  hugeRawLength(rng, bytes) {
    const huge = rng.pick(HUGE_RAW_BYTES);
    const at = rng.int(bytes.length);
    return splice(bytes, at, huge.length, huge);
  },
};

export const MUTATOR_NAMES: readonly string[] = Object.keys(MUTATORS);

export interface Mutation {
  bytes: Buffer;
  /** names of the mutations applied, in order (for reports) */
  applied: string[];
}

/**
 * Applies 0 to `maxMutations` random mutations, then truncates at a random point with probability
 * `truncateChance`. Zero mutations keeps the seed intact (the chunking alone is then under test).
 */
export function mutate(rng: Rng, input: Buffer, maxMutations = 4, truncateChance = 0.3): Mutation {
  let bytes = input;
  const applied: string[] = [];
  const count = rng.int(maxMutations + 1);
  for (let i = 0; i < count && bytes.length > 0; i++) {
    const name = rng.pick(MUTATOR_NAMES);
    bytes = MUTATORS[name]!(rng, bytes);
    applied.push(name);
  }
  if (bytes.length > 0 && rng.chance(truncateChance)) {
    const keep = rng.int(bytes.length);
    bytes = bytes.subarray(0, keep);
    applied.push(`truncate@${keep}`);
  }
  return { bytes, applied };
}

/**
 * Chunk sizes that cover `length` bytes, the way TCP might deliver them: one piece, single bytes,
 * small pieces or large ones, or a mix.
 */
export function randomChunkSizes(rng: Rng, length: number): number[] {
  if (length === 0) return [];
  const style = rng.int(4);
  if (style === 0) return [length];
  const sizes: number[] = [];
  for (let left = length; left > 0;) {
    const max = style === 1 ? 1 : style === 2 ? 16 : rng.chance(0.5) ? 4 : 1024;
    const size = Math.min(left, rng.range(1, max));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

export function splitBySizes(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  if (at < bytes.length) chunks.push(bytes.subarray(at));
  return chunks;
}
