import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc64Avro, fingerprintBytes, parsingCanonicalForm } from '../../../src/events/canonical-form';

/** From the Avro project's share/test/data/schema-tests.txt: input, canonical form, signed fingerprint. */
const VECTORS: [unknown, string, string][] = [
  ['null', '"null"', '7195948357588979594'],
  [{ type: 'int' }, '"int"', '8247732601305521295'],
  ['long', '"long"', '-3434872931120570953'],
  [['int', { type: 'boolean' }], '["int","boolean"]', '5392556393470105090'],
  [
    { fields: [], type: 'record', name: 'foo', namespace: 'x.y' },
    '{"name":"x.y.foo","type":"record","fields":[]}',
    '5916914534497305771',
  ],
  [
    { fields: [], type: 'record', name: 'a.b.foo', namespace: 'x.y' },
    '{"name":"a.b.foo","type":"record","fields":[]}',
    '-4616218487480524110',
  ],
  [
    {
      fields: [
        { type: 'boolean', aliases: [], name: 'f1', default: 'true' },
        { order: 'descending', name: 'f2', doc: 'Hello', type: 'int' },
      ],
      type: 'record',
      name: 'foo',
    },
    '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
    '-4860222112080293046',
  ],
  [
    { namespace: 'x.y.z', type: 'enum', name: 'foo', doc: 'foo bar', symbols: ['A1', 'A2'] },
    '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
    '-4448647247586288245',
  ],
  [
    { namespace: 'x.y.z', type: 'fixed', name: 'foo', doc: 'foo bar', size: 32 },
    '{"name":"x.y.z.foo","type":"fixed","size":32}',
    '-3064184465700546786',
  ],
  [{ items: { type: 'null' }, type: 'array' }, '{"type":"array","items":"null"}', '-589620603366471059'],
  [{ values: 'string', type: 'map' }, '{"type":"map","values":"string"}', '-8732877298790414990'],
  [
    {
      name: 'PigValue',
      type: 'record',
      fields: [{ name: 'value', type: ['null', 'int', 'long', 'PigValue'] }],
    },
    '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
    '-1759257747318642341',
  ],
];

test('canonical form and CRC-64-AVRO match the Avro project test vectors', () => {
  for (const [schema, canonical, fingerprint] of VECTORS) {
    const form = parsingCanonicalForm(schema);
    assert.equal(form, canonical);
    assert.equal(BigInt.asIntN(64, crc64Avro(Buffer.from(form))).toString(), fingerprint, canonical);
  }
});

test('fingerprint bytes are the CRC little endian', () => {
  const bytes = fingerprintBytes('"null"');
  assert.equal(bytes.readBigInt64LE(0).toString(), '7195948357588979594');
});
