import { CommandContext, CommandHandler } from './context';

/**
 * JSON.* commands on the parsed document, all journaled verbatim (spec 5.5). Paths: JSONPath (`$`
 * then `.name`, `['name']`, `[index]` with negative indexes from the end, `.*`, `[*]` and `..name`
 * recursive descent; every match is changed) and the legacy form without `$` (`.a.b`, `a`, `.`),
 * which names the same locations.
 */

type Container = Record<string | number, unknown>;

type Step =
  | { kind: 'name'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'descend'; name: string | null };

const STEP =
  /^\.\.([A-Za-z_][\w-]*|\*)|^\.([A-Za-z_][\w-]*)|^\.\*|^\[(-?\d+)\]|^\[\*\]|^\['([^']*)'\]|^\["([^"]*)"\]/;

function parsePath(ctx: CommandContext, arg: Buffer | undefined): Step[] {
  const text = arg?.toString('utf8') ?? '$';
  let rest = text.startsWith('$')
    ? text.slice(1)
    : text === '.'
      ? ''
      : text.startsWith('.') || text.startsWith('[')
        ? text
        : `.${text}`;
  const steps: Step[] = [];
  while (rest.length > 0) {
    const m = STEP.exec(rest);
    if (!m) return ctx.fail(`JSONPath "${text}" is outside the modelled syntax ($, .name, [index], *, ..)`);
    if (m[1] !== undefined) steps.push({ kind: 'descend', name: m[1] === '*' ? null : m[1] });
    else if (m[3] !== undefined) steps.push({ kind: 'index', index: Number(m[3]) });
    else if (m[0] === '.*' || m[0] === '[*]') steps.push({ kind: 'wildcard' });
    else steps.push({ kind: 'name', name: (m[2] ?? m[4] ?? m[5])! });
    rest = rest.slice(m[0].length);
  }
  return steps;
}

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

/** Where a path points: a slot in a container (`key` may not exist yet for a name step). */
interface Location {
  parent: Container;
  key: string | number;
}

function children(node: Container): (string | number)[] {
  return Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
}

/** Every location `step` selects below `node`; `create` keeps missing object members (for SET). */
function select(node: unknown, step: Step, create: boolean): Location[] {
  if (!isContainer(node)) return [];
  switch (step.kind) {
    case 'name':
      return !Array.isArray(node) && (create || step.name in node) ? [{ parent: node, key: step.name }] : [];
    case 'index': {
      if (!Array.isArray(node)) return [];
      const i = step.index < 0 ? node.length + step.index : step.index;
      return i >= 0 && i < node.length ? [{ parent: node, key: i }] : [];
    }
    case 'wildcard':
      return children(node).map((key) => ({ parent: node, key }));
    case 'descend': {
      const own =
        step.name === null
          ? select(node, { kind: 'wildcard' }, false)
          : select(node, { kind: 'name', name: step.name }, false);
      return [...own, ...children(node).flatMap((key) => select(node[key], step, false))];
    }
  }
}

/** The locations `steps` match in `doc` (the root has no location: steps is empty). */
function locate(doc: unknown, steps: Step[], create = false): Location[] {
  let nodes: unknown[] = [doc];
  let found: Location[] = [];
  steps.forEach((step, i) => {
    found = nodes.flatMap((n) => select(n, step, create && i === steps.length - 1));
    nodes = found.map((l) => l.parent[l.key]);
  });
  return found;
}

function parseJson(ctx: CommandContext, arg: Buffer | undefined): unknown {
  try {
    return JSON.parse(arg?.toString('utf8') ?? '');
  } catch {
    return ctx.fail(`value is not valid JSON: ${arg?.toString('utf8')}`);
  }
}

function document(ctx: CommandContext, key: Buffer): { doc: unknown } | undefined {
  return ctx.lookup(key, 'json');
}

/** Replaces every value `path` matches with `change(value)`; a path that matches nothing is a no-op. */
function updateAt(
  ctx: CommandContext,
  key: Buffer,
  path: Buffer | undefined,
  change: (v: unknown) => unknown,
): void {
  const holder = document(ctx, key);
  if (!holder) return ctx.fail('no such key');
  const steps = parsePath(ctx, path);
  if (steps.length === 0) {
    holder.doc = change(holder.doc);
    return;
  }
  for (const at of locate(holder.doc, steps)) at.parent[at.key] = change(at.parent[at.key]);
}

/** `JSON.X key path args...`: changes arrays, numbers, strings... in place or by replacement. */
function update(change: (ctx: CommandContext, args: Buffer[]) => (v: unknown) => unknown): CommandHandler {
  return (ctx, args) => updateAt(ctx, ctx.arg(args, 0, 'key'), args[1], change(ctx, args));
}

function jsonSet(ctx: CommandContext, key: Buffer, path: Buffer, text: Buffer, condition: string): void {
  const steps = parsePath(ctx, path);
  const value = parseJson(ctx, text);
  const holder = document(ctx, key);
  if (steps.length === 0) {
    if ((condition === 'NX' && holder) || (condition === 'XX' && !holder)) return;
    if (holder) holder.doc = value;
    else ctx.put(key, { type: 'json', doc: value });
    return;
  }
  if (!holder) return ctx.fail('new documents must be created at the root path');
  for (const at of locate(holder.doc, steps, condition !== 'XX')) {
    const exists = at.key in at.parent;
    if ((condition === 'NX' && exists) || (condition === 'XX' && !exists)) continue;
    at.parent[at.key] = structuredClone(value);
  }
}

function jsonDel(ctx: CommandContext, args: Buffer[]): void {
  const key = ctx.arg(args, 0, 'key');
  const steps = parsePath(ctx, args[1]);
  const holder = document(ctx, key);
  if (!holder) return;
  if (steps.length === 0) {
    ctx.delete(key);
    return;
  }
  // Array elements go from the highest index down, so earlier deletions do not shift later ones.
  const found = locate(holder.doc, steps).sort((a, b) =>
    typeof a.key === 'number' && typeof b.key === 'number' ? b.key - a.key : 0,
  );
  for (const at of found) {
    if (Array.isArray(at.parent) && typeof at.key === 'number') at.parent.splice(at.key, 1);
    else delete at.parent[at.key];
  }
}

/** RFC 7386 merge patch: objects merge member by member, null deletes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isContainer(patch) || Array.isArray(patch)) return structuredClone(patch);
  const out: Container = isContainer(target) && !Array.isArray(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function number(change: (n: number, by: number) => number): CommandHandler {
  return update((ctx, args) => {
    const by = ctx.float(args[2], 'number');
    return (v) => (typeof v === 'number' ? change(v, by) : v);
  });
}

/** An array index as RedisJSON reads it: negative from the end, clamped to the array. */
function clampIndex(i: number, length: number): number {
  const at = i < 0 ? length + i : i;
  return Math.min(Math.max(at, 0), Math.max(length - 1, 0));
}

export const JSON_COMMANDS: Record<string, CommandHandler> = {
  'JSON.SET': (ctx, args) =>
    jsonSet(
      ctx,
      ctx.arg(args, 0, 'key'),
      ctx.arg(args, 1, 'path'),
      ctx.arg(args, 2, 'value'),
      ctx.upper(args[3]),
    ),
  /** JSON.MSET key path value [key path value ...], journaled per shard (spec 5.5). */
  'JSON.MSET': (ctx, args) => {
    if (args.length === 0 || args.length % 3 !== 0) ctx.fail('key/path/value triples expected');
    for (let i = 0; i < args.length; i += 3) jsonSet(ctx, args[i]!, args[i + 1]!, args[i + 2]!, '');
  },
  'JSON.DEL': jsonDel,
  'JSON.FORGET': jsonDel,
  'JSON.MERGE': (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const patch = parseJson(ctx, args[2]);
    if (!document(ctx, key) && parsePath(ctx, args[1]).length === 0) {
      ctx.put(key, { type: 'json', doc: mergePatch(undefined, patch) });
      return;
    }
    updateAt(ctx, key, args[1], (v) => mergePatch(v, patch));
  },
  'JSON.ARRAPPEND': update((ctx, args) => {
    const values = args.slice(2).map((a) => parseJson(ctx, a));
    return (v) => (Array.isArray(v) ? [...v, ...structuredClone(values)] : v);
  }),
  'JSON.ARRINSERT': update((ctx, args) => {
    const index = ctx.int(args[2], 'index');
    const values = args.slice(3).map((a) => parseJson(ctx, a));
    return (v) => {
      if (!Array.isArray(v)) return v;
      const at = index < 0 ? v.length + index : index;
      if (at < 0 || at > v.length) ctx.fail(`index ${index} is out of range`);
      return [...v.slice(0, at), ...structuredClone(values), ...v.slice(at)];
    };
  }),
  /** JSON.ARRPOP key [path [index]]: the last element unless told; out-of-range indexes clamp. */
  'JSON.ARRPOP': update((ctx, args) => {
    const index = args[2] === undefined ? -1 : ctx.int(args[2], 'index');
    return (v) => {
      if (!Array.isArray(v) || v.length === 0) return v;
      const at = clampIndex(index, v.length);
      return [...v.slice(0, at), ...v.slice(at + 1)];
    };
  }),
  'JSON.ARRTRIM': update((ctx, args) => {
    const start = ctx.int(args[2], 'start');
    const stop = ctx.int(args[3], 'stop');
    return (v) => {
      if (!Array.isArray(v)) return v;
      const from = Math.max(start < 0 ? v.length + start : start, 0);
      const to = Math.min(stop < 0 ? v.length + stop : stop, v.length - 1);
      return from > to || from >= v.length ? [] : v.slice(from, to + 1);
    };
  }),
  /** Empties arrays and objects, sets numbers to 0, leaves strings, booleans and null. */
  'JSON.CLEAR': update(() => (v) => {
    if (Array.isArray(v)) return [];
    if (isContainer(v)) return {};
    return typeof v === 'number' ? 0 : v;
  }),
  'JSON.TOGGLE': update(() => (v) => (typeof v === 'boolean' ? !v : v)),
  'JSON.NUMINCRBY': number((n, by) => n + by),
  'JSON.NUMMULTBY': number((n, by) => n * by),
  /** JSON.STRAPPEND key [path] value */
  'JSON.STRAPPEND': (ctx, args) => {
    const suffix = parseJson(ctx, args[args.length - 1]);
    const path = args.length > 2 ? args[1] : undefined;
    updateAt(ctx, ctx.arg(args, 0, 'key'), path, (v) => (typeof v === 'string' ? v + String(suffix) : v));
  },
};
