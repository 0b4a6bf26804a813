/**
 * Loads one command's configuration: defaults, then the --config file, then env vars, then flags
 * (each later layer wins), and validates the result strictly. Every problem found is reported at
 * once, each naming the option, the value given, where it came from and what is accepted.
 */
import convict from 'convict';
import { parseConfigArgs } from './args';
import { isOptionNode, type ConfigDefinition, type OptionInfo } from './define';
import { ConfigError } from './errors';
import { describeValue, readConfigFile } from './file';
import { registerFormats } from './formats';
import { REDACTED } from './redact';
import { closestName } from './suggest';

export function loadConfig<T>(
  definition: ConfigDefinition<T>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): T {
  registerFormats();
  const args = parseConfigArgs(definition as ConfigDefinition<unknown>, argv);
  const envValues = pickEnv(definition.options, env);
  const filePaths = new Set<string>();
  const fileContent =
    args.configFile === undefined
      ? undefined
      : checkFileShape(definition, readConfigFile(args.configFile), args.configFile, filePaths);

  const config = convict(definition.schema, { env: envValues, args: [] });
  if (fileContent !== undefined) config.load(fileContent);
  for (const [path, { raw }] of args.values) config.set(path, raw as never);

  const origin = (option: OptionInfo): string => {
    const flag = args.values.get(option.path)?.flag;
    if (flag !== undefined) return `flag ${flag}`;
    if (envValues[option.env] !== undefined) return `env ${option.env}`;
    if (filePaths.has(option.path)) return `file ${args.configFile}`;
    return 'the default';
  };
  const problems = validationProblems(definition, config, origin);
  const loaded = config.getProperties();
  if (problems.length === 0) problems.push(...definition.checks.flatMap((check) => check(loaded)));
  if (problems.length > 0) {
    throw new ConfigError(
      `invalid ${definition.command} configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
      `run "dragonfly-cdc ${definition.command} --help" to see every option, its flag, env var and default`,
    );
  }
  return loaded;
}

/** Env vars of the schema's options; an empty variable counts as unset (compose files often pass FOO=). */
function pickEnv(options: OptionInfo[], env: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const option of options) {
    const value = env[option.env];
    if (value !== undefined && value !== '') picked[option.env] = value;
  }
  return picked;
}

type SchemaNode = Record<string, unknown>;

/**
 * Checks the file against the schema's shape (unknown keys, a mapping where a value belongs or the
 * reverse) and returns the content without empty groups (a YAML "kafka:" with nothing under it).
 */
function checkFileShape<T>(
  definition: ConfigDefinition<T>,
  content: Record<string, unknown>,
  file: string,
  present: Set<string>,
): Record<string, unknown> {
  const problems: string[] = [];
  const allPaths = definition.options.map((option) => option.path);
  const visit = (
    node: SchemaNode,
    value: Record<string, unknown>,
    prefix: string,
  ): Record<string, unknown> => {
    const kept: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      const schemaChild = Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
      if (schemaChild === undefined) {
        const suggestion = closestName(path, allPaths);
        problems.push(`unknown option "${path}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`);
      } else if (isOptionNode(schemaChild)) {
        if (isMapping(child)) problems.push(`${path}: expected a value, got a mapping`);
        else {
          kept[key] = child;
          present.add(path);
        }
      } else if (isMapping(child)) {
        kept[key] = visit(schemaChild as SchemaNode, child, path);
      } else if (child !== null) {
        const keys = Object.keys(schemaChild as SchemaNode).join(', ');
        problems.push(`${path}: expected a mapping with keys ${keys}, got ${describeValue(child)}`);
      }
    }
    return kept;
  };
  const kept = visit(definition.schema as unknown as SchemaNode, content, '');
  if (problems.length > 0) {
    throw new ConfigError(
      `config file ${file} does not match the ${definition.command} options:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      `run "dragonfly-cdc ${definition.command} --help" to see every option (file keys are the dotted names)`,
    );
  }
  return kept;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Runs convict's strict validation and rewrites its messages to name the value, origin and accepted form. */
function validationProblems<T>(
  definition: ConfigDefinition<T>,
  config: convict.Config<T>,
  origin: (option: OptionInfo) => string,
): string[] {
  try {
    config.validate({ allowed: 'strict' });
    return [];
  } catch (error) {
    return (error as Error).message.split('\n').map((line) => {
      const option = definition.options.find((candidate) => line.startsWith(`${candidate.path}: `));
      if (option === undefined) return line;
      const value = config.get(option.path as never) as unknown;
      const shown = option.sensitive ? REDACTED : JSON.stringify(value);
      return `${option.path}: ${shown} (from ${origin(option)}) is not accepted; expected ${option.accepts}`;
    });
  }
}
