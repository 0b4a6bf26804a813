import { CommandContext, CommandHandler } from './context';

/** List commands (LMOVE/BLPOP/... arrive already rewritten into these, spec 5.5). */

function list(ctx: CommandContext, key: Buffer): Buffer[] | undefined {
  return ctx.lookup(key, 'list')?.items;
}

function push(left: boolean, onlyIfExists: boolean): CommandHandler {
  return (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    if (onlyIfExists && !list(ctx, key)) return;
    const items = ctx.lookupOrCreate(key, 'list', () => ({ type: 'list', items: [] })).items;
    for (const v of args.slice(1)) {
      if (left) items.unshift(v);
      else items.push(v);
    }
  };
}

function pop(left: boolean): CommandHandler {
  return (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const items = list(ctx, key);
    if (!items) return;
    const count = args.length > 1 ? ctx.int(args[1], 'count') : 1;
    if (left) items.splice(0, count);
    else items.splice(Math.max(0, items.length - count), count);
    ctx.deleteIfEmpty(key, items.length);
  };
}

/** Redis index normalisation: negative counts from the end. */
function index(i: number, length: number): number {
  return i < 0 ? length + i : i;
}

export const LIST_COMMANDS: Record<string, CommandHandler> = {
  LPUSH: push(true, false),
  RPUSH: push(false, false),
  LPUSHX: push(true, true),
  RPUSHX: push(false, true),
  LPOP: pop(true),
  RPOP: pop(false),
  LSET: (ctx, args) => {
    const items = list(ctx, ctx.arg(args, 0, 'key'));
    if (!items) return ctx.fail('no such key');
    const i = index(ctx.int(args[1], 'index'), items.length);
    if (i < 0 || i >= items.length) ctx.fail('index out of range');
    items[i] = ctx.arg(args, 2, 'element');
  },
  LTRIM: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const items = list(ctx, key);
    if (!items) return;
    const start = Math.max(0, index(ctx.int(args[1], 'start'), items.length));
    const stop = Math.min(items.length - 1, index(ctx.int(args[2], 'stop'), items.length));
    const kept = start > stop ? [] : items.slice(start, stop + 1);
    items.splice(0, items.length, ...kept);
    ctx.deleteIfEmpty(key, items.length);
  },
  LREM: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const items = list(ctx, key);
    if (!items) return;
    const count = ctx.int(args[1], 'count');
    const element = ctx.arg(args, 2, 'element');
    const limit = count === 0 ? Infinity : Math.abs(count);
    const order = count < 0 ? [...items.keys()].reverse() : [...items.keys()];
    const drop = new Set<number>();
    for (const i of order) {
      if (drop.size >= limit) break;
      if (items[i]!.equals(element)) drop.add(i);
    }
    items.splice(0, items.length, ...items.filter((_, i) => !drop.has(i)));
    ctx.deleteIfEmpty(key, items.length);
  },
  LINSERT: (ctx, args) => {
    const items = list(ctx, ctx.arg(args, 0, 'key'));
    if (!items) return;
    const where = ctx.upper(args[1]);
    const at = items.findIndex((v) => v.equals(ctx.arg(args, 2, 'pivot')));
    if (at < 0) return;
    items.splice(where === 'BEFORE' ? at : at + 1, 0, ctx.arg(args, 3, 'element'));
  },
};
