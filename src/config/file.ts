/**
 * Reads a configuration file: JSON (.json) or YAML (.yaml, .yml). An empty file is an empty config.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors';

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'the file does not exist',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory, not a file',
};

export function readConfigFile(path: string): Record<string, unknown> {
  const extension = extname(path).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(extension)) {
    throw new ConfigError(
      `cannot read config file ${path}: unknown file type "${extension || '(none)'}"`,
      'name the file *.json, *.yaml or *.yml',
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = READ_FAILURES[code] ?? (error as Error).message;
    throw new ConfigError(`cannot read config file ${path}: ${reason}`, 'check the path given to --config');
  }
  let content: unknown;
  try {
    content = extension === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const kind = extension === '.json' ? 'JSON' : 'YAML';
    throw new ConfigError(`cannot parse config file ${path} as ${kind}: ${(error as Error).message.trim()}`);
  }
  if (content === null || content === undefined) return {};
  if (typeof content !== 'object' || Array.isArray(content)) {
    throw new ConfigError(
      `config file ${path} must hold a mapping of options (like "topic: x"), not ${describeValue(content)}`,
    );
  }
  return content as Record<string, unknown>;
}

export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
