/**
 * The change events: the product's public contract (schemas/change-event.avsc, docs/events.md).
 * These TypeScript types mirror the Avro records field by field; the payload and value unions carry
 * a `type` tag (the Avro record name) instead of avsc's wrapped-union objects. Conversions from the
 * protocol types live in from-protocol.ts and are re-exported here.
 */

export type Phase = 'SNAPSHOT' | 'STABLE';

export type SnapshotReason =
  'FIRST_SYNC' | 'RESYNC_STALE_POSITION' | 'MASTER_RESTARTED' | 'OPERATOR' | 'OTHER';

/** The Kafka message key. (epoch, flow, lsn, index) never repeats in a topic. */
export interface ChangeEventKey {
  sourceId: string;
  epoch: number;
  flow: number;
  lsn: number;
  index: number;
}

export interface SourceInfo {
  sourceId: string;
  masterId: string;
  dragonflyVersion: string;
  epoch: number;
  flow: number;
  shardCount: number;
  phase: Phase;
  lsn: number;
  index: number;
  txid: number | null;
  db: number | null;
  timestampMs: number;
}

export type ChunkMode = 'REPLACE' | 'APPEND_BYTES' | 'APPEND_ELEMENTS';

export interface Chunk {
  index: number;
  count: number;
  mode: ChunkMode;
}

/** A stream id as Redis writes it: "<ms>-<seq>", both unsigned 64-bit decimal. */
export type StreamIdText = string;

export interface StreamEntryValue {
  id: StreamIdText;
  fields: Buffer[];
}

export interface StreamPendingValue {
  id: StreamIdText;
  deliveryTimeMs: number;
  deliveryCount: number;
}

export interface StreamConsumerValue {
  name: Buffer;
  seenTimeMs: number;
  activeTimeMs: number | null;
  pending: StreamIdText[];
}

export interface StreamGroupValue {
  name: Buffer;
  lastDeliveredId: StreamIdText;
  entriesRead: number | null;
  pending: StreamPendingValue[];
  consumers: StreamConsumerValue[];
}

export type SketchKind = 'SBF' | 'SBF2' | 'CMS' | 'TOPK' | 'CUCKOO';

export type EventValue =
  | { type: 'StringValue'; value: Buffer }
  | { type: 'ListValue'; items: Buffer[] }
  | { type: 'SetValue'; members: Buffer[]; memberExpireAtMs: (number | null)[] | null }
  | { type: 'ZSetValue'; entries: { member: Buffer; score: number }[] }
  | {
      type: 'HashValue';
      fields: { field: Buffer; value: Buffer }[];
      fieldExpireAtMs: (number | null)[] | null;
    }
  | {
      type: 'StreamValue';
      entries: StreamEntryValue[];
      length: number;
      lastId: StreamIdText;
      firstId: StreamIdText | null;
      maxDeletedId: StreamIdText | null;
      entriesAdded: number | null;
      groups: StreamGroupValue[];
    }
  | { type: 'JsonValue'; json: Buffer }
  | { type: 'SketchValue'; kind: SketchKind; raw: Buffer };

export type EventValueOf<T extends EventValue['type']> = Extract<EventValue, { type: T }>;

export interface SnapshotStarted {
  type: 'SnapshotStarted';
  epoch: number;
  flows: number;
  reason: SnapshotReason;
}

export interface SnapshotRecord {
  type: 'SnapshotRecord';
  db: number;
  key: Buffer;
  expireAtMs: number | null;
  flags: { sticky: boolean; mcFlags: number | null };
  rdbType: number;
  value: EventValue;
  chunk: Chunk;
}

export interface SnapshotFinished {
  type: 'SnapshotFinished';
  keys: number;
  recordEvents: number;
  journalRecords: number;
}

export interface JournalCommand {
  type: 'JournalCommand';
  db: number;
  command: string;
  args: Buffer[];
  txid: number;
  shardCount: number;
  inSnapshot: boolean;
  multi: boolean;
  chunk: Chunk;
}

export interface TransactionExec {
  type: 'TransactionExec';
  db: number;
  txid: number;
  shardCount: number;
  inSnapshot: boolean;
}

export interface ExpiredKey {
  type: 'ExpiredKey';
  db: number;
  keys: Buffer[];
  txid: number;
  inSnapshot: boolean;
}

export interface StableSyncStarted {
  type: 'StableSyncStarted';
  flow: number;
  journalOffset: number;
}

export interface Heartbeat {
  type: 'Heartbeat';
  lsn: number | null;
}

export type EventPayload =
  | SnapshotStarted
  | SnapshotRecord
  | SnapshotFinished
  | JournalCommand
  | TransactionExec
  | ExpiredKey
  | StableSyncStarted
  | Heartbeat;

export type PayloadType = EventPayload['type'];

export interface ChangeEvent {
  source: SourceInfo;
  payload: EventPayload;
}

/** What stays the same for every event of one flow in one epoch. */
export interface FlowOrigin {
  sourceId: string;
  masterId: string;
  dragonflyVersion: string;
  epoch: number;
  flow: number;
  shardCount: number;
}

/** Where the first event produced by a conversion goes; further events take index + 1, + 2, ... */
export interface EventPosition {
  origin: FlowOrigin;
  phase: Phase;
  lsn: number;
  index: number;
  timestampMs: number;
}

/** The message key of an event (everything in it is also in the event's source block). */
export function eventKey(event: ChangeEvent): ChangeEventKey {
  const { sourceId, epoch, flow, lsn, index } = event.source;
  return { sourceId, epoch, flow, lsn, index };
}

export {
  snapshotEntryToEvents,
  journalRecordToEvents,
  markerEvent,
  type MarkerPayload,
} from './from-protocol';
export { rdbValueToEventValue, eventValueToRdbValue } from './values';
