/**
 * Regenerates the option tables of docs/configuration.md from the convict schemas:
 *   npx tsx scripts/config-docs.ts
 * The tables sit between `<!-- options:source -->` / `<!-- options:sink -->` and `<!-- end -->`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { optionTable } from '../src/config/reference';
import { sinkConfig } from '../src/config/sink';
import { sourceConfig } from '../src/config/source';

const path = join(__dirname, '..', 'docs', 'configuration.md');
let text = readFileSync(path, 'utf8');
for (const definition of [sourceConfig, sinkConfig]) {
  const start = `<!-- options:${definition.command} -->`;
  const pattern = new RegExp(`${start}[\\s\\S]*?<!-- end -->`);
  if (!pattern.test(text)) {
    console.error(`${path} has no "${start} ... <!-- end -->" section to fill`);
    process.exit(1);
  }
  text = text.replace(pattern, () => `${start}\n${optionTable(definition.options)}\n<!-- end -->`);
}
writeFileSync(path, text);
console.log(`updated ${path}`);
