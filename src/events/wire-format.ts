/**
 * How a message names its writer schema. Two formats:
 * - SingleObjectWireFormat (default): Avro single-object encoding, `C3 01` + 8-byte little-endian
 *   CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form + Avro binary. Needs no registry:
 *   any Avro reader can find the writer schema among schemas/ by fingerprint.
 * - ConfluentWireFormat: `00` + 4-byte big-endian Confluent Schema Registry id + Avro binary; the
 *   registry is reached through the injected SchemaRegistryClient.
 */
import { WireFormatError } from './errors';
import type { LoadedSchema, SchemaRole } from './schemas';

export interface MessageHeader {
  /** "fp:<hex>" or "id:<n>": identifies the writer schema */
  schemaRef: string;
  bodyOffset: number;
}

export interface SchemaWireFormat {
  readonly name: string;
  /** The header bytes that name `schema` as the writer schema (registers it if the format needs to). */
  headerFor(schema: LoadedSchema): Promise<Buffer>;
  /** Reads a message's header; throws WireFormatError when the message is not in this format. */
  readHeader(message: Buffer, role: SchemaRole): MessageHeader;
  /** The writer schema (JSON text) for a reference this process has not seen, or undefined if unknown. */
  fetchWriterSchema(schemaRef: string): Promise<string | undefined>;
  /** Explains to a user what to do about a reference that resolves to nothing. */
  unknownSchemaHint(schemaRef: string): string;
}

const SINGLE_OBJECT_MAGIC = Buffer.from([0xc3, 0x01]);
const SINGLE_OBJECT_HEADER_BYTES = 10;

function preview(message: Buffer): string {
  return message.subarray(0, 12).toString('hex').replace(/(..)/g, '$1 ').trim() || '(empty)';
}

export class SingleObjectWireFormat implements SchemaWireFormat {
  readonly name = 'avro-single-object';

  headerFor(schema: LoadedSchema): Promise<Buffer> {
    return Promise.resolve(Buffer.concat([SINGLE_OBJECT_MAGIC, schema.fingerprint]));
  }

  readHeader(message: Buffer, role: SchemaRole): MessageHeader {
    if (message.length < SINGLE_OBJECT_HEADER_BYTES || message[0] !== 0xc3 || message[1] !== 0x01) {
      throw new WireFormatError(
        `the ${role} of a message starts with ${preview(message)}, not with the Avro single-object marker C3 01`,
        message[0] === 0x00
          ? 'it looks like Confluent Schema Registry framing: set encoding to confluent (with schemaRegistry.url)'
          : 'the topic holds messages of another producer or format; check the topic name and the source settings',
      );
    }
    return {
      schemaRef: `fp:${message.subarray(2, SINGLE_OBJECT_HEADER_BYTES).toString('hex')}`,
      bodyOffset: SINGLE_OBJECT_HEADER_BYTES,
    };
  }

  fetchWriterSchema(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  unknownSchemaHint(): string {
    return (
      'it was written with a schema that is neither the current one nor listed in schemas/released/: ' +
      "upgrade this consumer to the version of the producer, or add the producer's .avsc to schemas/released/"
    );
  }
}

/** The part of a Confluent Schema Registry client the wire format needs. */
export interface SchemaRegistryClient {
  /** Registers (or finds) `schema` under `subject`; resolves to its global id. */
  register(subject: string, schema: string): Promise<number>;
  /** The schema text with this id, or undefined when the registry has none. */
  schemaById(id: number): Promise<string | undefined>;
}

/** A registry held in memory (tests, single-process setups); ids are handed out from 1. */
export class InMemorySchemaRegistry implements SchemaRegistryClient {
  private readonly byId = new Map<number, string>();
  private readonly idByText = new Map<string, number>();
  private readonly subjects = new Map<string, number[]>();

  register(subject: string, schema: string): Promise<number> {
    let id = this.idByText.get(schema);
    if (id === undefined) {
      id = this.byId.size + 1;
      this.byId.set(id, schema);
      this.idByText.set(schema, id);
    }
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return Promise.resolve(id);
  }

  schemaById(id: number): Promise<string | undefined> {
    return Promise.resolve(this.byId.get(id));
  }

  /** Ids registered under a subject, oldest first. */
  versions(subject: string): number[] {
    return [...(this.subjects.get(subject) ?? [])];
  }
}

export interface ConfluentSubjects {
  key: string;
  value: string;
}

const CONFLUENT_HEADER_BYTES = 5;

export class ConfluentWireFormat implements SchemaWireFormat {
  readonly name = 'confluent';

  constructor(
    private readonly registry: SchemaRegistryClient,
    /** subject names; Confluent's default (TopicNameStrategy) is `<topic>-key` / `<topic>-value` */
    private readonly subjects: ConfluentSubjects,
  ) {}

  async headerFor(schema: LoadedSchema): Promise<Buffer> {
    const id = await this.registry.register(this.subjects[schema.role], JSON.stringify(schema.json));
    const header = Buffer.alloc(CONFLUENT_HEADER_BYTES);
    header.writeUInt32BE(id, 1);
    return header;
  }

  readHeader(message: Buffer, role: SchemaRole): MessageHeader {
    if (message.length < CONFLUENT_HEADER_BYTES || message[0] !== 0x00) {
      throw new WireFormatError(
        `the ${role} of a message starts with ${preview(message)}, not with the Confluent magic byte 00`,
        message[0] === 0xc3
          ? 'it looks like Avro single-object encoding: set encoding to single-object'
          : 'the topic holds messages of another producer or format; check the topic name and the source settings',
      );
    }
    return { schemaRef: `id:${message.readUInt32BE(1)}`, bodyOffset: CONFLUENT_HEADER_BYTES };
  }

  fetchWriterSchema(schemaRef: string): Promise<string | undefined> {
    return this.registry.schemaById(Number(schemaRef.slice('id:'.length)));
  }

  unknownSchemaHint(schemaRef: string): string {
    return `the schema registry has no schema with ${schemaRef.replace(':', ' ')}: check that schemaRegistry.url names the registry the producer registered with (a registry without persistent storage forgets its schemas on restart)`;
  }
}
