import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Flag parsing for the commands that are not configured by a schema (capture, stack, test-master):
 * node's strict parseArgs, with a usage problem returned as its message rather than thrown, and one
 * way to report it.
 */

export type FlagsConfig = Omit<ParseArgsConfig, 'args' | 'strict'>;

export type ParsedFlags<C extends FlagsConfig> = ReturnType<
  typeof parseArgs<C & { args: string[]; strict: true }>
>;

/** Unknown flags, missing values and (unless allowed) positionals come back as the problem's text. */
export function parseFlags<C extends FlagsConfig>(argv: string[], config: C): ParsedFlags<C> | string {
  try {
    return parseArgs({ ...config, args: argv, strict: true });
  } catch (err) {
    return (err as Error).message;
  }
}

/** Says what is wrong and where the options are described; returns the usage exit code (2). */
export function reportUsageError(command: string, problem: string, write: (text: string) => void): number {
  write(`dragonfly-cdc ${command}: ${problem}\nRun "dragonfly-cdc ${command} --help" for the options.\n`);
  return 2;
}
