/**
 * Hides secrets in a loaded configuration before it is printed or logged: sensitive options become
 * "[redacted]" (empty ones stay "" so an unset secret is visible as unset), and the password part of
 * URLs such as redis://user:password@host is replaced.
 */
import type { ConfigDefinition } from './define';

export const REDACTED = '[redacted]';

export function redactConfig<T>(definition: ConfigDefinition<T>, config: T): T {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const option of definition.options) {
    const value = readPath(copy, option.path);
    if (option.sensitive && value !== '' && value !== undefined) writePath(copy, option.path, REDACTED);
    else if (option.urlWithPassword && typeof value === 'string')
      writePath(copy, option.path, redactUrl(value));
  }
  return copy as T;
}

/** redis://user:secret@host:6379 → redis://user:[redacted]@host:6379; anything else unchanged. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/i, `$1${REDACTED}@`);
}

function readPath(root: Record<string, unknown>, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function writePath(root: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let node = root;
  for (const key of keys) node = node[key] as Record<string, unknown>;
  node[last] = value;
}
