/**
 * Absolute expiries replayed after they passed (docs/sink.md, "Replaying after the expiries").
 * An expiry that had not passed on the master when the command ran, but may have passed when the
 * sink applies it, goes through the apply script's `__LATE_EXPIRY` op: applied as is while in the
 * future, else the key stays alive with a mark until the partition reaches its end (or a later
 * event replaces or removes the TTL, or deletes the key). An expiry that had already passed on the
 * master when the command ran is applied as is: the key was gone at once there too.
 */
import { SCRIPT_OPS, toArg, type RedisCommand } from '../commands';
import type { Translation } from './context';

/** `cmd` (first argument the key, argument `argNumber` (1-based) an absolute expiry in ms) via the op. */
export function lateExpiryCommand(cmd: RedisCommand, argNumber: number): RedisCommand {
  return { db: cmd.db, name: SCRIPT_OPS.lateExpiry, args: [toArg(argNumber), toArg(cmd.name), ...cmd.args] };
}

/**
 * A translation of one command carrying the absolute expiry `expireAtMs` in argument `argNumber`:
 * through the op (unless the expiry is not a number: then Redis reports the error as it is).
 */
export function withLateExpiry(translation: Translation, argNumber: number, expireAtMs: number): Translation {
  if (translation.kind !== 'commands' || translation.commands.length !== 1) return translation;
  if (!Number.isFinite(expireAtMs)) return translation;
  return {
    ...translation,
    commands: [lateExpiryCommand(translation.commands[0] as RedisCommand, argNumber)],
  };
}
