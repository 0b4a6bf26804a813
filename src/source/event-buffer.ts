/**
 * The bounded buffer between the replica session and Kafka. The session must never wait for Kafka
 * (a flow that is not drained stalls the master's writers), so pushing never blocks: a unit that would
 * take the buffer over its byte limit is refused, and from then on every unit is refused until the
 * owner reopens the buffer — the owner detaches from the master meanwhile (see flow-control.ts), so
 * nothing after the refused unit is half-kept. Units leave only once Kafka has committed them.
 */
import type { FlowPosition } from './event-builder';

export interface EncodedMessage {
  partition: number;
  key: Buffer;
  value: Buffer;
}

/** The position of a unit's last event: (epoch, lsn, index). */
export interface EventKeyPosition {
  epoch: number;
  lsn: number;
  index: number;
}

export interface BufferedUnit {
  flow: number;
  /** the unit's messages, encoded and framed (see message-slab.ts) */
  data: Buffer;
  /** how many messages (events) data holds */
  count: number;
  /** memory the unit pins: its data plus the objects that hold it */
  bytes: number;
  /** the flow's position once this unit is committed */
  position: FlowPosition;
  /** key of the unit's last event; null for a unit that only moves the position */
  lastKey: EventKeyPosition | null;
  /** the topic must have this many partitions before the unit is published (a sync's flow count) */
  requiresPartitions?: number;
}

/** Exponential smoothing of the byte rates over about this long. */
const RATE_WINDOW_MS = 10_000;

export class EventBuffer {
  private queue: BufferedUnit[] = [];
  private head = 0;
  private bytesHeld = 0;
  private eventsHeld = 0;
  private refusing = false;
  private waiter: (() => void) | null = null;
  private bytesIn = 0;
  private bytesOut = 0;
  private lastSample: { atMs: number; bytesIn: number; bytesOut: number } | null = null;
  private inRate = 0;
  private outRate = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.bytesHeld;
  }

  get events(): number {
    return this.eventsHeld;
  }

  get units(): number {
    return this.queue.length - this.head;
  }

  /** true from the first refused unit until reopen() */
  get overflowed(): boolean {
    return this.refusing;
  }

  /**
   * Adds a unit unless it would exceed the limit (or the buffer is refusing); never waits. With
   * `mayExceed` it is accepted over the limit: a full sync pauses the socket that delivered it, so
   * the excess is bounded by what one read of each flow yields.
   */
  push(unit: BufferedUnit, mayExceed = false): boolean {
    if (this.refusing) return false;
    if (!mayExceed && this.bytesHeld + unit.bytes > this.maxBytes && this.units > 0) {
      this.refusing = true;
      return false;
    }
    this.queue.push(unit);
    this.bytesHeld += unit.bytes;
    this.eventsHeld += unit.count;
    this.bytesIn += unit.bytes;
    this.wake();
    return true;
  }

  /** Accept units again (after the owner re-attached to the master). */
  reopen(): void {
    this.refusing = false;
  }

  /**
   * Whole units from the head holding at most `maxEvents` events (but at least one unit), without
   * removing them; pass the count to remove() once they are committed.
   */
  peek(maxEvents: number): BufferedUnit[] {
    const out: BufferedUnit[] = [];
    let events = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const unit = this.queue[i]!;
      if (out.length > 0 && events + unit.count > maxEvents) break;
      out.push(unit);
      events += unit.count;
    }
    return out;
  }

  remove(count: number): void {
    for (let i = 0; i < count && this.head < this.queue.length; i++) {
      const unit = this.queue[this.head]!;
      this.bytesHeld -= unit.bytes;
      this.eventsHeld -= unit.count;
      this.bytesOut += unit.bytes;
      this.queue[this.head++] = undefined as unknown as BufferedUnit;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Resolves when a unit is waiting (at once if one is), or after `timeoutMs`, or on wake(). */
  waitForUnits(timeoutMs: number): Promise<void> {
    if (this.units > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Ends a waitForUnits() early (stop requested). */
  wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  /** Updates the smoothed in/out byte rates; call about once a second. */
  sampleRates(nowMs: number): void {
    const last = this.lastSample;
    this.lastSample = { atMs: nowMs, bytesIn: this.bytesIn, bytesOut: this.bytesOut };
    if (!last || nowMs <= last.atMs) return;
    const elapsed = nowMs - last.atMs;
    const weight = Math.min(1, elapsed / RATE_WINDOW_MS);
    this.inRate += weight * (((this.bytesIn - last.bytesIn) * 1000) / elapsed - this.inRate);
    this.outRate += weight * (((this.bytesOut - last.bytesOut) * 1000) / elapsed - this.outRate);
  }

  /** Smoothed bytes per second into and out of the buffer. */
  get rates(): { inBytesPerSecond: number; outBytesPerSecond: number } {
    return { inBytesPerSecond: this.inRate, outBytesPerSecond: this.outRate };
  }

  /** Seconds until the buffer is full at the current rates; Infinity when it is not filling. */
  secondsToFull(): number {
    const net = this.inRate - this.outRate;
    if (net <= 0) return Infinity;
    return Math.max(0, this.maxBytes - this.bytesHeld) / net;
  }
}
