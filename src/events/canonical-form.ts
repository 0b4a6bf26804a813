/**
 * Avro "Parsing Canonical Form" and the CRC-64-AVRO fingerprint, both as defined by the Avro
 * specification (section "Schema Resolution" → "Parsing Canonical Form for Schemas" and
 * "Schema Fingerprints"). avsc 5.7 only offers crypto hashes (md5, sha256) over its own JSON, so the
 * single-object encoding needs this.
 */

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function fullName(name: string, namespace: string): string {
  return name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
}

function namespaceOf(fullname: string): string {
  const dot = fullname.lastIndexOf('.');
  return dot < 0 ? '' : fullname.slice(0, dot);
}

/** Builds the canonical JSON text of one (sub)schema; `namespace` is the enclosing namespace. */
function canonical(schema: Json, namespace: string): string {
  if (typeof schema === 'string') {
    return JSON.stringify(PRIMITIVES.has(schema) ? schema : fullName(schema, namespace));
  }
  if (Array.isArray(schema)) {
    return `[${schema.map((branch) => canonical(branch, namespace)).join(',')}]`;
  }
  if (schema === null || typeof schema !== 'object') {
    throw new Error(`not an Avro schema: ${JSON.stringify(schema)}`);
  }
  const type = schema.type;
  if (typeof type !== 'string') return canonical(type ?? null, namespace);
  if (PRIMITIVES.has(type)) return JSON.stringify(type);
  if (type === 'array') return `{"type":"array","items":${canonical(schema.items ?? null, namespace)}}`;
  if (type === 'map') return `{"type":"map","values":${canonical(schema.values ?? null, namespace)}}`;
  if (type !== 'record' && type !== 'error' && type !== 'enum' && type !== 'fixed') {
    // a reference written as {"type": "SomeName"}
    return canonical(type, namespace);
  }
  const ownNamespace = typeof schema.namespace === 'string' ? schema.namespace : namespace;
  const name = fullName(String(schema.name), ownNamespace);
  const head = `{"name":${JSON.stringify(name)},"type":${JSON.stringify(type)}`;
  if (type === 'enum') return `${head},"symbols":${JSON.stringify(schema.symbols)}}`;
  if (type === 'fixed') return `${head},"size":${Number(schema.size)}}`;
  const inner = namespaceOf(name);
  const fields = (schema.fields as { [key: string]: Json }[]).map(
    (field) => `{"name":${JSON.stringify(field.name)},"type":${canonical(field.type ?? null, inner)}}`,
  );
  return `${head},"fields":[${fields.join(',')}]}`;
}

/** The Parsing Canonical Form of a schema given as parsed JSON. */
export function parsingCanonicalForm(schema: unknown): string {
  return canonical(schema as Json, '');
}

const CRC64_EMPTY = 0xc15d213aa4d7a795n;
const MASK64 = 0xffffffffffffffffn;

const CRC64_TABLE: bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let bit = 0; bit < 8; bit++) fp = (fp >> 1n) ^ (CRC64_EMPTY & -(fp & 1n) & MASK64);
  return fp;
});

/** CRC-64-AVRO of some bytes, as an unsigned 64-bit value. */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = CRC64_EMPTY;
  for (const byte of bytes) fp = (fp >> 8n) ^ (CRC64_TABLE[Number((fp ^ BigInt(byte)) & 0xffn)] as bigint);
  return fp;
}

/** The 8-byte little-endian fingerprint that follows `C3 01` in Avro single-object encoding. */
export function fingerprintBytes(canonicalForm: string): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(crc64Avro(Buffer.from(canonicalForm, 'utf8')));
  return out;
}
