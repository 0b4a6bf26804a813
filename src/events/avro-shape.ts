/**
 * Between the TypeScript event model (unions tagged with `type`) and the objects avsc reads and
 * writes (record unions wrapped as `{ "dragonfly.cdc.<Name>": record }`). Writing adds only the
 * wrapper objects (avsc ignores the extra `type` property); reading produces plain objects.
 */
import type { ChangeEvent, EventPayload, EventValue } from './model';

const NAMESPACE = 'dragonfly.cdc.';

type Wrapped = Record<string, unknown>;

function wrap(name: string, record: unknown): Wrapped {
  return { [NAMESPACE + name]: record };
}

function unwrap(union: Wrapped): { type: string; record: Record<string, unknown> } {
  for (const name in union) {
    return { type: name.slice(NAMESPACE.length), record: union[name] as Record<string, unknown> };
  }
  throw new Error('empty Avro union value');
}

export function toAvroEvent(event: ChangeEvent): unknown {
  const payload = event.payload;
  const body =
    payload.type === 'SnapshotRecord'
      ? { ...payload, value: wrap(payload.value.type, payload.value) }
      : payload;
  return { source: event.source, payload: wrap(payload.type, body) };
}

export function fromAvroEvent(avroEvent: unknown): ChangeEvent {
  const { source, payload } = avroEvent as { source: ChangeEvent['source']; payload: Wrapped };
  const { type, record } = unwrap(payload);
  const plain: Record<string, unknown> = { type, ...record };
  if (type === 'SnapshotRecord') {
    const value = unwrap(record.value as Wrapped);
    plain.value = { type: value.type, ...value.record } as EventValue;
  }
  return { source: { ...source }, payload: plain as unknown as EventPayload };
}
