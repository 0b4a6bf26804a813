/**
 * One JSON request to the registry over node's http/https: basic auth, TLS settings, a per-request
 * timeout. Transport failures, timeouts and 5xx answers become `unavailable` SchemaRegistryErrors,
 * 401/403 `unauthorized`; every other status is returned for the caller to judge.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { SchemaRegistryConfig } from '../config/shared';
import { SchemaRegistryError } from './errors';

export interface RegistryResponse {
  status: number;
  body: unknown;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new SchemaRegistryError(
      'rejected',
      `cannot read the schema registry ${what} file ${path}: ${(error as Error).message}`,
      'check schemaRegistry.tls',
      { cause: error },
    );
  }
}

/** The message of a Confluent error body ({"error_code": 40401, "message": "..."}), if it has one. */
export function registryMessage(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body) return String(body.message);
  return typeof body === 'string' ? body.slice(0, 300) : (JSON.stringify(body)?.slice(0, 300) ?? '');
}

export class RegistryTransport {
  /** the registry URL without a trailing slash (it may carry a path, e.g. /apis/ccompat/v7) */
  readonly baseUrl: string;
  private readonly agent: http.Agent;
  private readonly authorization: string | undefined;

  constructor(private readonly config: SchemaRegistryConfig) {
    this.baseUrl = config.url.replace(/\/+$/, '');
    const tls = config.tls;
    this.agent = this.baseUrl.startsWith('https:')
      ? new https.Agent({
          keepAlive: true,
          rejectUnauthorized: tls.rejectUnauthorized,
          ...(tls.ca ? { ca: readPem(tls.ca, 'CA') } : {}),
          ...(tls.cert ? { cert: readPem(tls.cert, 'client certificate') } : {}),
          ...(tls.key ? { key: readPem(tls.key, 'client key') } : {}),
        })
      : new http.Agent({ keepAlive: true });
    this.authorization =
      config.username === ''
        ? undefined
        : `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
  }

  request(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<RegistryResponse> {
    const url = `${this.baseUrl}${path}`;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const send = url.startsWith('https:') ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        {
          method,
          agent: this.agent,
          timeout: this.config.timeoutMs,
          headers: {
            accept: `${CONTENT_TYPE}, application/json`,
            ...(payload ? { 'content-type': CONTENT_TYPE, 'content-length': payload.length } : {}),
            ...(this.authorization ? { authorization: this.authorization } : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => reject(this.unavailable(method, path, error.message, error)));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text === '' ? null : JSON.parse(text);
            } catch {
              // not JSON (a proxy's error page): kept as text for the message
            }
            if (status >= 500) {
              reject(this.unavailable(method, path, `HTTP ${status} ${registryMessage(parsed)}`));
            } else if (status === 401 || status === 403) {
              reject(
                new SchemaRegistryError(
                  'unauthorized',
                  `the schema registry at ${this.baseUrl} refused ${method} ${path} with HTTP ${status} (${registryMessage(parsed)})`,
                  status === 401
                    ? 'check schemaRegistry.username and schemaRegistry.password'
                    : 'the registry user lacks a permission for this subject: grant it, or use another user',
                ),
              );
            } else {
              resolve({ status, body: parsed });
            }
          });
        },
      );
      request.on('timeout', () =>
        request.destroy(
          this.unavailable(
            method,
            path,
            `no answer within ${this.config.timeoutMs} ms (schemaRegistry.timeoutMs)`,
          ),
        ),
      );
      request.on('error', (error) =>
        reject(
          error instanceof SchemaRegistryError ? error : this.unavailable(method, path, error.message, error),
        ),
      );
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private unavailable(method: string, path: string, reason: string, cause?: Error): SchemaRegistryError {
    return new SchemaRegistryError(
      'unavailable',
      `the schema registry at ${this.baseUrl} did not serve ${method} ${path}: ${reason}`,
      'check that the registry runs and that schemaRegistry.url points at its Confluent-compatible API',
      cause ? { cause } : undefined,
    );
  }
}
