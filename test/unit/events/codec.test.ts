import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventCodec } from '../../../src/events/codec';
import { UnknownSchemaError, WireFormatError } from '../../../src/events/errors';
import { eventKey, type ChangeEvent } from '../../../src/events/model';
import { currentSchemas } from '../../../src/events/schemas';
import { ConfluentWireFormat, InMemorySchemaRegistry } from '../../../src/events/wire-format';
import { everyPayload, plain } from './samples';

test('every payload kind survives encode and decode (single-object encoding)', async () => {
  const codec = await EventCodec.create();
  const events = everyPayload();
  assert.equal(new Set(events.map((e) => e.payload.type)).size, 8);
  for (const event of events) {
    const value = codec.encodeValue(event);
    const key = codec.encodeKey(eventKey(event));
    assert.deepEqual(plain(await codec.decodeValue(value)), plain(event));
    assert.deepEqual(plain(await codec.decodeKey(key)), eventKey(event));
  }
});

test('a decoding-only codec reads single-object messages of the current and released schemas', async () => {
  const writer = await EventCodec.create();
  const reader = EventCodec.forDecoding();
  for (const event of everyPayload()) {
    assert.deepEqual(plain(await reader.decodeValue(writer.encodeValue(event))), plain(event));
    assert.deepEqual(plain(await reader.decodeKey(writer.encodeKey(eventKey(event)))), eventKey(event));
  }
});

test('single-object header is C3 01 + the little-endian CRC-64-AVRO of the canonical form', async () => {
  const codec = await EventCodec.create();
  const message = codec.encodeValue(everyPayload()[0] as ChangeEvent);
  assert.deepEqual([...message.subarray(0, 2)], [0xc3, 0x01]);
  assert.deepEqual(message.subarray(2, 10), currentSchemas().value.fingerprint);
  const key = codec.encodeKey(eventKey(everyPayload()[0] as ChangeEvent));
  assert.deepEqual(key.subarray(2, 10), currentSchemas().key.fingerprint);
  // the body is plain Avro binary of the writer schema
  assert.doesNotThrow(() => currentSchemas().value.type.fromBuffer(message.subarray(10)));
});

test('an unknown fingerprint is a typed error that says what to do', async () => {
  const codec = await EventCodec.create();
  const message = codec.encodeValue(everyPayload()[0] as ChangeEvent);
  message.writeUInt32LE(0xdeadbeef, 2);
  await assert.rejects(codec.decodeValue(message), (e: unknown) => {
    assert.ok(e instanceof UnknownSchemaError);
    assert.match(e.message, /fp:efbeadde/);
    assert.match(e.message, /schemas\/released/);
    return true;
  });
});

test('bad magic bytes are a typed error naming what was found', async () => {
  const codec = await EventCodec.create();
  await assert.rejects(codec.decodeValue(Buffer.from('{"json": true}')), (e: unknown) => {
    assert.ok(e instanceof WireFormatError);
    assert.match(e.message, /starts with 7b 22 6a/);
    return true;
  });
  await assert.rejects(
    codec.decodeValue(Buffer.from([0, 0, 0, 0, 1, 2])),
    /Confluent Schema Registry framing/,
  );
});

test('a key message decoded as a value is refused', async () => {
  const codec = await EventCodec.create();
  const key = codec.encodeKey(eventKey(everyPayload()[0] as ChangeEvent));
  await assert.rejects(codec.decodeValue(key), UnknownSchemaError);
});

test('Confluent framing: magic 0 + big-endian schema id, ids from the injected registry', async () => {
  const registry = new InMemorySchemaRegistry();
  const codec = await EventCodec.create(
    new ConfluentWireFormat(registry, { key: 'cdc-key', value: 'cdc-value' }),
  );
  const [valueId] = registry.versions('cdc-value');
  const [keyId] = registry.versions('cdc-key');
  assert.ok(valueId !== undefined && keyId !== undefined && valueId !== keyId);
  for (const event of everyPayload()) {
    const value = codec.encodeValue(event);
    assert.equal(value[0], 0);
    assert.equal(value.readUInt32BE(1), valueId);
    assert.deepEqual(plain(await codec.decodeValue(value)), plain(event));
  }
  // a consumer learns the writer schema from the registry on first sight and registers nothing
  const reader = EventCodec.forDecoding(
    new ConfluentWireFormat(registry, { key: 'other-key', value: 'other-value' }),
  );
  assert.deepEqual(registry.versions('other-value'), []);
  assert.throws(() => reader.encodeValue(everyPayload()[0] as ChangeEvent), /forDecoding/);
  const event = everyPayload()[3] as ChangeEvent;
  assert.deepEqual(plain(await reader.decodeValue(codec.encodeValue(event))), plain(event));
  const unknown = codec.encodeValue(event);
  unknown.writeUInt32BE(999, 1);
  await assert.rejects(reader.decodeValue(unknown), /registry has no schema with id 999/);
});
