import { Cursor } from '../cursor';
import { isNeedMore } from '../errors';

/**
 * A value that is decoded one element at a time, so a big container arriving in many chunks is read
 * in linear time: the caller drops the bytes of completed elements and only the unfinished element is
 * read again when more input arrives.
 *
 * Contract: `step` reads one element (or one fixed group of fields) and changes the reader's state
 * only after all of its reads succeeded, so a NEED_MORE thrown from inside a step leaves the reader as
 * it was before that step and the step can simply be retried from the same position.
 */
export interface StepReader<T> {
  /** Reads the next element; true once the whole value has been read. */
  step(c: Cursor): boolean;
  /** The finished value (valid after `step` returned true). */
  result(): T;
}

/** Counts the bytes parsers examine, including bytes read again after NEED_MORE (a work measure). */
export interface ScanCounter {
  scanned: number;
}

/**
 * Runs steps until the value is complete (true) or input runs out (false). On false the cursor is at
 * the end of the last completed element and `c.needed` says how far the failed step wanted to read.
 */
export function runSteps(reader: StepReader<unknown>, c: Cursor, counter: ScanCounter): boolean {
  const start = c.pos;
  let mark = start;
  try {
    while (!reader.step(c)) mark = c.pos;
    counter.scanned += c.pos - start;
    return true;
  } catch (e) {
    if (!isNeedMore(e)) throw e;
    counter.scanned += c.pos - start;
    c.pos = mark;
    return false;
  }
}

/** A reader whose whole value is one step (small or never-split values). */
export class SingleStep<T> implements StepReader<T> {
  private value: T | undefined;

  constructor(private readonly read: (c: Cursor) => T) {}

  step(c: Cursor): boolean {
    this.value = this.read(c);
    return true;
  }

  result(): T {
    return this.value as T;
  }
}
