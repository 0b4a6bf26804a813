/**
 * Value formats for the configuration schemas, registered with convict by name.
 *
 * Each format coerces the strings that come from env vars and flags, and otherwise leaves the value
 * alone so that a bad value reaches validation unchanged and the error can show what was given.
 * Every format can also describe what it accepts, for error messages, `--help` and the docs.
 */
import convict from 'convict';

/** The schema fields a format reads its parameters from (convict passes the schema item along). */
export interface FormatParams {
  /** smallest allowed number (whole-number) */
  min?: number;
  /** largest allowed number (whole-number) */
  max?: number;
  /** allowed values (one-of) */
  values?: readonly string[];
  /** what the text must look like (text), with `patternText` saying it in words (a whole phrase) */
  pattern?: RegExp;
  patternText?: string;
  /** accepted URL schemes without the colon (url); `allowEmpty` lets "" through */
  schemes?: readonly string[];
  allowEmpty?: boolean;
}

interface FormatDefinition {
  coerce(raw: string): unknown;
  validate(value: unknown, params: FormatParams): boolean;
  describe(params: FormatParams): string;
  /** placeholder shown after the flag in --help */
  placeholder(params: FormatParams): string;
}

const TRUE_WORDS = ['true', 'yes', 'on', '1'];
const FALSE_WORDS = ['false', 'no', 'off', '0'];

const definitions = {
  'whole-number': {
    coerce: (raw) => (/^\s*\d+\s*$/.test(raw) ? Number(raw) : raw),
    validate: (value, { min = 0, max = Number.MAX_SAFE_INTEGER }) =>
      Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max,
    describe: ({ min = 0, max }) =>
      max === undefined ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`,
    placeholder: () => '<n>',
  },
  flag: {
    coerce: (raw) => {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.includes(word)) return true;
      if (FALSE_WORDS.includes(word)) return false;
      return raw;
    },
    validate: (value) => typeof value === 'boolean',
    describe: () => 'true or false',
    placeholder: () => '',
  },
  'one-of': {
    coerce: (raw) => raw,
    validate: (value, { values = [] }) => typeof value === 'string' && values.includes(value),
    describe: ({ values = [] }) => `one of ${values.join(', ')}`,
    placeholder: ({ values = [] }) => `<${values.join('|')}>`,
  },
  text: {
    coerce: (raw) => raw,
    validate: (value, { pattern }) =>
      typeof value === 'string' && (pattern === undefined || pattern.test(value)),
    describe: ({ pattern, patternText }) =>
      pattern === undefined ? 'a string' : (patternText ?? `a string matching ${String(pattern)}`),
    placeholder: () => '<text>',
  },
  'host-list': {
    coerce: (raw) =>
      raw
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part.length > 0),
    validate: (value) => Array.isArray(value) && value.every((item) => isHostPort(item)),
    describe: () => 'a list of host:port (comma-separated in env vars and flags)',
    placeholder: () => '<host:port,...>',
  },
  url: {
    coerce: (raw) => raw.trim(),
    validate: (value, { schemes = [], allowEmpty = false }) =>
      typeof value === 'string' && ((allowEmpty && value === '') || hasScheme(value, schemes)),
    describe: ({ schemes = [], allowEmpty = false }) =>
      `a ${schemes.join(':// or ')}:// URL${allowEmpty ? ' or "" (empty)' : ''}`,
    placeholder: () => '<url>',
  },
} satisfies Record<string, FormatDefinition>;

export type FormatName = keyof typeof definitions;

function isHostPort(item: unknown): boolean {
  if (typeof item !== 'string') return false;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(item);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}

function hasScheme(value: string, schemes: readonly string[]): boolean {
  try {
    const url = new URL(value);
    return schemes.includes(url.protocol.slice(0, -1)) && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Thrown by a format's validate; the loader turns it into a message naming the option. */
export class FormatMismatch extends Error {}

let registered = false;

/** Registers every format with convict (convict's format table is global to the process). */
export function registerFormats(): void {
  if (registered) return;
  registered = true;
  for (const [name, definition] of Object.entries(definitions) as [string, FormatDefinition][]) {
    convict.addFormat({
      name,
      coerce: (raw: unknown) => (typeof raw === 'string' ? definition.coerce(raw) : raw),
      validate: (value: unknown, schema: convict.SchemaObj) => {
        const params = schema as FormatParams;
        if (!definition.validate(value, params))
          throw new FormatMismatch(`expected ${definition.describe(params)}`);
      },
    });
  }
}

export function describeFormat(name: FormatName, params: FormatParams): string {
  return (definitions[name] as FormatDefinition).describe(params);
}

export function formatPlaceholder(name: FormatName, params: FormatParams): string {
  return (definitions[name] as FormatDefinition).placeholder(params);
}
