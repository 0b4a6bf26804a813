import { Cursor } from './cursor';

/**
 * The unread bytes of one incoming stream. Appends are amortised O(1) (the backing buffer grows by
 * doubling and is compacted in place), so an item arriving in many small chunks costs linear time.
 * It holds only what has not been consumed yet: parsers consume each item as soon as it is complete.
 */
export class ByteQueue {
  private buf: Buffer;
  private start = 0;
  private end = 0;
  /** absolute stream offset of buf[start] */
  private consumedTotal = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  get length(): number {
    return this.end - this.start;
  }

  /** Absolute offset (bytes consumed since the stream began) of the first unread byte. */
  get offset(): number {
    return this.consumedTotal;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.end + chunk.length > this.buf.length) this.makeRoom(chunk.length);
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  private makeRoom(extra: number): void {
    const live = this.end - this.start;
    const needed = live + extra;
    if (needed <= this.buf.length && this.start >= live) {
      this.buf.copy(this.buf, 0, this.start, this.end);
    } else {
      let size = this.buf.length;
      while (size < needed) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
    }
    this.start = 0;
    this.end = live;
  }

  /** A cursor over the unread bytes; call consume(cursor.pos - start) after a complete item. */
  cursor(): Cursor {
    return new Cursor(this.buf, this.start, this.end, this.consumedTotal - this.start);
  }

  /** Marks everything before the cursor's position as read. */
  consumeTo(cursor: Cursor): void {
    const n = cursor.pos - this.start;
    this.start = cursor.pos;
    this.consumedTotal += n;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  /** Takes up to n unread bytes out of the queue (a copy). */
  take(n: number): Buffer {
    const len = Math.min(n, this.length);
    const out = Buffer.from(this.buf.subarray(this.start, this.start + len));
    this.start += len;
    this.consumedTotal += len;
    return out;
  }
}
