import { CommandContext, CommandHandler } from './context';

/**
 * JSON.* commands on the parsed document, for the JSONPath subset the journal carries: `$` (or `.`)
 * followed by `.name`, `['name']` or `[index]` steps, each matching at most one value.
 */

type Step = string | number;

function parsePath(ctx: CommandContext, arg: Buffer | undefined): Step[] {
  const text = arg?.toString('utf8') ?? '$';
  let rest = text.startsWith('$')
    ? text.slice(1)
    : text === '.'
      ? ''
      : text.startsWith('.')
        ? text
        : `.${text}`;
  const steps: Step[] = [];
  while (rest.length > 0) {
    const m = /^\.([A-Za-z_][\w-]*)|^\[(\d+)\]|^\['([^']*)'\]|^\["([^"]*)"\]/.exec(rest);
    if (!m) return ctx.fail(`JSONPath "${text}" is outside the modelled subset ($, .name, [index])`);
    steps.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3] ?? m[4])!);
    rest = rest.slice(m[0].length);
  }
  return steps;
}

function isContainer(v: unknown): v is Record<string | number, unknown> {
  return typeof v === 'object' && v !== null;
}

/** The parent and the last step of `steps`, when the parent exists. */
function locate(
  doc: unknown,
  steps: Step[],
): { parent: Record<string | number, unknown>; step: Step } | null {
  let node: unknown = doc;
  for (const step of steps.slice(0, -1)) {
    if (!isContainer(node)) return null;
    node = node[step];
  }
  return isContainer(node) ? { parent: node, step: steps[steps.length - 1]! } : null;
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

/** Applies `change` to the value at `path` (no-op when the path does not exist, as JSONPath does). */
function update(ctx: CommandContext, args: Buffer[], change: (v: unknown) => unknown): void {
  const holder = document(ctx, ctx.arg(args, 0, 'key'));
  if (!holder) return ctx.fail('no such key');
  const steps = parsePath(ctx, args[1]);
  if (steps.length === 0) {
    holder.doc = change(holder.doc);
    return;
  }
  const at = locate(holder.doc, steps);
  if (at && at.step in at.parent) at.parent[at.step] = change(at.parent[at.step]);
}

const jsonSet: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const steps = parsePath(ctx, args[1]);
  const value = parseJson(ctx, args[2]);
  const condition = ctx.upper(args[3]);
  const holder = document(ctx, key);
  if (steps.length === 0) {
    if ((condition === 'NX' && holder) || (condition === 'XX' && !holder)) return;
    if (holder) holder.doc = value;
    else ctx.put(key, { type: 'json', doc: value });
    return;
  }
  if (!holder) return ctx.fail('new documents must be created at the root path');
  const at = locate(holder.doc, steps);
  if (!at) return;
  const exists = at.step in at.parent;
  if ((condition === 'NX' && exists) || (condition === 'XX' && !exists)) return;
  at.parent[at.step] = value;
};

export const JSON_COMMANDS: Record<string, CommandHandler> = {
  'JSON.SET': jsonSet,
  'JSON.ARRAPPEND': (ctx, args) => {
    const values = args.slice(2).map((a) => parseJson(ctx, a));
    update(ctx, args, (v) => (Array.isArray(v) ? [...v, ...values] : v));
  },
  'JSON.NUMINCRBY': (ctx, args) => {
    const by = ctx.float(args[2], 'increment');
    update(ctx, args, (v) => (typeof v === 'number' ? v + by : v));
  },
  'JSON.STRAPPEND': (ctx, args) => {
    const suffix = parseJson(ctx, args[args.length - 1]);
    update(ctx, args.length > 2 ? args : [args[0]!], (v) => (typeof v === 'string' ? v + String(suffix) : v));
  },
  'JSON.DEL': (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const steps = parsePath(ctx, args[1]);
    const holder = document(ctx, key);
    if (!holder) return;
    if (steps.length === 0) {
      ctx.delete(key);
      return;
    }
    const at = locate(holder.doc, steps);
    if (!at) return;
    if (Array.isArray(at.parent) && typeof at.step === 'number') at.parent.splice(at.step, 1);
    else delete at.parent[at.step];
  },
};
