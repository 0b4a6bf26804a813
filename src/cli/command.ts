/**
 * One subcommand of the `dragonfly-cdc` CLI. Each lives in its own module under src/cli/commands/
 * and is listed in src/cli/commands/index.ts.
 */
export interface CliCommand {
  /** the word after `dragonfly-cdc` (may contain a space for nested commands, e.g. "capture decode") */
  name: string;
  /** one line for the top-level --help */
  summary: string;
  /** full help text for `dragonfly-cdc <name> --help` */
  help(): string;
  /** runs the command with the arguments after its name; resolves to the process exit code */
  run(argv: string[]): Promise<number>;
}
