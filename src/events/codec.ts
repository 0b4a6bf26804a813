/**
 * Encodes and decodes change-event keys and values: Avro binary over the schemas in schemas/,
 * framed by a SchemaWireFormat (single-object encoding unless told otherwise). Decoding accepts
 * every writer schema it can resolve — the current one, the released ones, and (Confluent) any the
 * registry returns — and reads it into the current schema with an avsc resolver.
 */
import type * as avro from 'avsc';
import { fromAvroEvent, toAvroEvent } from './avro-shape';
import { UnknownSchemaError } from './errors';
import type { ChangeEvent, ChangeEventKey } from './model';
import {
  currentSchemas,
  loadSchemaText,
  releasedSchemas,
  type LoadedSchema,
  type SchemaRole,
} from './schemas';
import { SingleObjectWireFormat, type SchemaWireFormat } from './wire-format';

interface WriterReader {
  role: SchemaRole;
  resolver: avro.Resolver | undefined;
}

const INITIAL_SCRATCH_BYTES = 64 * 1024;

function writeInto(type: avro.Type, header: Buffer, value: unknown, target: Buffer, offset: number): number {
  if (offset + header.length > target.length) return -1;
  header.copy(target, offset);
  return type.encode(value, target, offset + header.length);
}

export class EventCodec {
  private scratch = Buffer.allocUnsafe(INITIAL_SCRATCH_BYTES);
  private readonly readers = new Map<string, WriterReader>();

  private constructor(
    readonly wireFormat: SchemaWireFormat,
    private readonly schemas: Record<SchemaRole, LoadedSchema>,
    /** null for a codec made by forDecoding() */
    private readonly encodingHeaders: Record<SchemaRole, Buffer> | null,
  ) {}

  private get headers(): Record<SchemaRole, Buffer> {
    if (this.encodingHeaders === null)
      throw new Error('this EventCodec was made forDecoding(): it cannot encode');
    return this.encodingHeaders;
  }

  /** Single-object encoding names schemas by fingerprint: the ones this build ships are known up front. */
  private learnShippedSchemas(): void {
    if (!(this.wireFormat instanceof SingleObjectWireFormat)) return;
    for (const role of ['key', 'value'] as const) {
      this.readers.set(`fp:${this.schemas[role].fingerprint.toString('hex')}`, { role, resolver: undefined });
    }
    for (const released of releasedSchemas())
      this.learn(`fp:${released.fingerprint.toString('hex')}`, released);
  }

  /** A codec for the current schemas; registers them first when the wire format uses a registry. */
  static async create(wireFormat: SchemaWireFormat = new SingleObjectWireFormat()): Promise<EventCodec> {
    const schemas = currentSchemas();
    const headers = {
      key: await wireFormat.headerFor(schemas.key),
      value: await wireFormat.headerFor(schemas.value),
    };
    const codec = new EventCodec(wireFormat, schemas, headers);
    for (const role of ['key', 'value'] as const) {
      codec.readers.set(wireFormat.readHeader(headers[role], role).schemaRef, { role, resolver: undefined });
    }
    codec.learnShippedSchemas();
    return codec;
  }

  /**
   * A codec that only decodes (a consumer): it registers nothing, so a consumer never adds versions to
   * the producer's subjects; every writer schema is resolved as messages name it.
   */
  static forDecoding(wireFormat: SchemaWireFormat = new SingleObjectWireFormat()): EventCodec {
    const codec = new EventCodec(wireFormat, currentSchemas(), null);
    codec.learnShippedSchemas();
    return codec;
  }

  encodeKey(key: ChangeEventKey): Buffer {
    return this.encode(this.schemas.key.type, this.headers.key, key);
  }

  encodeValue(event: ChangeEvent): Buffer {
    return this.encode(this.schemas.value.type, this.headers.value, toAvroEvent(event));
  }

  /** Bytes of the wire header in front of every encoded value. */
  get valueHeaderBytes(): number {
    return this.headers.value.length;
  }

  /**
   * Writes the encoded key into `target` at `offset` (no copy, no allocation); returns where it ends,
   * or a negative number when `target` has no room for it.
   */
  writeKey(key: ChangeEventKey, target: Buffer, offset: number): number {
    return writeInto(this.schemas.key.type, this.headers.key, key, target, offset);
  }

  /** Writes the encoded value like writeKey(). */
  writeValue(event: ChangeEvent, target: Buffer, offset: number): number {
    return writeInto(this.schemas.value.type, this.headers.value, toAvroEvent(event), target, offset);
  }

  async decodeKey(message: Buffer): Promise<ChangeEventKey> {
    return { ...((await this.decode(message, 'key')) as ChangeEventKey) };
  }

  async decodeValue(message: Buffer): Promise<ChangeEvent> {
    return fromAvroEvent(await this.decode(message, 'value'));
  }

  private encode(type: avro.Type, header: Buffer, value: unknown): Buffer {
    header.copy(this.scratch, 0);
    let end = type.encode(value, this.scratch, header.length);
    while (end < 0) {
      this.scratch = Buffer.allocUnsafe(Math.ceil((this.scratch.length - end) * 1.5));
      header.copy(this.scratch, 0);
      end = type.encode(value, this.scratch, header.length);
    }
    return Buffer.from(this.scratch.subarray(0, end));
  }

  private async decode(message: Buffer, role: SchemaRole): Promise<unknown> {
    const { schemaRef, bodyOffset } = this.wireFormat.readHeader(message, role);
    const reader = this.readers.get(schemaRef) ?? (await this.fetch(schemaRef, role));
    if (reader.role !== role) {
      throw new UnknownSchemaError(
        schemaRef,
        `a message ${role} was written with the ${reader.role} schema ${schemaRef}`,
        `the producer swapped key and value; messages of this topic cannot be decoded as change events`,
      );
    }
    return this.schemas[role].type.fromBuffer(message.subarray(bodyOffset), reader.resolver);
  }

  private async fetch(schemaRef: string, role: SchemaRole): Promise<WriterReader> {
    const text = await this.wireFormat.fetchWriterSchema(schemaRef);
    if (text === undefined) {
      throw new UnknownSchemaError(
        schemaRef,
        `a message ${role} names writer schema ${schemaRef}, which this consumer does not know`,
        this.wireFormat.unknownSchemaHint(schemaRef),
      );
    }
    return this.learn(schemaRef, loadSchemaText(role, schemaRef, text));
  }

  /** Remembers how to read data written with `writer` (throws if it cannot be read into the current schema). */
  private learn(schemaRef: string, writer: LoadedSchema): WriterReader {
    const known = this.readers.get(schemaRef);
    if (known !== undefined) return known;
    const reader: WriterReader = {
      role: writer.role,
      resolver: this.schemas[writer.role].type.createResolver(writer.type),
    };
    this.readers.set(schemaRef, reader);
    return reader;
  }
}
