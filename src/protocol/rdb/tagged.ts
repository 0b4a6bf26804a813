import { ByteQueue } from '../byte-queue';
import { ProtocolError } from '../errors';
import { SnapshotEntry } from '../types';
import { EntryReader } from './entry-reader';
import { runSteps, ScanCounter } from './steps';

/**
 * Reassembly of TAGGED_CHUNK items (spec 4.7). The payloads of one stream id, concatenated in arrival
 * order, form one ordinary key entry; other items (and chunks of other ids) may sit in between. Each
 * open id keeps only the bytes of its unfinished element plus the partly built value, so the entry is
 * decoded as its chunks arrive, in linear time. The entry belongs to the db selected when its first
 * chunk arrived.
 */

interface OpenEntry {
  queue: ByteQueue;
  reader: EntryReader;
  /** bytes the unfinished element needs before parsing is worth retrying */
  waitFor: number;
  /** payload bytes received so far (for the "dropped" report) */
  received: number;
}

export interface DroppedEntry {
  streamId: number;
  bytes: number;
}

export class TaggedChunks {
  private readonly open = new Map<number, OpenEntry>();

  constructor(
    private readonly rdbVersion: () => number,
    private readonly counter: ScanCounter,
  ) {}

  /** Number of entries whose last chunk has not arrived yet. */
  get openCount(): number {
    return this.open.size;
  }

  /**
   * Adds one chunk. Returns the entry when this chunk completed it, else null. `chunkOffset` (the
   * chunk's position in the flow) is used for error messages.
   */
  add(streamId: number, payload: Buffer, db: number, chunkOffset: number): SnapshotEntry | null {
    let entry = this.open.get(streamId);
    if (!entry) {
      entry = {
        queue: new ByteQueue(payload.length),
        reader: new EntryReader(db, this.rdbVersion()),
        waitFor: 0,
        received: 0,
      };
      this.open.set(streamId, entry);
    }
    entry.queue.append(payload);
    entry.received += payload.length;
    if (entry.queue.length < entry.waitFor) return null;

    const c = entry.queue.cursor();
    let done: boolean;
    try {
      done = runSteps(entry.reader, c, this.counter);
    } catch (e) {
      throw e instanceof ProtocolError ? inChunk(e, streamId, chunkOffset) : e;
    }
    entry.queue.consumeTo(c);
    if (!done) {
      entry.waitFor = c.needed - c.pos;
      return null;
    }
    if (entry.queue.length > 0) {
      throw new ProtocolError({
        offset: chunkOffset,
        item: `tagged chunk (stream id ${streamId})`,
        expected: `a payload that ends with its entry, but ${entry.queue.length} bytes follow the entry's value`,
      });
    }
    this.open.delete(streamId);
    return entry.reader.result();
  }

  /** Forgets every unfinished entry (at the RDB EOF: such keys are dropped) and reports them. */
  discardAll(): DroppedEntry[] {
    const dropped = [...this.open].map(([streamId, e]) => ({ streamId, bytes: e.received }));
    this.open.clear();
    return dropped;
  }
}

function inChunk(e: ProtocolError, streamId: number, chunkOffset: number): ProtocolError {
  return new ProtocolError({
    offset: chunkOffset,
    item: `tagged entry (stream id ${streamId})`,
    expected: `${e.message} (offset counted within the reassembled entry)`,
  });
}
