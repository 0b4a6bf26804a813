/**
 * Metrics with prom-client: one registry per process, helpers that name every metric
 * `dragonfly_cdc_<name>`, and an optional HTTP endpoint serving /metrics and /health.
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { processHealth, type Health } from './health';

export const METRIC_PREFIX = 'dragonfly_cdc_';

export const processRegistry = new Registry();

/** A counter named dragonfly_cdc_<name>; asking twice for one name returns the same counter. */
export function counter<L extends string = string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  registry: Registry = processRegistry,
): Counter<L> {
  const fullName = METRIC_PREFIX + name;
  const existing = registry.getSingleMetric(fullName);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter({ name: fullName, help, labelNames, registers: [registry] });
}

/** A gauge named dragonfly_cdc_<name>; asking twice for one name returns the same gauge. */
export function gauge<L extends string = string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  registry: Registry = processRegistry,
): Gauge<L> {
  const fullName = METRIC_PREFIX + name;
  const existing = registry.getSingleMetric(fullName);
  if (existing instanceof Gauge) return existing as Gauge<L>;
  return new Gauge({ name: fullName, help, labelNames, registers: [registry] });
}

/** A histogram named dragonfly_cdc_<name> (buckets in the metric's own unit). */
export function histogram<L extends string = string>(
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly L[] = [],
  registry: Registry = processRegistry,
): Histogram<L> {
  const fullName = METRIC_PREFIX + name;
  const existing = registry.getSingleMetric(fullName);
  if (existing instanceof Histogram) return existing as Histogram<L>;
  return new Histogram({ name: fullName, help, buckets, labelNames, registers: [registry] });
}

export interface MetricsServerOptions {
  port: number;
  host: string;
  registry?: Registry;
  health?: Health;
}

export interface MetricsServer {
  /** the port actually bound (differs from the option when it was 0 in tests) */
  port: number;
  close(): Promise<void>;
}

let defaultMetricsCollected = false;

/** Serves GET /metrics and GET /health on host:port. Resolves once listening. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const registry = options.registry ?? processRegistry;
  const health = options.health ?? processHealth;
  if (registry === processRegistry && !defaultMetricsCollected) {
    collectDefaultMetrics({ register: registry });
    defaultMetricsCollected = true;
  }
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || (path !== '/metrics' && path !== '/health')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /health\n');
      return;
    }
    if (path === '/health') {
      const report = health.report();
      response
        .writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(report)}\n`);
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  await listen(server, options.port, options.host);
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message;
      reject(
        new Error(
          `cannot serve metrics on ${host}:${port}: ${reason}; choose another metrics.port, or 0 to turn the endpoint off`,
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
}
