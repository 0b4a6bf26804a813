/**
 * Where the sink keeps its state in the target, next to the data: the checkpoint hash
 * (`<checkpoint.key>`, field `<topic>/<partition>` → next offset to apply, field
 * `<topic>/<partition>/epoch` → source epoch of the last applied event, field
 * `<topic>/<partition>/progress` → the next event and command inside an open value or a failed
 * event (apply-script.ts), field `<topic>/<partition>/late-expiry-cursor` → where a walk over the
 * late-expiry hash is (apply-script.ts), field
 * `<topic>/<partition>/reached-epoch` → the highest epoch barrier it reached) and the barrier hashes
 * (`<checkpoint.key>:barrier:<topic>:<id>`) and the late-expiry hashes
 * (`<checkpoint.key>:late-expiries:<topic>/<partition>`). Deleting every key starting with `<checkpoint.key>`
 * makes the sink start over (start.from decides where).
 */

export function positionField(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

export function epochField(topic: string, partition: number): string {
  return `${topic}/${partition}${EPOCH_FIELD_SUFFIX}`;
}

/** Where the partition's progress is, while it differs from its position (apply-script.ts). */
export function progressField(topic: string, partition: number): string {
  return `${topic}/${partition}/progress`;
}

/** The cursor of a walk over the partition's late-expiry hash, while one is under way (apply-script.ts). */
export function lateExpiryCursorField(topic: string, partition: number): string {
  return `${topic}/${partition}/late-expiry-cursor`;
}

/** epochField = position field + this (the barrier script builds the fields of every flow) */
export const EPOCH_FIELD_SUFFIX = '/epoch';
/** position field + this: the highest epoch whose barrier the partition has reached */
export const REACHED_EPOCH_FIELD_SUFFIX = '/reached-epoch';

/** The partition's keys given an absolute expiry that had passed when applied (apply-script.ts). */
export function lateExpiryKey(checkpointKey: string, topic: string, partition: number): string {
  return `${checkpointKey}:late-expiries:${topic}/${partition}`;
}

export function barrierKey(checkpointKey: string, topic: string, id: string): string {
  return `${checkpointKey}:barrier:${topic}:${id}`;
}

/** Glob matching every key of the sink's own state (kept across a FLUSHALL). */
export function ownKeysGlob(checkpointKey: string): string {
  return `${checkpointKey.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
}

/** Next offset after `offset` (Kafka offsets are 64-bit decimal strings). */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

export function offsetBefore(a: string, b: string): boolean {
  return BigInt(a) < BigInt(b);
}
