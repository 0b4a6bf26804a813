/**
 * A journaled command as recorded: keys prefixed when the db mapping asks for it, and split when it
 * has too many elements for one apply-script call.
 */
import { type RedisCommand } from '../commands';
import type { Translation, TranslateContext } from './context';
import { prefixKeys } from './keys';
import { MAX_SCRIPT_ARGS, splitLargeCommand } from './split';

export function verbatim(
  row: string,
  sourceDb: number,
  name: string,
  args: Buffer[],
  ctx: TranslateContext,
  exact = true,
): Translation {
  const db = ctx.keys.db(sourceDb);
  let mapped = args;
  if (ctx.keys.prefixed) {
    const prefixed = prefixKeys(name, args, ctx.capabilities.commands.get(name), (k) =>
      ctx.keys.key(sourceDb, k),
    );
    if (prefixed === null) {
      return {
        kind: 'unsupported',
        row,
        reason: `${name}: its keys cannot be located to add the db prefix (db.mapping=all-to-0-with-prefix)`,
      };
    }
    mapped = prefixed;
  }
  const whole: RedisCommand = { db, name, args: mapped };
  const pieces = splitLargeCommand(whole);
  if (pieces === null) {
    return {
      kind: 'unsupported',
      row,
      reason: `${name} with ${args.length} arguments: more than ${MAX_SCRIPT_ARGS} cannot be applied in one step`,
    };
  }
  return { kind: 'commands', row, exact, commands: pieces };
}
