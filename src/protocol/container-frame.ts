import { hex } from './cursor';
import { ProtocolError } from './errors';

/**
 * The frame listpacks and ziplists share (spec 4.5): a header starting with the uint32 LE total size,
 * the entries, and the terminator 0xFF as the last byte.
 */

export const CONTAINER_TERMINATOR = 0xff;

/** Builds the ProtocolError for a byte at `at` of the container (offsets relative to its start). */
export type ContainerFail = (at: number, expected: string) => ProtocolError;

/** `base` = stream offset of the container's first byte. */
export function containerFail(item: string, base: number): ContainerFail {
  return (at, expected) => new ProtocolError({ offset: base + at, item, expected });
}

/** Checks the size (header and terminator fit, total size matches) and the terminator. */
export function checkContainerFrame(buf: Buffer, headerSize: number, fail: ContainerFail): void {
  if (buf.length < headerSize + 1) {
    throw fail(0, `at least ${headerSize + 1} bytes (header and terminator), got ${buf.length}`);
  }
  const total = buf.readUInt32LE(0);
  if (total !== buf.length)
    throw fail(0, `a total size equal to its ${buf.length} bytes, header says ${total}`);
  const last = buf[buf.length - 1]!;
  if (last !== CONTAINER_TERMINATOR) {
    throw fail(buf.length - 1, `the terminator 0xFF as the last byte, got 0x${hex(last)}`);
  }
}
