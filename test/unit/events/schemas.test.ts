/**
 * Guards the compatibility policy (docs/events.md): released schemas never change (their
 * fingerprints are pinned), the current schemas are released, and data written with every released
 * version decodes with the current schemas.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as avro from 'avsc';
import { fromAvroEvent, toAvroEvent } from '../../../src/events/avro-shape';
import { eventKey } from '../../../src/events/model';
import {
  currentSchemas,
  releasedSchemaIndex,
  releasedSchemas,
  schemaDirectory,
} from '../../../src/events/schemas';
import { everyPayload, plain } from './samples';

test('every .avsc file in schemas/ parses', () => {
  const dir = schemaDirectory();
  const files = [
    ...readdirSync(dir).filter((f) => f.endsWith('.avsc')),
    ...readdirSync(join(dir, 'released'))
      .map((f) => join('released', f))
      .filter((f) => f.endsWith('.avsc')),
  ];
  assert.ok(files.length >= 4);
  for (const file of files)
    assert.doesNotThrow(
      () => avro.Type.forSchema(JSON.parse(readFileSync(join(dir, file), 'utf8')) as avro.Schema),
      file,
    );
});

test('released schemas match their pinned fingerprints', () => {
  assert.doesNotThrow(() => releasedSchemas());
  assert.deepEqual(new Set(releasedSchemaIndex().map((e) => e.role)), new Set(['key', 'value']));
});

test('the current schemas are released (a schema change needs a new released copy)', () => {
  const pinned = new Set(releasedSchemaIndex().map((e) => `${e.role}:${e.fingerprint}`));
  const current = currentSchemas();
  for (const schema of [current.key, current.value]) {
    assert.ok(
      pinned.has(`${schema.role}:${schema.fingerprint.toString('hex')}`),
      `schemas/${schema.file} changed (fingerprint ${schema.fingerprint.toString('hex')}): copy it to ` +
        'schemas/released/ under a new version and pin it in index.json',
    );
  }
});

test('data written with every released schema decodes with the current schema', () => {
  const current = currentSchemas();
  for (const released of releasedSchemas()) {
    const reader = current[released.role].type;
    const resolver = reader.createResolver(released.type);
    for (const event of everyPayload()) {
      if (released.role === 'key') {
        const key = eventKey(event);
        assert.deepEqual(plain(reader.fromBuffer(released.type.toBuffer(key), resolver)), key);
      } else {
        const old = released.type.toBuffer(toAvroEvent(event));
        assert.deepEqual(plain(fromAvroEvent(reader.fromBuffer(old, resolver))), plain(event), released.file);
      }
    }
  }
});

test('canonical forms agree with avsc and stay stable for the released version', () => {
  const current = currentSchemas();
  assert.equal(current.value.canonicalForm, JSON.stringify(current.value.type.schema()));
  assert.equal(current.key.canonicalForm, JSON.stringify(current.key.type.schema()));
});
