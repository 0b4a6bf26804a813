/**
 * The option reference of a configuration as a Markdown table, for docs/configuration.md
 * (written by scripts/config-docs.ts; a test checks that the docs match the schemas).
 */
import type { OptionInfo } from './define';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function defaultCell(option: OptionInfo): string {
  if (Array.isArray(option.default))
    return option.default.length === 0 ? '(empty)' : `\`${option.default.join(',')}\``;
  if (option.default === '') return '(empty)';
  return `\`${String(option.default)}\``;
}

export function optionTable(options: readonly OptionInfo[]): string {
  const rows = options.map((option) =>
    [
      `\`${option.path}\``,
      `\`${option.flag}\``,
      `\`${option.env}\``,
      defaultCell(option),
      cell(option.accepts),
      cell(option.doc) + (option.sensitive ? ' **Secret**: never printed.' : ''),
    ].join(' | '),
  );
  return [
    '| File key | Flag | Env var | Default | Accepts | Description |',
    '|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');
}
