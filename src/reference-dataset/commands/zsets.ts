import { mapKey, ZsetMember } from '../values';
import { CommandContext, CommandHandler } from './context';

/** Sorted-set commands; ZSTORE-style commands, BZPOPMIN and ZMPOP arrive rewritten into DEL/ZADD/ZPOP* (spec 5.5). */

/** Rank order: score, then member bytes. */
export function compareZsetMembers(a: ZsetMember, b: ZsetMember): number {
  if (a.score !== b.score) return a.score < b.score ? -1 : 1;
  return Buffer.compare(a.member, b.member);
}

function members(ctx: CommandContext, key: Buffer): Map<string, ZsetMember> {
  return ctx.lookupOrCreate(key, 'zset', () => ({ type: 'zset', members: new Map() })).members;
}

const zadd: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const flags = new Set<string>();
  let i = 1;
  while (['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'].includes(ctx.upper(args[i]))) flags.add(ctx.upper(args[i++]));
  const pairs = args.slice(i);
  if (pairs.length === 0 || pairs.length % 2 !== 0) ctx.fail('wrong number of score/member arguments');
  if (flags.has('XX') && !ctx.lookup(key, 'zset')) return;
  const zset = members(ctx, key);
  for (let p = 0; p < pairs.length; p += 2) {
    const score = ctx.float(pairs[p], 'score');
    const member = pairs[p + 1]!;
    const old = zset.get(mapKey(member));
    if ((flags.has('NX') && old) || (flags.has('XX') && !old)) continue;
    const next = flags.has('INCR') ? (old?.score ?? 0) + score : score;
    if (old && flags.has('GT') && !(next > old.score)) continue;
    if (old && flags.has('LT') && !(next < old.score)) continue;
    zset.set(mapKey(member), { member, score: next });
  }
  ctx.deleteIfEmpty(key, zset.size);
};

function zpop(fromMax: boolean): CommandHandler {
  return (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const zset = ctx.lookup(key, 'zset')?.members;
    if (!zset) return;
    const count = args.length > 1 ? ctx.int(args[1], 'count') : 1;
    const ordered = [...zset.values()].sort(compareZsetMembers);
    if (fromMax) ordered.reverse();
    for (const m of ordered.slice(0, count)) zset.delete(mapKey(m.member));
    ctx.deleteIfEmpty(key, zset.size);
  };
}

/** One end of a score range: `(x` excludes x, `-inf`/`+inf` are open. */
function scoreBound(
  ctx: CommandContext,
  arg: Buffer | undefined,
): (score: number, isMin: boolean) => boolean {
  const text = arg?.toString('latin1') ?? '';
  const exclusive = text.startsWith('(');
  const value = ctx.float(Buffer.from(exclusive ? text.slice(1) : text, 'latin1'), 'score bound');
  return (score, isMin) =>
    isMin ? (exclusive ? score > value : score >= value) : exclusive ? score < value : score <= value;
}

/** One end of a lex range: `[x` includes x, `(x` excludes it, `-` and `+` are open. */
function lexBound(ctx: CommandContext, arg: Buffer | undefined): (member: Buffer, isMin: boolean) => boolean {
  const text = arg?.toString('latin1') ?? '';
  if (text === '-') return (_, isMin) => isMin;
  if (text === '+') return (_, isMin) => !isMin;
  if (!text.startsWith('[') && !text.startsWith('(')) ctx.fail(`lex bound "${text}" must start with [ or (`);
  const value = arg!.subarray(1);
  const inclusive = text.startsWith('[');
  return (member, isMin) => {
    const c = Buffer.compare(member, value);
    return isMin ? c > 0 || (inclusive && c === 0) : c < 0 || (inclusive && c === 0);
  };
}

/** Removes the members of `key` that `selected` picks from the members in rank order. */
function zremrange(
  select: (ctx: CommandContext, args: Buffer[], ranked: ZsetMember[]) => ZsetMember[],
): CommandHandler {
  return (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const zset = ctx.lookup(key, 'zset')?.members;
    if (!zset) return;
    const ranked = [...zset.values()].sort(compareZsetMembers);
    for (const m of select(ctx, args, ranked)) zset.delete(mapKey(m.member));
    ctx.deleteIfEmpty(key, zset.size);
  };
}

export const ZSET_COMMANDS: Record<string, CommandHandler> = {
  ZADD: zadd,
  ZINCRBY: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const member = ctx.arg(args, 2, 'member');
    const zset = members(ctx, key);
    const next = (zset.get(mapKey(member))?.score ?? 0) + ctx.float(args[1], 'increment');
    if (Number.isNaN(next)) ctx.fail('resulting score is not a number (NaN)');
    zset.set(mapKey(member), { member, score: next });
  },
  ZREM: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const zset = ctx.lookup(key, 'zset')?.members;
    if (!zset) return;
    for (const m of args.slice(1)) zset.delete(mapKey(m));
    ctx.deleteIfEmpty(key, zset.size);
  },
  ZREMRANGEBYSCORE: zremrange((ctx, args, ranked) => {
    const min = scoreBound(ctx, args[1]);
    const max = scoreBound(ctx, args[2]);
    return ranked.filter((m) => min(m.score, true) && max(m.score, false));
  }),
  ZREMRANGEBYLEX: zremrange((ctx, args, ranked) => {
    const min = lexBound(ctx, args[1]);
    const max = lexBound(ctx, args[2]);
    return ranked.filter((m) => min(m.member, true) && max(m.member, false));
  }),
  ZREMRANGEBYRANK: zremrange((ctx, args, ranked) => {
    const n = ranked.length;
    const at = (i: number): number => (i < 0 ? n + i : i);
    const start = Math.max(0, at(ctx.int(args[1], 'start')));
    const stop = Math.min(n - 1, at(ctx.int(args[2], 'stop')));
    return start > stop ? [] : ranked.slice(start, stop + 1);
  }),
  ZPOPMIN: zpop(false),
  ZPOPMAX: zpop(true),
};
