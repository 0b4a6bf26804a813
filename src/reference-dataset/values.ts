import type { RdbValue, SketchValue, StreamEntry, StreamId } from '../protocol/types';

/**
 * The in-memory form of one key's value. Containers are keyed by the element's bytes read as latin1
 * (a lossless 1:1 mapping), so binary members work as map keys.
 */

export interface SetMember {
  member: Buffer;
  expireAtMs: number | null;
}

export interface HashField {
  field: Buffer;
  value: Buffer;
  expireAtMs: number | null;
}

export interface ZsetMember {
  member: Buffer;
  score: number;
}

export interface PendingEntry {
  id: StreamId;
  consumer: string;
  /** when it was last delivered (XCLAIM/XAUTOCLAIM compare their min-idle-time with it) */
  deliveryTimeMs: number;
}

export interface ConsumerGroup {
  name: Buffer;
  lastDeliveredId: StreamId;
  /** keyed by streamIdText(id) */
  pending: Map<string, PendingEntry>;
  consumers: Set<string>;
}

export interface StreamModel {
  type: 'stream';
  /** ascending by id */
  entries: StreamEntry[];
  lastId: StreamId;
  groups: Map<string, ConsumerGroup>;
}

export type ModelValue =
  | { type: 'string'; value: Buffer }
  | { type: 'list'; items: Buffer[] }
  | { type: 'set'; members: Map<string, SetMember> }
  | { type: 'zset'; members: Map<string, ZsetMember> }
  | { type: 'hash'; fields: Map<string, HashField> }
  | StreamModel
  | { type: 'json'; doc: unknown }
  | { type: 'sketch'; kind: SketchValue['kind'] };

export type ModelType = ModelValue['type'];

export function mapKey(bytes: Buffer): string {
  return bytes.toString('latin1');
}

export function streamIdText(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function compareStreamIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

function setFromRdb(v: Extract<RdbValue, { type: 'set' }>): ModelValue {
  const members = new Map<string, SetMember>();
  v.members.forEach((member, i) => {
    members.set(mapKey(member), { member, expireAtMs: v.memberExpireAtMs?.[i] ?? null });
  });
  return { type: 'set', members };
}

function streamFromRdb(v: Extract<RdbValue, { type: 'stream' }>): StreamModel {
  const groups = new Map<string, ConsumerGroup>();
  for (const g of v.groups) {
    const owner = new Map<string, string>();
    for (const c of g.consumers) for (const id of c.pending) owner.set(streamIdText(id), mapKey(c.name));
    const pending = new Map<string, PendingEntry>();
    for (const p of g.pending) {
      const key = streamIdText(p.id);
      pending.set(key, { id: p.id, consumer: owner.get(key) ?? '', deliveryTimeMs: p.deliveryTimeMs });
    }
    groups.set(mapKey(g.name), {
      name: g.name,
      lastDeliveredId: g.lastDeliveredId,
      pending,
      consumers: new Set(g.consumers.map((c) => mapKey(c.name))),
    });
  }
  return { type: 'stream', entries: [...v.entries], lastId: v.lastId, groups };
}

/** Converts a decoded RDB value (snapshot entry or RESTORE payload) into the model's form. */
export function fromRdbValue(v: RdbValue): ModelValue {
  switch (v.type) {
    case 'string':
      return { type: 'string', value: v.value };
    case 'list':
      return { type: 'list', items: [...v.items] };
    case 'set':
      return setFromRdb(v);
    case 'zset':
      return { type: 'zset', members: new Map(v.entries.map((e) => [mapKey(e.member), { ...e }])) };
    case 'hash':
      return {
        type: 'hash',
        fields: new Map(
          v.fields.map((f) => [
            mapKey(f.field),
            { field: f.field, value: f.value, expireAtMs: f.expireAtMs ?? null },
          ]),
        ),
      };
    case 'stream':
      return streamFromRdb(v);
    case 'json':
      return { type: 'json', doc: JSON.parse(v.json.toString('utf8')) };
    case 'sketch':
      return { type: 'sketch', kind: v.kind };
  }
}
