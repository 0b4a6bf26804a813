import type { CommandHandler } from './context';
import { HASH_COMMANDS } from './hashes';
import { JSON_COMMANDS } from './json';
import { KEY_COMMANDS } from './keys';
import { LIST_COMMANDS } from './lists';
import { PROBABILISTIC_COMMANDS } from './probabilistic';
import { SET_COMMANDS } from './sets';
import { STREAM_COMMANDS } from './streams';
import { STRING_COMMANDS } from './strings';
import { ZSET_COMMANDS } from './zsets';

/** Every journal command the dataset model executes, by upper-case name. */
export const COMMANDS: ReadonlyMap<string, CommandHandler> = new Map(
  Object.entries({
    ...STRING_COMMANDS,
    ...LIST_COMMANDS,
    ...SET_COMMANDS,
    ...ZSET_COMMANDS,
    ...HASH_COMMANDS,
    ...STREAM_COMMANDS,
    ...JSON_COMMANDS,
    ...PROBABILISTIC_COMMANDS,
    ...KEY_COMMANDS,
  }),
);
