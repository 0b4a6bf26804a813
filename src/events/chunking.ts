/**
 * Cuts a value (or a command's arguments) into pieces whose variable content fits in `capacity`
 * bytes of Avro encoding. The caller measured everything else of the event (with an empty value)
 * and passes what is left. Byte values are cut anywhere (APPEND_BYTES); containers only between
 * elements (APPEND_ELEMENTS); a stream group or consumer cut in two is repeated by name in the next
 * piece and continues there.
 */
import { EventTooLargeError } from './errors';
import type {
  ChunkMode,
  EventValue,
  EventValueOf,
  StreamConsumerValue,
  StreamEntryValue,
  StreamGroupValue,
  StreamPendingValue,
} from './model';
import {
  ARRAY_COUNT_MAX_BYTES,
  bytesSize,
  bytesThatFit,
  longSize,
  nullableLongSize,
  stringSize,
} from './sizes';

export interface ValuePiece {
  value: EventValue;
  mode: ChunkMode;
}

function tooLarge(what: string, size: number, capacity: number): EventTooLargeError {
  return new EventTooLargeError(
    `${what} needs ${size} bytes but only ${capacity} bytes are left in an event`,
    'raise the source max event size (and the topic/broker max message size with it)',
  );
}

/** Greedy ranges [start, end) of elements whose summed cost stays within capacity. */
function packRanges(
  count: number,
  costOf: (i: number) => number,
  capacity: number,
  what: string,
): number[][] {
  const ranges: number[][] = [];
  let start = 0;
  let used = 0;
  for (let i = 0; i < count; i++) {
    const cost = costOf(i);
    if (cost > capacity) throw tooLarge(`${what} element ${i}`, cost, capacity);
    if (used + cost > capacity) {
      ranges.push([start, i]);
      start = i;
      used = 0;
    }
    used += cost;
  }
  ranges.push([start, count]);
  return ranges;
}

function splitBytes(bytes: Buffer, capacity: number, what: string): Buffer[] {
  const pieceLength = bytesThatFit(capacity);
  if (pieceLength < 1) throw tooLarge(what, bytes.length, capacity);
  if (bytes.length <= pieceLength) return [bytes];
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += pieceLength) pieces.push(bytes.subarray(at, at + pieceLength));
  return pieces;
}

function elementPieces<T extends EventValue>(
  ranges: number[][],
  make: (start: number, end: number) => T,
): ValuePiece[] {
  return ranges.map(([start, end], i) => ({
    value: make(start as number, end as number),
    mode: i === 0 ? 'REPLACE' : 'APPEND_ELEMENTS',
  }));
}

function slicePlain<T>(list: T[], start: number, end: number): T[] {
  return start === 0 && end === list.length ? list : list.slice(start, end);
}

function streamEntrySize(entry: StreamEntryValue): number {
  return (
    stringSize(entry.id) + ARRAY_COUNT_MAX_BYTES + 1 + entry.fields.reduce((n, f) => n + bytesSize(f), 0)
  );
}

function groupHeaderSize(group: StreamGroupValue): number {
  return (
    bytesSize(group.name) +
    stringSize(group.lastDeliveredId) +
    nullableLongSize(group.entriesRead) +
    2 * (1 + ARRAY_COUNT_MAX_BYTES)
  );
}

function pendingSize(entry: StreamPendingValue): number {
  return stringSize(entry.id) + longSize(entry.deliveryTimeMs) + longSize(entry.deliveryCount);
}

function consumerHeaderSize(consumer: StreamConsumerValue): number {
  return (
    bytesSize(consumer.name) +
    longSize(consumer.seenTimeMs) +
    nullableLongSize(consumer.activeTimeMs) +
    1 +
    ARRAY_COUNT_MAX_BYTES
  );
}

function splitStream(value: EventValueOf<'StreamValue'>, capacity: number): ValuePiece[] {
  const room = capacity - 2 * ARRAY_COUNT_MAX_BYTES;
  const pieces: EventValueOf<'StreamValue'>[] = [];
  const fresh = (): EventValueOf<'StreamValue'> => ({ ...value, entries: [], groups: [] });
  let piece = fresh();
  let used = 0;
  let group: StreamGroupValue | undefined;
  let consumer: StreamConsumerValue | undefined;

  const openGroup = (source: StreamGroupValue): void => {
    group = { ...source, pending: [], consumers: [] };
    piece.groups.push(group);
    used += groupHeaderSize(source);
  };
  const openConsumer = (source: StreamConsumerValue): void => {
    consumer = { ...source, pending: [] };
    (group as StreamGroupValue).consumers.push(consumer);
    used += consumerHeaderSize(source);
  };
  /** Makes room for `cost` bytes, starting a new piece (re-opening the open group/consumer) if needed. */
  const reserve = (cost: number, what: string, reopen: () => void): void => {
    if (used + cost <= room) return;
    pieces.push(piece);
    piece = fresh();
    used = 0;
    reopen();
    if (used + cost > room) throw tooLarge(what, used + cost, room);
  };

  value.entries.forEach((entry, i) => {
    reserve(streamEntrySize(entry), `stream entry ${i}`, () => undefined);
    piece.entries.push(entry);
    used += streamEntrySize(entry);
  });
  for (const sourceGroup of value.groups) {
    reserve(groupHeaderSize(sourceGroup), 'stream group header', () => undefined);
    openGroup(sourceGroup);
    for (const entry of sourceGroup.pending) {
      reserve(pendingSize(entry), 'stream pending entry', () => openGroup(sourceGroup));
      (group as StreamGroupValue).pending.push(entry);
      used += pendingSize(entry);
    }
    for (const sourceConsumer of sourceGroup.consumers) {
      reserve(consumerHeaderSize(sourceConsumer), 'stream consumer header', () => openGroup(sourceGroup));
      openConsumer(sourceConsumer);
      for (const id of sourceConsumer.pending) {
        reserve(stringSize(id), 'stream consumer pending id', () => {
          openGroup(sourceGroup);
          openConsumer(sourceConsumer);
        });
        (consumer as StreamConsumerValue).pending.push(id);
        used += stringSize(id);
      }
    }
  }
  pieces.push(piece);
  return pieces.map((p, i) => ({ value: p, mode: i === 0 ? 'REPLACE' : 'APPEND_ELEMENTS' }));
}

/** Splits a value so that each piece's content fits in `capacity` bytes; one piece when it all fits. */
export function splitValue(value: EventValue, capacity: number): ValuePiece[] {
  const bytePieces = (bytes: Buffer, make: (b: Buffer) => EventValue): ValuePiece[] =>
    // +1: the measured base already holds the empty value's one-byte length
    splitBytes(bytes, capacity + 1, value.type).map((b, i) => ({
      value: make(b),
      mode: i === 0 ? 'REPLACE' : 'APPEND_BYTES',
    }));
  switch (value.type) {
    case 'StringValue':
      return bytePieces(value.value, (b) => ({ type: 'StringValue', value: b }));
    case 'JsonValue':
      return bytePieces(value.json, (b) => ({ type: 'JsonValue', json: b }));
    case 'SketchValue':
      return bytePieces(value.raw, (b) => ({ type: 'SketchValue', kind: value.kind, raw: b }));
    case 'ListValue': {
      const ranges = packRanges(
        value.items.length,
        (i) => bytesSize(value.items[i] as Buffer),
        capacity - ARRAY_COUNT_MAX_BYTES,
        'list',
      );
      return elementPieces(ranges, (s, e) => ({ type: 'ListValue', items: slicePlain(value.items, s, e) }));
    }
    case 'SetValue': {
      const expiries = value.memberExpireAtMs;
      const ranges = packRanges(
        value.members.length,
        (i) => bytesSize(value.members[i] as Buffer) + (expiries ? nullableLongSize(expiries[i] ?? null) : 0),
        capacity - 2 * ARRAY_COUNT_MAX_BYTES,
        'set',
      );
      return elementPieces(ranges, (s, e) => ({
        type: 'SetValue',
        members: slicePlain(value.members, s, e),
        memberExpireAtMs: expiries === null ? null : slicePlain(expiries, s, e),
      }));
    }
    case 'ZSetValue': {
      const ranges = packRanges(
        value.entries.length,
        (i) => bytesSize((value.entries[i] as { member: Buffer }).member) + 8,
        capacity - ARRAY_COUNT_MAX_BYTES,
        'sorted set',
      );
      return elementPieces(ranges, (s, e) => ({
        type: 'ZSetValue',
        entries: slicePlain(value.entries, s, e),
      }));
    }
    case 'HashValue': {
      const expiries = value.fieldExpireAtMs;
      const ranges = packRanges(
        value.fields.length,
        (i) => {
          const f = value.fields[i] as { field: Buffer; value: Buffer };
          return (
            bytesSize(f.field) + bytesSize(f.value) + (expiries ? nullableLongSize(expiries[i] ?? null) : 0)
          );
        },
        capacity - 2 * ARRAY_COUNT_MAX_BYTES,
        'hash',
      );
      return elementPieces(ranges, (s, e) => ({
        type: 'HashValue',
        fields: slicePlain(value.fields, s, e),
        fieldExpireAtMs: expiries === null ? null : slicePlain(expiries, s, e),
      }));
    }
    case 'StreamValue':
      return splitStream(value, capacity);
  }
}

export interface ArgsPiece {
  args: Buffer[];
  mode: ChunkMode;
}

/**
 * Splits command arguments into pieces of at most `capacity` bytes of content. An argument too big
 * for the room left is cut: the next piece starts with its rest and has mode APPEND_BYTES.
 */
export function splitArgs(args: Buffer[], capacity: number): ArgsPiece[] {
  const room = capacity - ARRAY_COUNT_MAX_BYTES;
  const pieces: ArgsPiece[] = [];
  let current: ArgsPiece = { args: [], mode: 'REPLACE' };
  let used = 0;
  for (const arg of args) {
    let rest = arg;
    for (;;) {
      if (used + bytesSize(rest) <= room) {
        current.args.push(rest);
        used += bytesSize(rest);
        break;
      }
      const fit = bytesThatFit(room - used);
      if (fit > 0) {
        current.args.push(rest.subarray(0, fit));
        rest = rest.subarray(fit);
      }
      if (current.args.length === 0) throw tooLarge('a command argument', bytesSize(rest), room);
      pieces.push(current);
      current = { args: [], mode: fit > 0 ? 'APPEND_BYTES' : 'APPEND_ELEMENTS' };
      used = 0;
    }
  }
  pieces.push(current);
  return pieces;
}
