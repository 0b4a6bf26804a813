/**
 * A client of the Confluent Schema Registry REST API (Confluent's own registry, Apicurio's
 * /apis/ccompat/v7, Karapace, Redpanda...): registers schemas, fetches writer schemas by id, checks and
 * sets compatibility. Ids are cached both ways, so a schema is registered once per subject and an id is
 * fetched once per process. Unavailable registries are retried for schemaRegistry.retryForMs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CompatibilityLevel, SchemaRegistryConfig } from '../config/shared';
import type { SchemaRegistryClient } from '../events/wire-format';
import { Backoff } from '../replica/backoff';
import { SchemaRegistryError } from './errors';
import { RegistryTransport, registryMessage, type RegistryResponse } from './http-transport';

function field<T>(body: unknown, name: string, type: 'number' | 'string' | 'boolean'): T | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === type ? (value as T) : undefined;
}

const path = {
  versions: (subject: string) => `/subjects/${encodeURIComponent(subject)}/versions`,
  schemaById: (id: number) => `/schemas/ids/${id}`,
  compatibility: (subject: string) =>
    `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`,
  config: (subject: string) => `/config/${encodeURIComponent(subject)}`,
};

export class HttpSchemaRegistryClient implements SchemaRegistryClient {
  private readonly transport: RegistryTransport;
  private readonly idBySubjectSchema = new Map<string, number>();
  private readonly schemaByIdCache = new Map<number, string>();

  constructor(
    private readonly config: SchemaRegistryConfig,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.transport = new RegistryTransport(config);
  }

  get url(): string {
    return this.transport.baseUrl;
  }

  async register(subject: string, schema: string): Promise<number> {
    const cacheKey = `${subject}\u0000${schema}`;
    const cached = this.idBySubjectSchema.get(cacheKey);
    if (cached !== undefined) return cached;
    const response = await this.call('POST', path.versions(subject), { schema });
    const id = field<number>(response.body, 'id', 'number');
    if (response.status === 409) {
      throw new SchemaRegistryError(
        'incompatible',
        `the schema registry at ${this.url} refused to register this build's schema under subject ` +
          `${subject}: it is incompatible with the versions already there (${registryMessage(response.body)})`,
        incompatibleHint(subject),
      );
    }
    if (response.status !== 200 || id === undefined)
      throw this.unexpected('register a schema', subject, response);
    this.idBySubjectSchema.set(cacheKey, id);
    this.schemaByIdCache.set(id, schema);
    return id;
  }

  async schemaById(id: number): Promise<string | undefined> {
    const cached = this.schemaByIdCache.get(id);
    if (cached !== undefined) return cached;
    const response = await this.call('GET', path.schemaById(id));
    if (response.status === 404) return undefined;
    const schema = field<string>(response.body, 'schema', 'string');
    if (response.status !== 200 || schema === undefined)
      throw this.unexpected(`read schema id ${id}`, '', response);
    this.schemaByIdCache.set(id, schema);
    return schema;
  }

  /**
   * Why `schema` may not be registered under `subject` at the subject's compatibility level
   * (empty when it may; a subject without versions accepts anything).
   */
  async compatibilityProblems(subject: string, schema: string): Promise<string[]> {
    const response = await this.call('POST', path.compatibility(subject), { schema });
    if (response.status === 404) return [];
    const compatible = field<boolean>(response.body, 'is_compatible', 'boolean');
    if (response.status !== 200 || compatible === undefined)
      throw this.unexpected('check compatibility', subject, response);
    if (compatible) return [];
    const messages = (response.body as { messages?: unknown }).messages;
    return Array.isArray(messages) && messages.length > 0
      ? messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m)))
      : ['the registry gave no reason'];
  }

  /** Sets the compatibility level the registry enforces for `subject`. */
  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    const response = await this.call('PUT', path.config(subject), { compatibility: level });
    if (response.status !== 200) throw this.unexpected(`set compatibility ${level}`, subject, response);
  }

  /** Fails (after the usual retries) unless the registry answers a harmless read. */
  async checkReachable(): Promise<void> {
    const response = await this.call('GET', '/subjects');
    if (response.status !== 200) throw this.unexpected('list subjects', '', response);
  }

  close(): void {
    this.transport.close();
  }

  /** One request, retried while the registry is unavailable, for up to schemaRegistry.retryForMs. */
  private async call(
    method: 'GET' | 'POST' | 'PUT',
    requestPath: string,
    body?: unknown,
  ): Promise<RegistryResponse> {
    const deadline = Date.now() + this.config.retryForMs;
    const backoff = new Backoff({ initialDelayMs: 200, maxDelayMs: 5_000, maxAttempts: 0 });
    for (;;) {
      try {
        return await this.transport.request(method, requestPath, body);
      } catch (error) {
        if (!(error instanceof SchemaRegistryError) || !error.transient) throw error;
        const delay = backoff.next() ?? 0;
        if (Date.now() + delay > deadline) {
          throw new SchemaRegistryError(
            'unavailable',
            `${error.what} (retried for ${this.config.retryForMs} ms)`,
            `${error.hint}; schemaRegistry.retryForMs sets how long to wait for it`,
            { cause: error },
          );
        }
        this.log(`${error.what}; retrying in ${delay} ms`);
        await sleep(delay);
      }
    }
  }

  private unexpected(action: string, subject: string, response: RegistryResponse): SchemaRegistryError {
    return new SchemaRegistryError(
      'rejected',
      `the schema registry at ${this.url} answered HTTP ${response.status} when asked to ${action}` +
        `${subject === '' ? '' : ` for subject ${subject}`}: ${registryMessage(response.body)}`,
      'check that schemaRegistry.url points at a Confluent-compatible API (for Apicurio: .../apis/ccompat/v7)',
    );
  }
}

/** What a user can do about a subject that refuses this build's schema. */
export function incompatibleHint(subject: string): string {
  return (
    `nothing was published. Either publish to a new topic (a new subject), or, if every consumer of ${subject} ` +
    'can cope with the change, relax schemaRegistry.compatibility (e.g. NONE) or delete the old versions of the subject'
  );
}
