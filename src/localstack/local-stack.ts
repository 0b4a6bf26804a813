import { startKafkaBroker, type KafkaBroker, type KafkaBrokerOptions } from './kafka-broker';
import { startRedisServers, type RedisServerOptions, type RedisServers } from './redis-server';

export interface LocalStackOptions {
  kafka?: Omit<KafkaBrokerOptions, 'log'>;
  redis?: Omit<RedisServerOptions, 'log'>;
  /** progress messages (default: none) */
  log?: (message: string) => void;
  /**
   * stop every running stack and exit on SIGINT/SIGTERM (default true); pass false when the caller
   * handles those signals itself and calls stop()
   */
  stopOnSignals?: boolean;
}

export interface LocalStack {
  /** Kafka bootstrap address, `127.0.0.1:<port>` */
  kafkaBrokers: string;
  kafkaVersion: string;
  /** the broker's jar folder, for starting extra brokers without Maven */
  kafkaLibsDir: string;
  /** the first Redis instance */
  redisUrl: string;
  redisUrls: string[];
  redisVersion: string;
  redisServerBin: string;
  stop(): Promise<void>;
}

const running = new Set<LocalStack>();

/** Starts a Kafka broker and Redis in parallel; if either fails, the other is stopped before throwing. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log;
  const [kafka, redis] = await Promise.allSettled([
    startKafkaBroker({ ...options.kafka, log }),
    startRedisServers({ ...options.redis, log }),
  ]);
  if (kafka.status === 'rejected' || redis.status === 'rejected') {
    await stopStarted([kafka, redis]);
    throw firstFailure([kafka, redis]);
  }
  const broker: KafkaBroker = kafka.value;
  const servers: RedisServers = redis.value;
  const urls = servers.instances.map((instance) => instance.url);
  const stack: LocalStack = {
    kafkaBrokers: broker.brokers,
    kafkaVersion: broker.version,
    kafkaLibsDir: broker.libsDir,
    redisUrl: urls[0] ?? '',
    redisUrls: urls,
    redisVersion: servers.version,
    redisServerBin: servers.binary,
    stop: async () => {
      running.delete(stack);
      if (running.size === 0) removeSignalHandlers();
      await Promise.all([broker.stop(), servers.stop()]);
    },
  };
  running.add(stack);
  if (options.stopOnSignals !== false) installSignalHandlers();
  return stack;
}

/** Stops every stack this process started and has not stopped yet. */
export async function stopAllLocalStacks(): Promise<void> {
  await Promise.all([...running].map((stack) => stack.stop()));
}

async function stopStarted(results: PromiseSettledResult<{ stop(): Promise<void> }>[]): Promise<void> {
  await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
}

function firstFailure(results: PromiseSettledResult<unknown>[]): unknown {
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length === 1) return failures[0];
  const messages = failures.map((f) => (f instanceof Error ? f.message : String(f)));
  return new AggregateError(failures, `neither Kafka nor Redis started:\n${messages.join('\n\n')}`);
}

const EXIT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Stops every stack, then exits the way a process killed by that signal would (128 + signal number). */
function onExitSignal(signal: NodeJS.Signals): void {
  removeSignalHandlers();
  const code = 128 + (signal === 'SIGINT' ? 2 : 15);
  void stopAllLocalStacks().finally(() => process.exit(code));
}

function installSignalHandlers(): void {
  for (const signal of EXIT_SIGNALS) {
    if (!process.listeners(signal).includes(onExitSignal)) process.on(signal, onExitSignal);
  }
}

function removeSignalHandlers(): void {
  for (const signal of EXIT_SIGNALS) process.off(signal, onExitSignal);
}
