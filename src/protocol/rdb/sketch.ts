import { Cursor } from '../cursor';
import { SketchValue } from '../types';
import { StepReader } from './steps';
import { readStringView } from './strings';

/**
 * Dragonfly's probabilistic types (spec 4.4: 33 SBF, 34 SBF2, 35 CMS, 36 TOPK, 37 CUCKOO). They are
 * kept as their exact value bytes (for RESTORE into a Dragonfly target); the layout is walked only to
 * find where the value ends and to reject garbage. Filters arrive in sub-chunks (one step each), the
 * unit at which Dragonfly splits them into tagged chunks.
 */

/** Upper bound for one counters / filter area; Dragonfly caps filter chunks at 64 MiB. */
const MAX_AREA_BYTES = 1 << 30;

type Kind = SketchValue['kind'];

abstract class SketchReader implements StepReader<SketchValue> {
  private readonly raw: Buffer[] = [];

  constructor(
    protected readonly kind: Kind,
    private readonly rdbType: number,
  ) {}

  step(c: Cursor): boolean {
    const from = c.pos;
    const done = this.readPart(c);
    this.raw.push(Buffer.from(c.buf.subarray(from, c.pos)));
    return done;
  }

  /** Reads the next part of the layout; true when the value ended. State changes only at the end. */
  protected abstract readPart(c: Cursor): boolean;

  result(): SketchValue {
    return { type: 'sketch', kind: this.kind, rdbType: this.rdbType, raw: Buffer.concat(this.raw) };
  }
}

function skipArea(c: Cursor, item: string, bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes > MAX_AREA_BYTES) {
    throw c.error(item, `an area of up to ${MAX_AREA_BYTES} bytes, got ${bytes}`);
  }
  c.skip(bytes);
}

function readLen(c: Cursor, item: string, check: (n: number) => boolean, rule: string): number {
  const at = c.pos;
  const n = c.packed(item);
  if (!check(n)) throw c.error(item, `${rule}, got ${n}`, at);
  return n;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && 2 ** Math.round(Math.log2(n)) === n;
const positive = (n: number): boolean => n > 0;

/**
 * Filters written as `len total_size` then (`len chunk`, raw bytes) chunks until total_size
 * (SBF2 and CUCKOO). Subclasses read the value header (returning the filter count) and each
 * filter's header (returning its total size).
 */
abstract class ChunkedFilterReader extends SketchReader {
  private filtersLeft = -1;
  private filterLeft = 0;

  protected abstract readHeader(c: Cursor): number;
  protected abstract readFilterHeader(c: Cursor): number;

  protected readPart(c: Cursor): boolean {
    if (this.filtersLeft < 0) {
      this.filtersLeft = this.readHeader(c);
      return this.filtersLeft === 0;
    }
    if (this.filterLeft === 0) {
      this.filterLeft = this.readFilterHeader(c);
      return false;
    }
    const at = c.pos;
    const chunk = c.packed(`${this.kind} filter chunk size`);
    if (chunk === 0 || chunk > this.filterLeft) {
      throw c.error(`${this.kind} filter chunk size`, `1 to ${this.filterLeft} bytes, got ${chunk}`, at);
    }
    c.skip(chunk);
    this.filterLeft -= chunk;
    if (this.filterLeft > 0) return false;
    return --this.filtersLeft === 0;
  }
}

/** SBF header (33 and 34): options 0, growth, fp probability, sizes; returns the filter count. */
function readBloomHeader(c: Cursor, item: string): number {
  readLen(c, `${item} options`, (n) => n === 0, 'options 0');
  c.f64le();
  const fpAt = c.pos;
  const fp = c.f64le();
  if (!(fp > 0 && fp <= 0.5)) throw c.error(`${item} error rate`, `0 < p <= 0.5, got ${fp}`, fpAt);
  c.packed(`${item} previous size`);
  c.packed(`${item} current size`);
  c.packed(`${item} max capacity`);
  return c.packed(`${item} filter count`);
}

/** 33 SBF: per filter `len hash_count`, `str` filter bits. */
export class SbfReader extends SketchReader {
  private filtersLeft = -1;

  constructor() {
    super('SBF', 33);
  }

  protected readPart(c: Cursor): boolean {
    if (this.filtersLeft < 0) {
      this.filtersLeft = readBloomHeader(c, 'SBF');
      return this.filtersLeft === 0;
    }
    c.packed('SBF hash count');
    const at = c.pos;
    const bits = readStringView(c, 'SBF filter');
    if (!isPowerOfTwo(bits.length * 8)) {
      throw c.error('SBF filter', `a bit length that is a power of two, got ${bits.length} bytes`, at);
    }
    return --this.filtersLeft === 0;
  }
}

/** 34 SBF2: per filter `len hash_count`, `len total_size`, chunks. */
export class Sbf2Reader extends ChunkedFilterReader {
  constructor() {
    super('SBF2', 34);
  }

  protected readHeader(c: Cursor): number {
    return readBloomHeader(c, 'SBF2');
  }

  protected readFilterHeader(c: Cursor): number {
    c.packed('SBF2 hash count');
    return readLen(c, 'SBF2 filter size', (n) => isPowerOfTwo(n * 8), 'a bit length that is a power of two');
  }
}

/** 37 CUCKOO: parameters, then per filter `len total_size` (multiple of slots/bucket) and chunks. */
export class CuckooReader extends ChunkedFilterReader {
  private slotsPerBucket = 0;

  constructor() {
    super('CUCKOO', 37);
  }

  protected readHeader(c: Cursor): number {
    const spb = readLen(c, 'CUCKOO slots per bucket', (n) => n > 0 && n <= 255, '1 to 255');
    readLen(c, 'CUCKOO max iterations', (n) => n > 0 && n <= 65535, '1 to 65535');
    readLen(c, 'CUCKOO expansion', (n) => n === 0 || (n <= 65535 && isPowerOfTwo(n)), '0 or a power of two');
    readLen(c, 'CUCKOO bucket count', isPowerOfTwo, 'a power of two');
    c.packed('CUCKOO item count');
    c.packed('CUCKOO delete count');
    const filters = readLen(c, 'CUCKOO filter count', positive, 'at least 1');
    this.slotsPerBucket = spb;
    return filters;
  }

  protected readFilterHeader(c: Cursor): number {
    const spb = this.slotsPerBucket;
    return readLen(c, 'CUCKOO filter size', (n) => n > 0 && n % spb === 0, `a positive multiple of ${spb}`);
  }
}

/** 35 CMS: width, depth, total count, then width × depth int64 LE counters (no length prefix). */
export class CmsReader extends SketchReader {
  private counterBytes = -1;

  constructor() {
    super('CMS', 35);
  }

  protected readPart(c: Cursor): boolean {
    if (this.counterBytes < 0) {
      const width = readLen(c, 'CMS width', positive, 'at least 1');
      const depth = readLen(c, 'CMS depth', positive, 'at least 1');
      c.packed('CMS total count');
      this.counterBytes = width * depth * 8;
      return false;
    }
    skipArea(c, 'CMS counters', this.counterBytes);
    return true;
  }
}

/** 36 TOPK: options 0, k, width, depth, decay, heap items (item, count), counters string. */
export class TopkReader extends SketchReader {
  private heapLeft = -1;
  private counterBytes = 0;

  constructor() {
    super('TOPK', 36);
  }

  protected readPart(c: Cursor): boolean {
    if (this.heapLeft < 0) {
      readLen(c, 'TOPK options', (n) => n === 0, 'options 0');
      const k = readLen(c, 'TOPK k', positive, 'at least 1');
      const width = readLen(c, 'TOPK width', positive, 'at least 1');
      const depth = readLen(c, 'TOPK depth', positive, 'at least 1');
      const decayAt = c.pos;
      const decay = c.f64le();
      if (!(decay >= 0 && decay <= 1)) throw c.error('TOPK decay', `0 <= decay <= 1, got ${decay}`, decayAt);
      const heap = readLen(c, 'TOPK heap size', (n) => n <= k, `at most k = ${k}`);
      this.counterBytes = width * depth * 4;
      this.heapLeft = heap;
      return false;
    }
    if (this.heapLeft > 0) {
      readStringView(c, 'TOPK heap item');
      c.packed('TOPK heap count');
      this.heapLeft--;
      return false;
    }
    const at = c.pos;
    const counters = readStringView(c, 'TOPK counters');
    if (counters.length !== this.counterBytes) {
      throw c.error(
        'TOPK counters',
        `width × depth × 4 = ${this.counterBytes} bytes, got ${counters.length}`,
        at,
      );
    }
    return true;
  }
}
