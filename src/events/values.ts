/**
 * Between the protocol's RdbValue (src/protocol/types.ts) and the event value records. Lossless both
 * ways: optional per-member/per-field expiries become parallel nullable arrays, stream ids (unsigned
 * 64-bit parts, beyond Avro's signed long) become "<ms>-<seq>" text.
 */
import type { RdbValue, StreamId, StreamValue } from '../protocol/types';
import type { EventValue, SketchKind, StreamIdText } from './model';

export function streamIdText(id: StreamId): StreamIdText {
  return `${id.ms}-${id.seq}`;
}

export function parseStreamId(text: StreamIdText): StreamId {
  const dash = text.indexOf('-');
  if (dash <= 0) throw new Error(`bad stream id "${text}": expected "<ms>-<seq>"`);
  return { ms: BigInt(text.slice(0, dash)), seq: BigInt(text.slice(dash + 1)) };
}

function nullableIdText(id: StreamId | null): StreamIdText | null {
  return id === null ? null : streamIdText(id);
}

function nullableId(text: StreamIdText | null): StreamId | null {
  return text === null ? null : parseStreamId(text);
}

export function rdbValueToEventValue(value: RdbValue): EventValue {
  switch (value.type) {
    case 'string':
      return { type: 'StringValue', value: value.value };
    case 'list':
      return { type: 'ListValue', items: value.items };
    case 'set':
      return { type: 'SetValue', members: value.members, memberExpireAtMs: value.memberExpireAtMs ?? null };
    case 'zset':
      return { type: 'ZSetValue', entries: value.entries };
    case 'hash': {
      const withExpiry = value.fields.some((f) => f.expireAtMs !== undefined);
      return {
        type: 'HashValue',
        fields: value.fields.map(({ field, value: fieldValue }) => ({ field, value: fieldValue })),
        fieldExpireAtMs: withExpiry ? value.fields.map((f) => f.expireAtMs ?? null) : null,
      };
    }
    case 'stream':
      return {
        type: 'StreamValue',
        entries: value.entries.map((e) => ({ id: streamIdText(e.id), fields: e.fields })),
        length: value.length,
        lastId: streamIdText(value.lastId),
        firstId: nullableIdText(value.firstId),
        maxDeletedId: nullableIdText(value.maxDeletedId),
        entriesAdded: value.entriesAdded,
        groups: value.groups.map((g) => ({
          name: g.name,
          lastDeliveredId: streamIdText(g.lastDeliveredId),
          entriesRead: g.entriesRead,
          pending: g.pending.map((p) => ({ ...p, id: streamIdText(p.id) })),
          consumers: g.consumers.map((c) => ({ ...c, pending: c.pending.map(streamIdText) })),
        })),
      };
    case 'json':
      return { type: 'JsonValue', json: value.json };
    case 'sketch':
      return { type: 'SketchValue', kind: value.kind, raw: value.raw };
  }
}

function streamFromEvent(value: Extract<EventValue, { type: 'StreamValue' }>): StreamValue {
  return {
    type: 'stream',
    entries: value.entries.map((e) => ({ id: parseStreamId(e.id), fields: e.fields })),
    length: value.length,
    lastId: parseStreamId(value.lastId),
    firstId: nullableId(value.firstId),
    maxDeletedId: nullableId(value.maxDeletedId),
    entriesAdded: value.entriesAdded,
    groups: value.groups.map((g) => ({
      name: g.name,
      lastDeliveredId: parseStreamId(g.lastDeliveredId),
      entriesRead: g.entriesRead,
      pending: g.pending.map((p) => ({ ...p, id: parseStreamId(p.id) })),
      consumers: g.consumers.map((c) => ({ ...c, pending: c.pending.map(parseStreamId) })),
    })),
  };
}

/** The reverse of rdbValueToEventValue; `rdbType` is the SnapshotRecord's (sketches keep it inside). */
export function eventValueToRdbValue(value: EventValue, rdbType: number): RdbValue {
  switch (value.type) {
    case 'StringValue':
      return { type: 'string', value: value.value };
    case 'ListValue':
      return { type: 'list', items: value.items };
    case 'SetValue':
      return value.memberExpireAtMs === null
        ? { type: 'set', members: value.members }
        : { type: 'set', members: value.members, memberExpireAtMs: value.memberExpireAtMs };
    case 'ZSetValue':
      return { type: 'zset', entries: value.entries.map(({ member, score }) => ({ member, score })) };
    case 'HashValue': {
      const expiries = value.fieldExpireAtMs;
      return {
        type: 'hash',
        fields: value.fields.map(({ field, value: fieldValue }, i) =>
          expiries === null
            ? { field, value: fieldValue }
            : { field, value: fieldValue, expireAtMs: expiries[i] ?? null },
        ),
      };
    }
    case 'StreamValue':
      return streamFromEvent(value);
    case 'JsonValue':
      return { type: 'json', json: value.json };
    case 'SketchValue':
      return { type: 'sketch', kind: value.kind as SketchKind, rdbType, raw: value.raw };
  }
}
