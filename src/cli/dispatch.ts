/**
 * Finds the command named by the first word(s) of the arguments and runs it; handles --help,
 * --version and errors. Commands may have two words ("capture decode"); the longest match wins.
 */
import type { CliCommand } from './command';
import { commandListHelp } from './help';
import { ConfigError } from '../config/errors';

export interface CliOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const HELP_FLAGS = ['--help', '-h'];
const VERSION_FLAGS = ['--version', '-V'];

export function version(): string {
  return (require('../../package.json') as { version: string }).version;
}

export async function runCli(
  argv: readonly string[],
  commands: readonly CliCommand[],
  out: CliOutput,
): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    out.stderr(`${commandListHelp(version(), commands)}\n`);
    return 2;
  }
  if (HELP_FLAGS.includes(first) || first === 'help') {
    out.stdout(`${commandListHelp(version(), commands)}\n`);
    return 0;
  }
  if (VERSION_FLAGS.includes(first)) {
    out.stdout(`${version()}\n`);
    return 0;
  }

  const command = findCommand(argv, commands);
  if (command === undefined) {
    const group = commands.filter((candidate) => candidate.name.startsWith(`${first} `)).map((c) => c.name);
    const reason =
      group.length > 0
        ? `"${argv.slice(0, 2).join(' ')}" is not a command; "${first}" is followed by one of: ${group.map((n) => n.split(' ')[1]).join(', ')}`
        : `unknown command "${first}"`;
    out.stderr(`dragonfly-cdc: ${reason}\nRun "dragonfly-cdc --help" to list the commands.\n`);
    return 2;
  }

  const rest = argv.slice(command.name.split(' ').length);
  if (rest.some((arg) => HELP_FLAGS.includes(arg))) {
    out.stdout(`${command.help()}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof ConfigError) {
      out.stderr(`dragonfly-cdc ${command.name}: ${error.message}\n${error.hint ? `${error.hint}\n` : ''}`);
      return 2;
    }
    out.stderr(`dragonfly-cdc ${command.name} failed: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

function findCommand(argv: readonly string[], commands: readonly CliCommand[]): CliCommand | undefined {
  const matches = commands.filter((command) => {
    const words = command.name.split(' ');
    return words.every((word, i) => argv[i] === word);
  });
  return matches.sort((a, b) => b.name.length - a.name.length)[0];
}
