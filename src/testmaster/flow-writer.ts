import type { ClientConnection } from './client-connection';

export interface FlowWriterOptions {
  /** write at most `bytesPerWrite` bytes every `intervalMs` (a slow flow) */
  trickle?: { bytesPerWrite: number; intervalMs: number };
  /** stop writing for good once this many bytes were written (a stalled flow) */
  stallAfterBytes?: number;
}

/**
 * The output side of one scripted flow: bytes are queued in stream order and written at once, trickled,
 * held back after a stall point, or cut at a given stream offset (where a disconnect fault strikes).
 */
export class FlowWriter {
  private readonly queue: Buffer[] = [];
  private writtenBytes = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private cut: { at: number; then: () => void } | null = null;
  private stopped = false;

  constructor(
    private readonly conn: ClientConnection,
    private readonly options: FlowWriterOptions = {},
  ) {}

  /** Bytes queued so far (stream offset of the next byte pushed). */
  get queued(): number {
    return this.queuedBytes;
  }

  get written(): number {
    return this.writtenBytes;
  }

  push(bytes: Buffer): void {
    if (bytes.length === 0 || this.stopped) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (!this.timer) this.flush();
  }

  /** Once the stream reached offset `at`, write nothing more and call `then` (once). */
  cutAt(at: number, then: () => void): void {
    this.cut = { at, then };
    if (!this.timer) this.flush();
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private flush(): void {
    this.timer = null;
    const limit = Math.min(this.options.stallAfterBytes ?? Infinity, this.cut?.at ?? Infinity);
    const step = this.options.trickle?.bytesPerWrite ?? Infinity;
    while (!this.stopped && this.queue.length > 0 && this.writtenBytes < limit) {
      const head = this.queue[0]!;
      const n = Math.min(head.length, limit - this.writtenBytes, step);
      this.conn.write(head.subarray(0, n));
      this.writtenBytes += n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
      if (this.options.trickle) {
        this.timer = setTimeout(() => this.flush(), this.options.trickle.intervalMs);
        break;
      }
    }
    if (this.cut && this.writtenBytes >= this.cut.at) {
      const { then } = this.cut;
      this.cut = null;
      this.stop();
      then();
    }
  }
}
