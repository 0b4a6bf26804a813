/**
 * The whole pipeline against a live Dragonfly, in the test process: a source replicating the master
 * into a new topic and a sink replaying that topic into a target, each with a log the test can wait
 * on, and a bounded wait until the target equals the master key by key.
 */
import type Redis from 'ioredis';
import { loadSinkConfig } from '../../src/config/sink';
import { createLogger, type Logger } from '../../src/observability/logger';
import { runSink } from '../../src/sink/run';
import { runSource } from '../../src/source/run';
import { createTopic, sourceConfig, uniqueName } from '../integration/source-helpers';
import { sinkArgs } from '../integration/sink-harness';
import { kafkaBrokers } from './env';
import { compareServers, type CompareOptions } from './live-dragonfly';

/** The messages a component logged, and a bounded wait for the next one matching a pattern. */
export interface LogWatch {
  messages: string[];
  /** resolves with the first message (already logged or later) matching, after `from` messages */
  waitFor(pattern: RegExp, timeoutMs: number, from?: number): Promise<string>;
}

function watchedLogger(role: string): { logger: Logger; log: LogWatch } {
  const messages: string[] = [];
  const waiters = new Set<() => void>();
  const echo = process.env.TEST_LOG_LEVEL !== undefined;
  const logger = createLogger({
    role,
    level: 'info',
    format: 'json',
    destination: {
      write(line: string) {
        const parsed = JSON.parse(line) as { msg?: unknown; level?: number };
        const msg = String(parsed.msg ?? '');
        messages.push(msg);
        if (echo || (parsed.level ?? 0) >= 50) console.error(`  [${role}] ${msg}`);
        for (const wake of [...waiters]) wake();
      },
    },
  });
  const waitFor = (pattern: RegExp, timeoutMs: number, from = 0): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = messages.slice(from).find((m) => pattern.test(m));
        if (found === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${role} log line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { logger, log: { messages, waitFor } };
}

/** A source or sink running in this process until stop(); `failure` is set if it ended by itself. */
export interface RunningPart {
  log: LogWatch;
  /** settles when it ended; rejects with its error when it failed */
  ended: Promise<void>;
  stop(): Promise<void>;
}

function runPart(role: string, run: (logger: Logger, signal: AbortSignal) => Promise<void>): RunningPart {
  const { logger, log } = watchedLogger(role);
  const controller = new AbortController();
  const ended = run(logger, controller.signal);
  ended.catch(() => undefined);
  return {
    log,
    ended,
    async stop() {
      controller.abort();
      await ended.catch(() => undefined);
    },
  };
}

/** `dragonfly-cdc source` from `masterUrl` into `topic`, in this process. */
export function startSource(
  masterUrl: string,
  topic: string,
  flags: Record<string, string | number> = {},
): RunningPart {
  const config = sourceConfig({
    'dragonfly-url': masterUrl,
    'kafka-brokers': kafkaBrokers(),
    topic,
    'source-id': `${topic}-source`,
    'batch-linger-ms': 5,
    'replica-reconnect-initial-delay-ms': 100,
    'kafka-transaction-timeout-ms': 10_000,
    ...flags,
  });
  return runPart('source', (logger, signal) => runSource(config, logger, signal));
}

/** `dragonfly-cdc sink` from `topic` into `targetUrl`, in this process. */
export function startSink(topic: string, targetUrl: string, extra: string[] = []): RunningPart {
  const config = loadSinkConfig(sinkArgs(topic, targetUrl, extra), {});
  return runPart('sink', (logger, signal) => runSink(config, logger, signal));
}

export interface Pipeline {
  topic: string;
  source: RunningPart;
  sink: RunningPart;
  stop(): Promise<void>;
}

/**
 * Source and sink between a master with `flows` shards and a target. The topic is created first, so
 * the sink never starts before it exists.
 */
export async function startPipeline(options: {
  masterUrl: string;
  flows: number;
  targetUrl: string;
  sourceFlags?: Record<string, string | number>;
  sinkArgs?: string[];
}): Promise<Pipeline> {
  const topic = uniqueName('live');
  await createTopic(kafkaBrokers(), topic, options.flows);
  const source = startSource(options.masterUrl, topic, options.sourceFlags);
  const sink = startSink(topic, options.targetUrl, options.sinkArgs);
  return {
    topic,
    source,
    sink,
    async stop() {
      await Promise.all([source.stop(), sink.stop()]);
    },
  };
}

/**
 * Waits until the target equals the master key by key (compareServers), failing with the remaining
 * differences after `timeoutMs`, or at once when a part of the pipeline failed.
 */
export async function waitUntilEqual(
  master: Redis,
  target: Redis,
  timeoutMs: number,
  options: CompareOptions & { parts?: RunningPart[] } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let failure: unknown;
  for (const part of options.parts ?? []) part.ended.catch((e: unknown) => (failure ??= e));
  for (;;) {
    if (failure !== undefined) throw failure;
    const diffs = await compareServers(master, target, options);
    if (diffs.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `target differs from the master after ${timeoutMs} ms (${diffs.length} differences):\n` +
          diffs.slice(0, 20).join('\n'),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** `promise`, or a rejection naming `what` when it has not settled within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
