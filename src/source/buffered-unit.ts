import type { BufferedUnit } from './event-buffer';
import type { EventUnit } from './event-builder';
import type { MessageSlab } from './message-slab';

/**
 * Heap bytes a buffered unit costs besides its data (the unit, its position and last key objects and
 * the Buffer view), measured on the largest fixture; counted so that the buffer limit bounds memory.
 */
export const UNIT_OVERHEAD_BYTES = 270;

/** A built unit, whose events the builder wrote into `slab`, as a buffered unit (partition = flow). */
export function bufferedUnit(slab: MessageSlab, unit: EventUnit): BufferedUnit {
  const data = slab.take(unit.events.length);
  const last = unit.events[unit.events.length - 1]?.source;
  return {
    flow: unit.flow,
    data,
    count: unit.events.length,
    bytes: data.length + UNIT_OVERHEAD_BYTES,
    position: unit.position,
    lastKey: last ? { epoch: last.epoch, lsn: last.lsn, index: last.index } : null,
  };
}
