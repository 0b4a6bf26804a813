import type { EventCodec } from '../events/codec';
import { eventKey } from '../events/model';
import type { BufferedUnit, EncodedMessage } from './event-buffer';
import type { EventUnit } from './event-builder';

/** A built unit as Kafka messages (partition = flow), measured for the buffer. */
export function encodeUnit(codec: EventCodec, unit: EventUnit): BufferedUnit {
  const messages: EncodedMessage[] = unit.events.map((event) => ({
    partition: unit.flow,
    key: codec.encodeKey(eventKey(event)),
    value: codec.encodeValue(event),
  }));
  const last = unit.events[unit.events.length - 1]?.source;
  return {
    flow: unit.flow,
    messages,
    bytes: messages.reduce((n, m) => n + m.key.length + m.value.length, 0),
    position: unit.position,
    lastKey: last ? { epoch: last.epoch, lsn: last.lsn, index: last.index } : null,
  };
}
