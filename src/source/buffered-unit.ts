import type { BufferedUnit } from './event-buffer';
import type { EventUnit } from './event-builder';
import type { MessageSlab } from './message-slab';

/**
 * Heap bytes a buffered unit costs besides its data (the unit, its position and last key objects and
 * the Buffer view), measured on the largest fixture; counted so that the buffer limit bounds memory.
 */
export const UNIT_OVERHEAD_BYTES = 270;

/**
 * Built units as buffered units (partition = flow). Consecutive units of one flow become one buffered
 * unit of at most `maxEvents` events (more only when a single unit holds more): a snapshot key is
 * one small unit, and its own buffered unit would cost more in overhead than its encoded bytes. The
 * merged unit keeps the last unit's position and is published atomically like each of its parts.
 */
export function* bufferedUnits(
  slab: MessageSlab,
  units: EventUnit[],
  maxEvents: number,
): Generator<BufferedUnit> {
  for (let start = 0; start < units.length;) {
    const flow = units[start]!.flow;
    let events = units[start]!.events.length;
    let end = start + 1;
    while (
      end < units.length &&
      units[end]!.flow === flow &&
      events + units[end]!.events.length <= maxEvents
    ) {
      events += units[end]!.events.length;
      end++;
    }
    yield bufferedUnit(slab, units.slice(start, end), events);
    start = end;
  }
}

/** One run of units of one flow, whose `count` events the builder wrote into `slab`, as a buffered unit. */
function bufferedUnit(slab: MessageSlab, run: EventUnit[], count: number): BufferedUnit {
  const data = slab.take(count);
  let last: EventUnit['events'][number]['source'] | undefined;
  for (const unit of run) last = unit.events.at(-1)?.source ?? last;
  return {
    flow: run[0]!.flow,
    data,
    count,
    bytes: data.length + UNIT_OVERHEAD_BYTES,
    position: run[run.length - 1]!.position,
    lastKey: last ? { epoch: last.epoch, lsn: last.lsn, index: last.index } : null,
  };
}
