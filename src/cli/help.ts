/**
 * Help texts: the command list for `dragonfly-cdc --help`, and the option reference of a
 * configuration (every option with its flag, env var, default and description) for `<cmd> --help`.
 */
import type { CliCommand } from './command';
import type { ConfigDefinition, OptionInfo } from '../config/define';

export const EXIT_CODES_TEXT = 'Exit codes: 0 = ok, 1 = runtime failure, 2 = usage or configuration error.';

export function commandListHelp(version: string, commands: readonly CliCommand[]): string {
  const width = Math.max(0, ...commands.map((command) => command.name.length)) + 2;
  return [
    `dragonfly-cdc ${version}: change-data-capture from Dragonfly into Kafka, and from Kafka into Redis`,
    '',
    'Usage: dragonfly-cdc <command> [options]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    '',
    'Run "dragonfly-cdc <command> --help" for the options of a command.',
    '  --help       this list',
    '  --version    the version of dragonfly-cdc',
    '',
    EXIT_CODES_TEXT,
  ].join('\n');
}

export function showDefault(option: OptionInfo): string {
  if (option.sensitive && option.default !== '') return '(secret)';
  if (Array.isArray(option.default))
    return option.default.length === 0 ? '(empty)' : option.default.join(',');
  if (option.default === '') return '(empty)';
  return String(option.default);
}

/** Help of a command configured by a schema: usage, description, then every option. */
export function configCommandHelp<T>(definition: ConfigDefinition<T>, description: string): string {
  const lines = [
    `Usage: dragonfly-cdc ${definition.command} [--config <file>] [--print-config] [options]`,
    '',
    description,
    '',
    'Settings come from, lowest to highest priority: defaults, the --config file, env vars, flags.',
    'In the file, options are nested mappings (dragonfly.url is "dragonfly: {url: ...}").',
    'Empty env vars count as unset. Secrets are never printed.',
    '',
    '  --config <file>    JSON (.json) or YAML (.yaml, .yml) configuration file',
    '  --print-config     print the effective configuration as JSON (secrets "[redacted]") and exit',
    '  --help             this text',
    '',
    'Options (file key / env var / default):',
  ];
  for (const option of definition.options) {
    const flag = option.placeholder === '' ? `${option.flag}, --no-${option.flag.slice(2)}` : option.flag;
    lines.push(
      '',
      `  ${flag} ${option.placeholder}`.trimEnd(),
      `      ${option.path} / ${option.env} / default ${showDefault(option)}`,
      `      ${option.doc}${option.sensitive ? ' [secret]' : ''}`,
      `      accepts ${option.accepts}`,
    );
  }
  lines.push('', EXIT_CODES_TEXT);
  return lines.join('\n');
}
