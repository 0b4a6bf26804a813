/**
 * Kafka-ready messages, encoded once, straight into large slabs: the event builder writes every event
 * here as it makes it (key and value, through the codec), and each unit takes its messages as one
 * slice. The buffer then holds a unit as a single Buffer view instead of two Buffers and an object per
 * event, so what it counts is close to the memory it pins. Frame of one message:
 * [u32 key length][u32 value length][key][value].
 */
import type { EventCodec } from '../events/codec';
import type { EventWriter } from '../events/from-protocol';
import type { ChangeEvent } from '../events/model';
import type { EncodedMessage } from './event-buffer';

const FRAME_HEADER_BYTES = 8;
const DEFAULT_SLAB_BYTES = 1024 * 1024;

export class MessageSlab implements EventWriter {
  private slab: Buffer;
  /** where the next message goes */
  private end = 0;
  /** where the messages not yet taken start */
  private unitStart = 0;
  /** where the message written last starts (dropLast) */
  private lastStart = 0;
  private written = 0;

  constructor(
    private readonly codec: EventCodec,
    private readonly slabBytes = DEFAULT_SLAB_BYTES,
  ) {
    this.slab = Buffer.allocUnsafeSlow(slabBytes);
  }

  /** Messages written and not yet taken. */
  get pending(): number {
    return this.written;
  }

  write(event: ChangeEvent): number {
    const { source } = event;
    const key = {
      sourceId: source.sourceId,
      epoch: source.epoch,
      flow: source.flow,
      lsn: source.lsn,
      index: source.index,
    };
    for (let attempt = 0; ; attempt++) {
      const at = this.end;
      const keyEnd = this.codec.writeKey(key, this.slab, at + FRAME_HEADER_BYTES);
      const valueEnd = keyEnd < 0 ? -1 : this.codec.writeValue(event, this.slab, keyEnd);
      if (valueEnd >= 0) {
        const keyBytes = keyEnd - at - FRAME_HEADER_BYTES;
        this.slab.writeUInt32LE(keyBytes, at);
        this.slab.writeUInt32LE(valueEnd - keyEnd, at + 4);
        this.lastStart = at;
        this.end = valueEnd;
        this.written++;
        return valueEnd - keyEnd - this.codec.valueHeaderBytes;
      }
      // first a fresh slab; an event larger than a whole slab doubles it until it fits
      this.moveToNewSlab(attempt === 0 ? 0 : this.slab.length * 2);
    }
  }

  dropLast(): void {
    if (this.written === 0) return;
    this.end = this.lastStart;
    this.written--;
  }

  /** The oldest `count` messages not yet taken, as one slice (a unit's data). */
  take(count: number): Buffer {
    if (count > this.written) {
      throw new Error(`internal error: ${count} messages taken but only ${this.written} were written`);
    }
    let at = this.unitStart;
    for (let i = 0; i < count; i++) {
      at += FRAME_HEADER_BYTES + this.slab.readUInt32LE(at) + this.slab.readUInt32LE(at + 4);
    }
    const data = this.slab.subarray(this.unitStart, at);
    this.unitStart = at;
    this.written -= count;
    return data;
  }

  /** Forgets what was written and not taken (its unit was refused by the buffer). */
  discard(): void {
    this.end = this.unitStart;
    this.lastStart = this.end;
    this.written = 0;
  }

  /** Continues in a fresh slab (at least `minBytes`), carrying over the messages not yet taken. */
  private moveToNewSlab(minBytes: number): void {
    const carried = this.end - this.unitStart;
    const next = Buffer.allocUnsafeSlow(Math.max(this.slabBytes, minBytes, carried * 2));
    this.slab.copy(next, 0, this.unitStart, this.end);
    this.lastStart -= this.unitStart;
    this.end = carried;
    this.unitStart = 0;
    this.slab = next;
  }
}

/** The messages of a unit's data (views into it; no copy). */
export function framedMessages(data: Buffer, partition: number): EncodedMessage[] {
  const messages: EncodedMessage[] = [];
  for (let at = 0; at < data.length;) {
    const keyBytes = data.readUInt32LE(at);
    const valueBytes = data.readUInt32LE(at + 4);
    const keyStart = at + FRAME_HEADER_BYTES;
    const valueStart = keyStart + keyBytes;
    at = valueStart + valueBytes;
    messages.push({
      partition,
      key: data.subarray(keyStart, valueStart),
      value: data.subarray(valueStart, at),
    });
  }
  return messages;
}
