import type { CommandHandler } from './context';

/** Journaled commands that change no key: they are accepted and do nothing to the dataset. */
const nothing: CommandHandler = () => undefined;

export const NO_EFFECT_COMMANDS: Record<string, CommandHandler> = {
  /** JSON.MSET that stored nothing, WAIT and DFLY TAKEOVER are journaled as a bare PING (spec 5.5). */
  PING: nothing,
  /** SCRIPT LOAD / SCRIPT CONFIG: scripts are journaled by their effects (spec 5.4). */
  SCRIPT: nothing,
  /** SHRINK key: compacts the value's memory in Dragonfly; the value stays the same. */
  SHRINK: nothing,
  /** Search index definitions live beside the data; the dataset holds only keys. */
  'FT.CREATE': nothing,
  'FT.ALTER': nothing,
  'FT.DROPINDEX': nothing,
  'FT.SYNUPDATE': nothing,
};
