/**
 * Parses the configuration flags of a command strictly: every flag must be an option of the schema
 * (or --config), values come as `--flag value` or `--flag=value`, on/off options also as `--flag`
 * and `--no-flag`. Parsing is ours rather than convict's, whose parser ignores unknown flags and turns
 * number-like strings (a password "1e3") into numbers.
 */
import type { ConfigDefinition, OptionInfo } from './define';
import { ConfigError } from './errors';
import { closestName } from './suggest';

export interface ParsedArgs {
  configFile?: string;
  /** raw flag values by option path, in the order given (a repeated flag: the last one wins) */
  values: Map<string, { flag: string; raw: string }>;
}

export const CONFIG_FLAG = '--config';

export function parseConfigArgs(definition: ConfigDefinition<unknown>, argv: readonly string[]): ParsedArgs {
  const byFlag = new Map<string, OptionInfo>(definition.options.map((option) => [option.flag, option]));
  const helpHint = `run "dragonfly-cdc ${definition.command} --help" to list every option`;
  const parsed: ParsedArgs = { values: new Map() };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (!token.startsWith('--')) {
      throw new ConfigError(
        `unexpected argument "${token}": ${definition.command} takes only --options`,
        helpHint,
      );
    }
    const equals = token.indexOf('=');
    const flag = equals < 0 ? token : token.slice(0, equals);
    const inline = equals < 0 ? undefined : token.slice(equals + 1);
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new ConfigError(
          `${flag} needs a value`,
          `write ${flag} <value>, or ${flag}=<value> when the value itself starts with "--"`,
        );
      }
      i++;
      return next;
    };

    if (flag === CONFIG_FLAG) {
      parsed.configFile = takeValue();
      continue;
    }
    const negated = flag.startsWith('--no-') ? byFlag.get(`--${flag.slice(5)}`) : undefined;
    if (negated?.format === 'flag' && inline === undefined) {
      parsed.values.set(negated.path, { flag, raw: 'false' });
      continue;
    }
    const option = byFlag.get(flag);
    if (option === undefined) {
      const suggestion = closestName(flag, [...byFlag.keys(), CONFIG_FLAG]);
      throw new ConfigError(
        `unknown option ${flag} for ${definition.command}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
        helpHint,
      );
    }
    const raw = option.format === 'flag' && inline === undefined ? 'true' : takeValue();
    parsed.values.set(option.path, { flag, raw });
  }
  return parsed;
}
