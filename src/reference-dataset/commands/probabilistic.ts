import { emptyHll, HllFormatError, hllAdd } from '../hll';
import { CommandHandler } from './context';

/**
 * PFADD is emulated byte for byte (HLLs are strings and expected.json compares them). Sketches (bloom,
 * cuckoo, count-min, top-k) are compared by presence, type and TTL only, so their commands only create
 * the key where Dragonfly would and check its type elsewhere.
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

type SketchKind = 'SBF2' | 'CUCKOO' | 'CMS' | 'TOPK';

/** A command on one sketch: `creates` when Dragonfly makes a missing key, else it needs one. */
function sketch(kind: SketchKind, creates: boolean): CommandHandler {
  return (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const found = ctx.lookup(key, 'sketch');
    if (found && !(found.kind === kind || (kind === 'SBF2' && found.kind === 'SBF'))) {
      ctx.fail(`WRONGTYPE key ${key.toString('latin1')} holds a ${found.kind} sketch, not a ${kind}`);
    }
    if (found) return;
    if (!creates) ctx.fail(`key ${key.toString('latin1')} does not exist`);
    ctx.put(key, { type: 'sketch', kind });
  };
}

const bloom = sketch('SBF2', true);
const cuckoo = sketch('CUCKOO', true);

export const PROBABILISTIC_COMMANDS: Record<string, CommandHandler> = {
  PFADD: pfadd,
  'BF.ADD': bloom,
  'BF.MADD': bloom,
  'BF.RESERVE': bloom,
  'BF.LOADCHUNK': bloom,
  'CF.RESERVE': cuckoo,
  'CF.ADD': cuckoo,
  'CF.ADDNX': cuckoo,
  'CF.INSERT': cuckoo,
  'CF.INSERTNX': cuckoo,
  /** deleting the last item keeps the (empty) filter */
  'CF.DEL': sketch('CUCKOO', false),
  'CF.COMPACT': sketch('CUCKOO', false),
  'CMS.INITBYDIM': sketch('CMS', true),
  'CMS.INITBYPROB': sketch('CMS', true),
  'CMS.INCRBY': sketch('CMS', false),
  /** CMS.MERGE dest n src ...: the destination must exist with matching dimensions */
  'CMS.MERGE': sketch('CMS', false),
  'TOPK.RESERVE': sketch('TOPK', true),
  'TOPK.ADD': sketch('TOPK', false),
  'TOPK.INCRBY': sketch('TOPK', false),
};
