import { mapKey, SetMember } from '../values';
import { CommandContext, CommandHandler } from './context';

/** Set commands; SPOP/SMOVE/S*STORE arrive rewritten into SREM/SADD/DEL (spec 5.5). */

function members(ctx: CommandContext, key: Buffer): Map<string, SetMember> {
  return ctx.lookupOrCreate(key, 'set', () => ({ type: 'set', members: new Map() })).members;
}

const sadd: CommandHandler = (ctx, args) => {
  const set = members(ctx, ctx.arg(args, 0, 'key'));
  for (const m of args.slice(1)) {
    const k = mapKey(m);
    if (!set.has(k)) set.set(k, { member: m, expireAtMs: null });
  }
};

/** SADDEX key [KEEPTTL] <seconds> member...: member TTLs relative to the time the master ran it. */
const saddex: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  let i = 1;
  const keepTtl = ctx.upper(args[i]) === 'KEEPTTL';
  if (keepTtl) i++;
  const expireAtMs = ctx.nowMs + ctx.int(args[i], 'seconds') * 1000;
  const set = members(ctx, key);
  for (const m of args.slice(i + 1)) {
    const k = mapKey(m);
    const old = set.get(k);
    set.set(k, { member: m, expireAtMs: keepTtl && old ? old.expireAtMs : expireAtMs });
  }
};

export const SET_COMMANDS: Record<string, CommandHandler> = {
  SADD: sadd,
  SADDEX: saddex,
  SREM: (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const set = ctx.lookup(key, 'set')?.members;
    if (!set) return;
    for (const m of args.slice(1)) set.delete(mapKey(m));
    ctx.deleteIfEmpty(key, set.size);
  },
};
