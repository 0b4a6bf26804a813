/**
 * Puts split values back together. Feed every event of a flow in order (flows may interleave);
 * `push` returns events that are complete (unsplit events as they are, a split value once its last
 * chunk arrived) and null while a value is still incomplete. The chunks of one value are contiguous
 * in their flow, so anything else arriving in between is an error, as is a gap or a reordering.
 * A reassembled event carries its last chunk's position (how far the flow has been consumed) and
 * the chunk { index 0, count 1, REPLACE }.
 */
import { ChunkSequenceError } from './errors';
import type { ChangeEvent, Chunk, EventValue, EventValueOf, JournalCommand, SnapshotRecord } from './model';

type Chunked = SnapshotRecord | JournalCommand;

interface Accumulator {
  add(piece: Chunked): void;
  finish(): Chunked;
}

interface Pending {
  first: ChangeEvent & { payload: Chunked };
  last: ChangeEvent;
  accumulator: Accumulator;
}

const WHOLE: Chunk = { index: 0, count: 1, mode: 'REPLACE' };

function appendAll<T>(target: T[], items: T[]): void {
  for (const item of items) target.push(item);
}

function bytesAccumulator(
  first: SnapshotRecord,
  bytesOf: (v: EventValue) => Buffer,
  make: (b: Buffer) => EventValue,
): Accumulator {
  const parts: Buffer[] = [bytesOf(first.value)];
  return {
    add: (piece) => parts.push(bytesOf((piece as SnapshotRecord).value)),
    finish: () => ({ ...first, value: make(Buffer.concat(parts)), chunk: WHOLE }),
  };
}

/** Merges stream pieces: a group (consumer) named like the last one so far continues it. */
function mergeStream(whole: EventValueOf<'StreamValue'>, piece: EventValueOf<'StreamValue'>): void {
  appendAll(whole.entries, piece.entries);
  for (const group of piece.groups) {
    const lastGroup = whole.groups[whole.groups.length - 1];
    if (lastGroup === undefined || !lastGroup.name.equals(group.name)) {
      whole.groups.push({
        ...group,
        pending: [...group.pending],
        consumers: group.consumers.map((c) => ({ ...c, pending: [...c.pending] })),
      });
      continue;
    }
    appendAll(lastGroup.pending, group.pending);
    for (const consumer of group.consumers) {
      const lastConsumer = lastGroup.consumers[lastGroup.consumers.length - 1];
      if (lastConsumer !== undefined && lastConsumer.name.equals(consumer.name))
        appendAll(lastConsumer.pending, consumer.pending);
      else lastGroup.consumers.push({ ...consumer, pending: [...consumer.pending] });
    }
  }
}

function copyForAppend(value: EventValue): EventValue {
  switch (value.type) {
    case 'ListValue':
      return { ...value, items: [...value.items] };
    case 'SetValue':
      return {
        ...value,
        members: [...value.members],
        memberExpireAtMs: value.memberExpireAtMs && [...value.memberExpireAtMs],
      };
    case 'ZSetValue':
      return { ...value, entries: [...value.entries] };
    case 'HashValue':
      return {
        ...value,
        fields: [...value.fields],
        fieldExpireAtMs: value.fieldExpireAtMs && [...value.fieldExpireAtMs],
      };
    case 'StreamValue': {
      const whole: EventValueOf<'StreamValue'> = { ...value, entries: [], groups: [] };
      mergeStream(whole, value);
      return whole;
    }
    default:
      return value;
  }
}

function appendElements(whole: EventValue, piece: EventValue): void {
  if (whole.type === 'ListValue' && piece.type === 'ListValue') appendAll(whole.items, piece.items);
  else if (whole.type === 'SetValue' && piece.type === 'SetValue') {
    appendAll(whole.members, piece.members);
    if (whole.memberExpireAtMs && piece.memberExpireAtMs)
      appendAll(whole.memberExpireAtMs, piece.memberExpireAtMs);
  } else if (whole.type === 'ZSetValue' && piece.type === 'ZSetValue')
    appendAll(whole.entries, piece.entries);
  else if (whole.type === 'HashValue' && piece.type === 'HashValue') {
    appendAll(whole.fields, piece.fields);
    if (whole.fieldExpireAtMs && piece.fieldExpireAtMs)
      appendAll(whole.fieldExpireAtMs, piece.fieldExpireAtMs);
  } else if (whole.type === 'StreamValue' && piece.type === 'StreamValue') mergeStream(whole, piece);
}

function recordAccumulator(first: SnapshotRecord): Accumulator {
  const value = first.value;
  switch (value.type) {
    case 'StringValue':
      return bytesAccumulator(
        first,
        (v) => (v as EventValueOf<'StringValue'>).value,
        (b) => ({ type: 'StringValue', value: b }),
      );
    case 'JsonValue':
      return bytesAccumulator(
        first,
        (v) => (v as EventValueOf<'JsonValue'>).json,
        (b) => ({ type: 'JsonValue', json: b }),
      );
    case 'SketchValue':
      return bytesAccumulator(
        first,
        (v) => (v as EventValueOf<'SketchValue'>).raw,
        (b) => ({ ...value, raw: b }),
      );
    default: {
      const whole = copyForAppend(value);
      return {
        add: (piece) => appendElements(whole, (piece as SnapshotRecord).value),
        finish: () => ({ ...first, value: whole, chunk: WHOLE }),
      };
    }
  }
}

function commandAccumulator(first: JournalCommand): Accumulator {
  const args: Buffer[][] = first.args.map((a) => [a]);
  return {
    add: (piece) => {
      const [head, ...rest] = piece.type === 'JournalCommand' ? piece.args : [];
      if (head !== undefined) {
        const lastArg = args[args.length - 1];
        if (piece.chunk.mode === 'APPEND_BYTES' && lastArg !== undefined) lastArg.push(head);
        else args.push([head]);
      }
      for (const arg of rest) args.push([arg]);
    },
    finish: () => ({
      ...first,
      args: args.map((parts) => (parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts))),
      chunk: WHOLE,
    }),
  };
}

const BYTE_VALUES = new Set<EventValue['type']>(['StringValue', 'JsonValue', 'SketchValue']);

function describe(event: ChangeEvent): string {
  const { epoch, lsn, index } = event.source;
  const payload = event.payload;
  const what =
    payload.type === 'SnapshotRecord'
      ? `SnapshotRecord of key ${JSON.stringify(payload.key.toString('latin1').slice(0, 60))} chunk ${payload.chunk.index}/${payload.chunk.count}`
      : payload.type === 'JournalCommand'
        ? `JournalCommand ${payload.command} chunk ${payload.chunk.index}/${payload.chunk.count}`
        : payload.type;
  return `${what} at epoch ${epoch} lsn ${lsn} index ${index}`;
}

function isChunked(event: ChangeEvent): event is ChangeEvent & { payload: Chunked } {
  const p = event.payload;
  return (p.type === 'SnapshotRecord' || p.type === 'JournalCommand') && p.chunk.count > 1;
}

/** Why `event` cannot be the next chunk of the open value, or undefined when it can. */
function continuationProblem(open: Pending, event: ChangeEvent & { payload: Chunked }): string | undefined {
  const first = open.first;
  const a = first.payload;
  const b = event.payload;
  const expectedIndex = open.last.source.index + 1;
  if (event.source.epoch !== first.source.epoch || event.source.lsn !== first.source.lsn)
    return 'is at another position';
  if (event.source.index !== expectedIndex || b.chunk.index !== expectedIndex - first.source.index) {
    return `is out of order (expected chunk ${expectedIndex - first.source.index} at index ${expectedIndex})`;
  }
  if (b.chunk.mode === 'REPLACE') return 'has mode REPLACE after chunk 0';
  if (a.type === 'SnapshotRecord' && b.type === 'SnapshotRecord') {
    if (
      b.chunk.count !== a.chunk.count ||
      b.db !== a.db ||
      !b.key.equals(a.key) ||
      b.value.type !== a.value.type
    ) {
      return 'belongs to another key';
    }
    const expectedMode = BYTE_VALUES.has(b.value.type) ? 'APPEND_BYTES' : 'APPEND_ELEMENTS';
    return b.chunk.mode === expectedMode
      ? undefined
      : `has mode ${b.chunk.mode}, which does not fit a ${b.value.type}`;
  }
  if (a.type === 'JournalCommand' && b.type === 'JournalCommand') {
    const same =
      b.chunk.count === a.chunk.count && b.command === a.command && b.txid === a.txid && b.db === a.db;
    return same ? undefined : 'belongs to another command';
  }
  return 'does not continue the same value';
}

export class ValueReassembler {
  private readonly pending = new Map<number, Pending>();

  /**
   * Feeds the next event of its flow; returns the completed event or null while a value is open.
   * A ChunkSequenceError also forgets the flow's open value: the broken value is lost either way,
   * and the values after it must not be refused for its sake.
   */
  push(event: ChangeEvent): ChangeEvent | null {
    try {
      return this.next(event);
    } catch (e) {
      this.pending.delete(event.source.flow);
      throw e;
    }
  }

  private next(event: ChangeEvent): ChangeEvent | null {
    const flow = event.source.flow;
    const open = this.pending.get(flow);
    if (open !== undefined && event.source.epoch > open.first.source.epoch) {
      // the source started a new snapshot: the unfinished value belongs to an abandoned epoch
      this.pending.delete(flow);
      return this.next(event);
    }
    if (!isChunked(event)) {
      if (open !== undefined) throw this.interrupted(flow, open, event);
      return event;
    }
    const chunk = event.payload.chunk;
    if (chunk.index === 0) {
      if (open !== undefined && !this.isRedelivery(open, event)) throw this.interrupted(flow, open, event);
      this.start(flow, event);
      return null;
    }
    if (open === undefined) {
      throw new ChunkSequenceError(
        flow,
        `${describe(event)} arrived without the chunks before it`,
        `read the flow from the value's chunk 0 (at index ${event.source.index - chunk.index} of the same lsn); ` +
          'if the consumer did start there, events were lost between the producer and this consumer',
      );
    }
    this.checkContinues(flow, open, event);
    open.accumulator.add(event.payload);
    open.last = event;
    if (chunk.index < chunk.count - 1) return null;
    this.pending.delete(flow);
    return { source: event.source, payload: open.accumulator.finish() };
  }

  /** Flows with an unfinished split value. */
  openFlows(): number[] {
    return [...this.pending.keys()];
  }

  /** Forgets a flow's unfinished value (e.g. its partition was revoked; it will be re-read). */
  discard(flow: number): void {
    this.pending.delete(flow);
  }

  private start(flow: number, event: ChangeEvent & { payload: Chunked }): void {
    const payload = event.payload;
    const accumulator =
      payload.type === 'SnapshotRecord' ? recordAccumulator(payload) : commandAccumulator(payload);
    this.pending.set(flow, { first: event, last: event, accumulator });
  }

  /** Chunk 0 of the value already open: the producer re-sent it after a crash without transactions. */
  private isRedelivery(open: Pending, event: ChangeEvent): boolean {
    const a = open.first.source;
    const b = event.source;
    return a.epoch === b.epoch && a.lsn === b.lsn && a.index === b.index;
  }

  private interrupted(flow: number, open: Pending, event: ChangeEvent): ChunkSequenceError {
    const chunk = open.first.payload.chunk;
    return new ChunkSequenceError(
      flow,
      `${describe(event)} arrived while ${describe(open.last)} still waits for chunk ` +
        `${open.last.source.index - open.first.source.index + 1} of ${chunk.count}`,
      'events of a flow must be read in partition order without skipping; if they were, the topic was ' +
        'written by a producer that lost events (check the source logs for that position)',
    );
  }

  private checkContinues(flow: number, open: Pending, event: ChangeEvent & { payload: Chunked }): void {
    const problem = continuationProblem(open, event);
    if (problem !== undefined) {
      throw new ChunkSequenceError(
        flow,
        `${describe(event)} ${problem}; the open value is ${describe(open.last)}`,
        'events of a flow must be read in partition order; a mismatch here means the topic holds events ' +
          'of different writers or was altered',
      );
    }
  }
}
