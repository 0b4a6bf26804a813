/**
 * Loads the Avro schemas from schemas/ at run time: the current key and value schemas, and every
 * released version listed in schemas/released/index.json (their fingerprints are pinned there, so an
 * edited released file is caught, and old data stays decodable).
 */
import * as avro from 'avsc';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fingerprintBytes, parsingCanonicalForm } from './canonical-form';

export type SchemaRole = 'key' | 'value';

export interface LoadedSchema {
  role: SchemaRole;
  /** path relative to the schemas directory */
  file: string;
  json: unknown;
  type: avro.Type;
  canonicalForm: string;
  /** CRC-64-AVRO of the canonical form, 8 bytes little endian */
  fingerprint: Buffer;
}

export interface ReleasedSchemaEntry {
  role: SchemaRole;
  file: string;
  /** hex of the 8 little-endian fingerprint bytes */
  fingerprint: string;
}

export const CURRENT_SCHEMA_FILES: Record<SchemaRole, string> = {
  key: 'change-event-key.avsc',
  value: 'change-event.avsc',
};

/** The schemas/ directory: found by walking up from this module (works from src/ and dist/). */
export function schemaDirectory(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'schemas');
    if (existsSync(join(candidate, CURRENT_SCHEMA_FILES.value))) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(
        `schemas/${CURRENT_SCHEMA_FILES.value} not found above ${__dirname}; ` +
          'the schemas/ folder must ship next to the program (it is part of the package)',
      );
    }
  }
}

/** Parses one schema text (a role tells which reader it is meant for). */
export function loadSchemaText(role: SchemaRole, file: string, text: string): LoadedSchema {
  const json: unknown = JSON.parse(text);
  const type = avro.Type.forSchema(json as avro.Schema);
  const canonicalForm = parsingCanonicalForm(json);
  return { role, file, json, type, canonicalForm, fingerprint: fingerprintBytes(canonicalForm) };
}

function loadFile(role: SchemaRole, dir: string, file: string): LoadedSchema {
  return loadSchemaText(role, file, readFileSync(join(dir, file), 'utf8'));
}

let current: Record<SchemaRole, LoadedSchema> | undefined;

/** The schemas this build writes with (and reads into). */
export function currentSchemas(): Record<SchemaRole, LoadedSchema> {
  if (current === undefined) {
    const dir = schemaDirectory();
    current = {
      key: loadFile('key', dir, CURRENT_SCHEMA_FILES.key),
      value: loadFile('value', dir, CURRENT_SCHEMA_FILES.value),
    };
  }
  return current;
}

/** The pinned list of released schema versions. */
export function releasedSchemaIndex(): ReleasedSchemaEntry[] {
  return JSON.parse(
    readFileSync(join(schemaDirectory(), 'released', 'index.json'), 'utf8'),
  ) as ReleasedSchemaEntry[];
}

/** Every released schema version, loaded; throws if a file no longer matches its pinned fingerprint. */
export function releasedSchemas(): LoadedSchema[] {
  const dir = schemaDirectory();
  return releasedSchemaIndex().map((entry) => {
    const schema = loadFile(entry.role, dir, join('released', entry.file));
    if (schema.fingerprint.toString('hex') !== entry.fingerprint) {
      throw new Error(
        `schemas/released/${entry.file} has fingerprint ${schema.fingerprint.toString('hex')} but ` +
          `index.json pins ${entry.fingerprint}: released schemas must never change; restore the file from git`,
      );
    }
    return schema;
  });
}
