/**
 * Splits a journaled command with very many elements (a shard's part of a big MSET, DEL, SADD ...)
 * into several commands with the same effect, so no single command exceeds what the apply script
 * can pass on (Lua unpacks at most ~8000 values). Only commands whose effect is the same when their
 * elements are applied in order in several commands are split.
 */
import { ELEMENTS_PER_COMMAND, type RedisCommand } from '../commands';

/** name → [arguments before the elements, arguments per element] */
const SPLITTABLE: Record<string, [number, number]> = {
  MSET: [0, 2],
  DEL: [0, 1],
  UNLINK: [0, 1],
  SADD: [1, 1],
  SREM: [1, 1],
  RPUSH: [1, 1],
  LPUSH: [1, 1],
  HSET: [1, 2],
  HDEL: [1, 1],
  ZREM: [1, 1],
  PFADD: [1, 1],
};

/** Beyond this many arguments a command is split (when it can be). */
export const MAX_SCRIPT_ARGS = 7000;

export function splitLargeCommand(cmd: RedisCommand): RedisCommand[] | null {
  if (cmd.args.length <= MAX_SCRIPT_ARGS) return [cmd];
  const shape = SPLITTABLE[cmd.name];
  if (shape === undefined) return null;
  const [fixed, per] = shape;
  const head = cmd.args.slice(0, fixed);
  const elements = cmd.args.slice(fixed);
  if (elements.length % per !== 0) return null;
  const out: RedisCommand[] = [];
  const step = ELEMENTS_PER_COMMAND * per;
  for (let i = 0; i < elements.length; i += step) {
    out.push({ ...cmd, args: [...head, ...elements.slice(i, i + step)] });
  }
  return out;
}
