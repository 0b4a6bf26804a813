/**
 * Which keys get their values compared when sampling: chosen by a hash of the key's bytes, so the
 * same keys are picked on every run and on both passes.
 */
import { createHash } from 'node:crypto';

export function inSample(key: Buffer, percent: number): boolean {
  if (percent >= 100) return true;
  return createHash('md5').update(key).digest().readUInt32BE(0) % 100 < percent;
}
