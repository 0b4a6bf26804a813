/**
 * Key positions of a journaled command, for the all-to-0-with-prefix mapping: the target's own
 * COMMAND key specs (first/last/step), plus the few commands whose keys move with their options.
 */
import type { KeySpec } from '../../targets/capabilities';
import { upperName } from '../commands';

/** Index (in args, the command name excluded) of every key; null when they cannot be found. */
export function keyIndexes(name: string, args: Buffer[], spec: KeySpec | undefined): number[] | null {
  switch (name) {
    case 'XGROUP':
      return args.length > 1 ? [1] : [];
    case 'SORT':
    case 'SORT_RO':
    case 'GEORADIUS':
    case 'GEORADIUSBYMEMBER':
      return [0, ...optionValueIndexes(args, ['STORE', 'STOREDIST', 'BY', 'GET'])].filter(
        (i) => i < args.length && !isSortPlaceholder(args, i),
      );
  }
  if (spec === undefined || spec.movable) return null;
  if (spec.first <= 0) return [];
  const last = spec.last < 0 ? args.length + 1 + spec.last : spec.last;
  const out: number[] = [];
  for (let i = spec.first; i <= last && i - 1 < args.length; i += Math.max(spec.step, 1)) out.push(i - 1);
  return out;
}

function optionValueIndexes(args: Buffer[], options: string[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < args.length - 1; i++) if (options.includes(upperName(args[i]))) out.push(i + 1);
  return out;
}

/** SORT ... BY nosort / GET # name no key. */
function isSortPlaceholder(args: Buffer[], i: number): boolean {
  const text = upperName(args[i]);
  return text === 'NOSORT' || text === '#';
}

/** The arguments with every key prefixed, or null when the keys cannot be located. */
export function prefixKeys(
  name: string,
  args: Buffer[],
  spec: KeySpec | undefined,
  mapKey: (key: Buffer) => Buffer,
): Buffer[] | null {
  const indexes = keyIndexes(name, args, spec);
  if (indexes === null) return null;
  const out = [...args];
  for (const i of indexes) out[i] = mapKey(args[i] as Buffer);
  return out;
}
