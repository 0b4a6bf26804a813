/**
 * Protocol items (src/protocol/types.ts) → change events. Pure: the caller supplies the position
 * (origin, phase, lsn, first index, timestamp); events of one item take consecutive indexes.
 * A value or command whose encoding would exceed `maxEventBytes` (wire header included) is split into
 * chunk events (see chunking.ts); everything a chunk needs to be applied on its own (db, key, TTL,
 * flags, command name) is repeated in every chunk.
 *
 * Every event made is handed to an EventWriter, which encodes it exactly once (the source writes it
 * straight into its buffer); the length of that encoding decides whether the value must be chunked.
 * Only a value found too large costs one more, small encoding: its event without the value, to know
 * the room left for the chunks.
 */
import type { JournalRecord, SnapshotEntry } from '../protocol/types';
import { toAvroEvent } from './avro-shape';
import { splitArgs, splitValue } from './chunking';
import { EventTooLargeError } from './errors';
import type {
  ChangeEvent,
  Chunk,
  EventPayload,
  EventPosition,
  EventValue,
  Heartbeat,
  JournalCommand,
  SnapshotFinished,
  SnapshotRecord,
  SnapshotStarted,
  StableSyncStarted,
} from './model';
import { currentSchemas } from './schemas';
import { MAX_WIRE_HEADER_BYTES } from './sizes';
import { rdbValueToEventValue } from './values';

/** Chunk numbers as large as they can be, so a measured base size bounds every chunk's. */
const WIDEST_CHUNK: Chunk = { index: 0x7fffffff, count: 0x7fffffff, mode: 'APPEND_ELEMENTS' };
const SINGLE_CHUNK: Chunk = { index: 0, count: 1, mode: 'REPLACE' };

const EMPTY_VALUES: Record<EventValue['type'], (v: EventValue) => EventValue> = {
  StringValue: () => ({ type: 'StringValue', value: Buffer.alloc(0) }),
  ListValue: () => ({ type: 'ListValue', items: [] }),
  SetValue: (v) => ({
    type: 'SetValue',
    members: [],
    memberExpireAtMs: 'memberExpireAtMs' in v && v.memberExpireAtMs ? [] : null,
  }),
  ZSetValue: () => ({ type: 'ZSetValue', entries: [] }),
  HashValue: (v) => ({
    type: 'HashValue',
    fields: [],
    fieldExpireAtMs: 'fieldExpireAtMs' in v && v.fieldExpireAtMs ? [] : null,
  }),
  StreamValue: (v) => ({ ...(v as Extract<EventValue, { type: 'StreamValue' }>), entries: [], groups: [] }),
  JsonValue: () => ({ type: 'JsonValue', json: Buffer.alloc(0) }),
  SketchValue: (v) => ({ ...(v as Extract<EventValue, { type: 'SketchValue' }>), raw: Buffer.alloc(0) }),
};

function makeEvent(position: EventPosition, offset: number, payload: EventPayload): ChangeEvent {
  const { origin, phase, lsn, index, timestampMs } = position;
  const withDb = 'db' in payload ? payload.db : null;
  const withTxid = 'txid' in payload ? payload.txid : null;
  return {
    source: { ...origin, phase, lsn, index: index + offset, txid: withTxid, db: withDb, timestampMs },
    payload,
  };
}

/** Where converted events go; each is encoded once, when written. */
export interface EventWriter {
  /** Encodes and keeps the event; returns the length of its Avro body (wire header excluded). */
  write(event: ChangeEvent): number;
  /** Forgets the event written last (it was too large: its chunks are written instead). */
  dropLast(): void;
}

let scratch = Buffer.allocUnsafe(64 * 1024);

/** Encodes the Avro body into a reused scratch buffer, for its length only. */
function measure(event: ChangeEvent): number {
  const type = currentSchemas().value.type;
  let end = type.encode(toAvroEvent(event), scratch, 0);
  while (end < 0) {
    scratch = Buffer.allocUnsafe(Math.ceil((scratch.length - end) * 1.5));
    end = type.encode(toAvroEvent(event), scratch, 0);
  }
  return end;
}

/** The writer used when the caller keeps only the events: it measures and keeps nothing. */
const MEASURING_WRITER: EventWriter = { write: measure, dropLast: () => undefined };

/** Chunk numbers written at their widest take this many bytes more than the single chunk {0, 1}. */
const WIDEST_CHUNK_EXTRA_BYTES = 8;

/** Whether an event written whole (chunk {0, 1}) of this body length stays within the limit. */
function fitsWhole(bodyBytes: number, maxEventBytes: number): boolean {
  return bodyBytes + WIDEST_CHUNK_EXTRA_BYTES + MAX_WIRE_HEADER_BYTES <= maxEventBytes;
}

/** Writes the events (all fit by construction) and returns them. */
function writeAll(writer: EventWriter, events: ChangeEvent[]): ChangeEvent[] {
  for (const event of events) writer.write(event);
  return events;
}

/** Bytes left for variable content once everything else of the event (measured) and the header are in. */
function capacityFor(event: ChangeEvent, maxEventBytes: number, what: string): number {
  const capacity = maxEventBytes - MAX_WIRE_HEADER_BYTES - measure(event);
  if (capacity <= 0) {
    throw new EventTooLargeError(
      `${what} alone needs ${maxEventBytes - capacity} bytes, more than the max event size ${maxEventBytes}`,
      'raise the source max event size (and the topic/broker max message size with it)',
    );
  }
  return capacity;
}

/** One snapshot key → one SnapshotRecord event, or several chunk events when it is too big. */
export function snapshotEntryToEvents(
  entry: SnapshotEntry,
  position: EventPosition,
  maxEventBytes: number,
  writer: EventWriter = MEASURING_WRITER,
): ChangeEvent[] {
  const value = rdbValueToEventValue(entry.value);
  const record = (piece: EventValue, chunk: Chunk): SnapshotRecord => ({
    type: 'SnapshotRecord',
    db: entry.db,
    key: entry.key,
    expireAtMs: entry.expireAtMs,
    flags: { sticky: entry.flags.sticky, mcFlags: entry.flags.mcFlags },
    rdbType: entry.rdbType,
    value: piece,
    chunk,
  });
  const whole = makeEvent(position, 0, record(value, SINGLE_CHUNK));
  if (fitsWhole(writer.write(whole), maxEventBytes)) return [whole];
  writer.dropLast();
  const base = makeEvent(position, 0, record(EMPTY_VALUES[value.type](value), WIDEST_CHUNK));
  const pieces = splitValue(value, capacityFor(base, maxEventBytes, `the key ${entry.key.length}-byte key`));
  return writeAll(
    writer,
    pieces.map((piece, i) =>
      makeEvent(position, i, record(piece.value, { index: i, count: pieces.length, mode: piece.mode })),
    ),
  );
}

/**
 * One journal record → its events: JournalCommand (chunked when too big), ExpiredKey or
 * TransactionExec. PING, NOOP and FIN carry no data and give no event (the caller may emit a
 * Heartbeat). `inSnapshot`: the record came in a JOURNAL_BLOB during full sync.
 */
export function journalRecordToEvents(
  record: JournalRecord,
  inSnapshot: boolean,
  position: EventPosition,
  maxEventBytes: number,
  writer: EventWriter = MEASURING_WRITER,
): ChangeEvent[] {
  switch (record.op) {
    case 'ping':
    case 'noop':
    case 'fin':
      return [];
    case 'exec':
      return writeAll(writer, [
        makeEvent(position, 0, {
          type: 'TransactionExec',
          db: record.db,
          txid: record.txid,
          shardCount: record.shardCount,
          inSnapshot,
        }),
      ]);
    case 'expired':
      return writeAll(writer, [
        makeEvent(position, 0, {
          type: 'ExpiredKey',
          db: record.db,
          keys: record.args.slice(1),
          txid: record.txid,
          inSnapshot,
        }),
      ]);
    case 'command':
    case 'multi_command': {
      const [name, ...args] = record.args;
      const command = (piece: Buffer[], chunk: Chunk): JournalCommand => ({
        type: 'JournalCommand',
        db: record.db,
        command: (name ?? Buffer.alloc(0)).toString('latin1'),
        args: piece,
        txid: record.txid,
        shardCount: record.shardCount,
        inSnapshot,
        multi: record.op === 'multi_command',
        chunk,
      });
      const whole = makeEvent(position, 0, command(args, SINGLE_CHUNK));
      if (fitsWhole(writer.write(whole), maxEventBytes)) return [whole];
      writer.dropLast();
      const base = makeEvent(position, 0, command([], WIDEST_CHUNK));
      const pieces = splitArgs(args, capacityFor(base, maxEventBytes, 'the command name'));
      return writeAll(
        writer,
        pieces.map((piece, i) =>
          makeEvent(position, i, command(piece.args, { index: i, count: pieces.length, mode: piece.mode })),
        ),
      );
    }
  }
}

export type MarkerPayload = SnapshotStarted | SnapshotFinished | StableSyncStarted | Heartbeat;

/** The single event for a marker (snapshot start/finish, stable-sync start, heartbeat). */
export function markerEvent(
  position: EventPosition,
  payload: MarkerPayload,
  writer?: EventWriter,
): ChangeEvent {
  const event = makeEvent(position, 0, payload);
  writer?.write(event);
  return event;
}
