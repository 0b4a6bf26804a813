/**
 * Exact sizes of Avro binary encodings, so a big value can be cut into events below a byte limit
 * without encoding it twice.
 */

/** The longest header any wire format puts before the Avro body (single-object: C3 01 + 8 bytes). */
export const MAX_WIRE_HEADER_BYTES = 10;

/**
 * The most bytes a non-empty array adds for its block count (arrays are written as one block:
 * count, items, 0; the empty array is the single 0 byte already counted in a base size).
 */
export const ARRAY_COUNT_MAX_BYTES = 5;

/** Size of an Avro int/long (zig-zag varint) for a safe integer. */
export function longSize(n: number): number {
  let zigzag = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (zigzag >= 128) {
    zigzag = Math.floor(zigzag / 128);
    size++;
  }
  return size;
}

export function bytesSize(bytes: Buffer): number {
  return longSize(bytes.length) + bytes.length;
}

export function stringSize(text: string): number {
  const length = Buffer.byteLength(text, 'utf8');
  return longSize(length) + length;
}

/** A ["null", "long"] union: branch index plus the long. */
export function nullableLongSize(value: number | null): number {
  return value === null ? 1 : 1 + longSize(value);
}

/** The longest byte slice whose Avro bytes encoding (length + bytes) fits in `room` bytes. */
export function bytesThatFit(room: number): number {
  let length = room - longSize(room);
  while (length > 0 && length + longSize(length) > room) length--;
  return Math.max(length, 0);
}
