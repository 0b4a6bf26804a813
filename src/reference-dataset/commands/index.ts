import { bitfield } from './bitfield';
import type { CommandHandler } from './context';
import { FIELD_TTL_COMMANDS } from './field-ttl';
import { GEO_COMMANDS } from './geo';
import { HASH_COMMANDS } from './hashes';
import { JSON_COMMANDS } from './json';
import { KEY_COMMANDS } from './keys';
import { LIST_COMMANDS } from './lists';
import { NO_EFFECT_COMMANDS } from './no-effect';
import { PROBABILISTIC_COMMANDS } from './probabilistic';
import { SET_COMMANDS } from './sets';
import { STREAM_COMMANDS } from './streams';
import { STRING_COMMANDS } from './strings';
import { ZSET_COMMANDS } from './zsets';

/**
 * Every journal command the reference dataset executes, by upper-case name: each command a Dragonfly
 * v1.40.1 master journals, in the form it journals it (docs/reference-dataset.md lists them, with the
 * few it cannot execute in unsupported.ts).
 */
export const COMMANDS: ReadonlyMap<string, CommandHandler> = new Map(
  Object.entries({
    ...STRING_COMMANDS,
    BITFIELD: bitfield,
    ...LIST_COMMANDS,
    ...SET_COMMANDS,
    ...ZSET_COMMANDS,
    ...GEO_COMMANDS,
    ...HASH_COMMANDS,
    ...FIELD_TTL_COMMANDS,
    ...STREAM_COMMANDS,
    ...JSON_COMMANDS,
    ...PROBABILISTIC_COMMANDS,
    ...KEY_COMMANDS,
    ...NO_EFFECT_COMMANDS,
  }),
);
