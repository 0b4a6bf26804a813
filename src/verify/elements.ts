/**
 * Pure comparisons of values or of windows of values, each returning where the first difference is,
 * in words, or null when equal. Values are compared as bytes (keys of maps are latin1 strings, which
 * map bytes one to one); sorted-set scores as numbers, since servers print doubles differently.
 */
import { TextDecoder } from 'node:util';

const SHOWN_CHARS = 60;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A byte string for messages: quoted UTF-8 text, or base64 when it is not UTF-8; long ones cut. */
export function shown(bytes: Buffer | null | undefined): string {
  if (bytes === null || bytes === undefined) return '(missing)';
  let text: string;
  try {
    text = JSON.stringify(utf8.decode(bytes));
  } catch {
    text = `b64:${bytes.toString('base64')}`;
  }
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}… (${bytes.length} bytes)` : text;
}

/** Keys of byte maps: latin1 maps each byte to one character, so equal strings = equal bytes. */
export function byteKey(bytes: Buffer): string {
  return bytes.toString('latin1');
}

export function stringDifference(source: Buffer, target: Buffer, offset = 0): string | null {
  if (source.equals(target)) return null;
  let at = 0;
  while (at < source.length && at < target.length && source[at] === target[at]) at++;
  return `bytes differ from offset ${offset + at}: source ${shown(source.subarray(at))}, target ${shown(target.subarray(at))}`;
}

export function listDifference(source: Buffer[], target: Buffer[], offset = 0): string | null {
  const count = Math.max(source.length, target.length);
  for (let i = 0; i < count; i++) {
    const [a, b] = [source[i], target[i]];
    if (a === undefined || b === undefined || !a.equals(b)) {
      return `element ${offset + i}: source ${shown(a)}, target ${shown(b)}`;
    }
  }
  return null;
}

/**
 * Fields of the source with the target's values of the same fields (null = no such field). With
 * equal lengths (checked before), every source field matching means the hashes are equal.
 */
export function hashDifference(source: [Buffer, Buffer][], targetValues: (Buffer | null)[]): string | null {
  for (let i = 0; i < source.length; i++) {
    const [field, value] = source[i]!;
    const other = targetValues[i] ?? null;
    if (other === null || !other.equals(value)) {
      return `field ${shown(field)}: source ${shown(value)}, target ${shown(other)}`;
    }
  }
  return null;
}

export function setDifference(sourceMembers: Buffer[], onTarget: boolean[]): string | null {
  const absent = sourceMembers.findIndex((_, i) => onTarget[i] !== true);
  return absent < 0 ? null : `member ${shown(sourceMembers[absent])} is not in the target's set`;
}

/** A score as Redis or Dragonfly print it ("inf", "-inf", "1.5", "0.10000000000000001"). */
export function scoreValue(text: Buffer | string): number {
  const s = text.toString().toLowerCase();
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return Number(s);
}

export function zsetDifference(source: [Buffer, Buffer][], targetScores: (Buffer | null)[]): string | null {
  for (let i = 0; i < source.length; i++) {
    const [member, score] = source[i]!;
    const other = targetScores[i] ?? null;
    if (other === null || scoreValue(other) !== scoreValue(score)) {
      const otherText = other === null ? 'not in the target' : `target score ${other.toString()}`;
      return `member ${shown(member)}: source score ${score.toString()}, ${otherText}`;
    }
  }
  return null;
}

/** One stream entry as XRANGE returns it: id and flat field/value list. */
export type StreamEntry = [Buffer, Buffer[]];

export function streamEntriesDifference(source: StreamEntry[], target: StreamEntry[]): string | null {
  const count = Math.max(source.length, target.length);
  for (let i = 0; i < count; i++) {
    const [a, b] = [source[i], target[i]];
    if (a === undefined || b === undefined) {
      const present = (a ?? b)!;
      return `entry ${present[0].toString()} is on the ${a ? 'source' : 'target'} only`;
    }
    if (!a[0].equals(b[0])) return `entry ${a[0].toString()} on the source, ${b[0].toString()} on the target`;
    const fields = listDifference(a[1], b[1]);
    if (fields !== null) return `entry ${a[0].toString()}: ${fields.replace(/^element/, 'field/value')}`;
  }
  return null;
}

/** What verify compares of a consumer group (consumers' seen times cannot be replicated). */
export interface StreamGroup {
  name: string;
  lastDeliveredId: string;
  pending: number;
}

export function groupsDifference(source: StreamGroup[], target: StreamGroup[]): string | null {
  const byName = new Map(target.map((group) => [group.name, group]));
  for (const group of source) {
    const other = byName.get(group.name);
    if (other === undefined) return `consumer group ${JSON.stringify(group.name)} is not on the target`;
    if (other.lastDeliveredId !== group.lastDeliveredId || other.pending !== group.pending) {
      return (
        `consumer group ${JSON.stringify(group.name)}: source last delivered ${group.lastDeliveredId}, ${group.pending} pending; ` +
        `target ${other.lastDeliveredId}, ${other.pending} pending`
      );
    }
    byName.delete(group.name);
  }
  const extra = [...byName.keys()][0];
  return extra === undefined ? null : `consumer group ${JSON.stringify(extra)} is on the target only`;
}

/** JSON text with object keys sorted, so documents compare independently of key order. */
export function canonicalJson(text: string): string {
  const sortKeys = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
      );
      return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
    }
    return value;
  };
  return JSON.stringify(sortKeys(JSON.parse(text)));
}

export function jsonDifference(source: string, target: string): string | null {
  let a: string;
  let b: string;
  try {
    [a, b] = [canonicalJson(source), canonicalJson(target)];
  } catch {
    return `the target's value is not the JSON document of the source: ${shown(Buffer.from(target))}`;
  }
  return a === b
    ? null
    : `JSON documents differ: source ${shown(Buffer.from(a))}, target ${shown(Buffer.from(b))}`;
}
