import type { CliCommand } from '../command';

/** Every subcommand, in the order `dragonfly-cdc --help` lists them. */
export const commands: CliCommand[] = [];
