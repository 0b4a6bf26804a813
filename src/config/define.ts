/**
 * Building blocks for the convict schemas: `option()` declares one setting, `defineConfig()` names
 * every option's env var and flag after its path and lists the options for loading, help and docs.
 *
 * Naming rule (one rule, no exceptions): the path `replica.ackIntervalMs` is the file key, the flag is
 * `--replica-ack-interval-ms` and the env var is `REPLICA_ACK_INTERVAL_MS`.
 */
import type convict from 'convict';
import { describeFormat, formatPlaceholder, type FormatName, type FormatParams } from './formats';

export interface OptionSpec<T> extends FormatParams {
  doc: string;
  default: T;
  format: FormatName;
  /** a secret: never printed, logged or echoed in error messages */
  sensitive?: boolean;
  /** a URL that may carry a password (redis://user:password@host); the password part is hidden */
  urlWithPassword?: boolean;
}

/** Declares one option; the returned object is a convict schema item. */
export function option<T>(spec: OptionSpec<T>): convict.SchemaObj<T> & OptionSpec<T> {
  return { ...spec };
}

/** One option as seen by the loader, `--help` and the docs generator. */
export interface OptionInfo {
  path: string;
  flag: string;
  env: string;
  default: unknown;
  doc: string;
  format: FormatName;
  params: FormatParams;
  sensitive: boolean;
  urlWithPassword: boolean;
  /** what the option accepts, in words */
  accepts: string;
  /** what follows the flag in --help ("" for on/off flags) */
  placeholder: string;
}

/** A rule that spans several options; returns one message per problem, naming the options. */
export type CrossCheck<T> = (config: T) => string[];

export interface ConfigDefinition<T> {
  /** the CLI command this configuration belongs to ("source", "sink") */
  command: string;
  schema: convict.Schema<T>;
  options: OptionInfo[];
  checks: CrossCheck<T>[];
}

type SchemaNode = { [key: string]: SchemaNode | (OptionSpec<unknown> & { env?: string; arg?: string }) };

export function isOptionNode(node: unknown): node is OptionSpec<unknown> & { env: string; arg: string } {
  return typeof node === 'object' && node !== null && 'default' in node;
}

export function flagName(path: string): string {
  return path
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/\./g, '-')
    .toLowerCase();
}

export function envName(path: string): string {
  return flagName(path).replace(/-/g, '_').toUpperCase();
}

/** Names every option after its path (env + arg on the schema items) and collects the option list. */
export function defineConfig<T>(
  command: string,
  schema: convict.Schema<T>,
  checks: CrossCheck<T>[] = [],
): ConfigDefinition<T> {
  const options: OptionInfo[] = [];
  const visit = (node: SchemaNode, prefix: string): void => {
    for (const [key, child] of Object.entries(node)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (!isOptionNode(child)) {
        visit(child as SchemaNode, path);
        continue;
      }
      child.arg = flagName(path);
      child.env = envName(path);
      options.push({
        path,
        flag: `--${child.arg}`,
        env: child.env,
        default: child.default,
        doc: child.doc,
        format: child.format,
        params: child,
        sensitive: child.sensitive === true,
        urlWithPassword: child.urlWithPassword === true,
        accepts: describeFormat(child.format, child),
        placeholder: formatPlaceholder(child.format, child),
      });
    }
  };
  visit(schema as unknown as SchemaNode, '');
  return { command, schema, options, checks };
}
