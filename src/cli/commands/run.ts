/**
 * `dragonfly-cdc run`: the whole pipeline in one process, for trying it out and for small setups —
 * source (Dragonfly → Kafka) and sink (Kafka → Redis) side by side. Without brokers or a target Redis
 * it starts a throw-away local Kafka + Redis (nothing is kept). Every other setting comes from the
 * same environment variables as `source` and `sink`.
 */
import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { EXIT_CODES_TEXT } from '../help';
import { installSignalHandlers } from '../signals';
import { ConfigError } from '../../config/errors';
import { loadSinkConfig, type SinkConfig } from '../../config/sink';
import { loadSourceConfig, type SourceConfig } from '../../config/source';
import { createKafkaClient } from '../../kafka/client';
import { startLocalStack, type LocalStack } from '../../localstack/local-stack';
import { createLogger, type Logger } from '../../observability/logger';
import type { Runner } from '../service-command';

export interface RunPipelines {
  runSource: Runner<SourceConfig>;
  runSink: Runner<SinkConfig>;
}

const HELP = `Usage: dragonfly-cdc run [--dragonfly-url URL] [--kafka-brokers H:P,...] [--redis-url URL] [--topic T]

Replicates a Dragonfly master into a Kafka topic and replays the topic into Redis, in one process,
until Ctrl+C or SIGTERM. With no Kafka brokers or no target Redis configured, a local Kafka broker
and redis-server are started on free 127.0.0.1 ports (development only; nothing is kept).

Options (each also from its environment variable, as for "source" and "sink"):
  --dragonfly-url URL    the master (DRAGONFLY_URL; default redis://127.0.0.1:6379)
  --kafka-brokers LIST   Kafka bootstrap brokers (KAFKA_BROKERS; empty = local stack)
  --redis-url URL        the target Redis (REDIS_URL; empty = local stack)
  --topic T              the changes topic (TOPIC; default dragonfly.changes)
  --log-level LEVEL      LOG_LEVEL (default info)

Everything else (source.id, buffer, batching, sink options...) is read from the environment
variables listed by "dragonfly-cdc source --help" and "dragonfly-cdc sink --help".

${EXIT_CODES_TEXT}`;

const FLAG_ENV: Record<string, string> = {
  'dragonfly-url': 'DRAGONFLY_URL',
  'kafka-brokers': 'KAFKA_BROKERS',
  'redis-url': 'REDIS_URL',
  topic: 'TOPIC',
  'log-level': 'LOG_LEVEL',
};

function environment(argv: string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(FLAG_ENV).map((flag) => [flag, { type: 'string' as const }])),
    strict: true,
    allowPositionals: false,
  });
  const merged = { ...env };
  for (const [flag, name] of Object.entries(FLAG_ENV)) {
    const value = values[flag];
    if (typeof value === 'string') merged[name] = value;
  }
  return merged;
}

async function runBoth(
  pipelines: RunPipelines,
  configs: { source: SourceConfig; sink: SinkConfig },
  loggers: { source: Logger; sink: Logger },
  stopSignal: AbortSignal,
): Promise<void> {
  // one failing pipeline stops the other
  const stop = new AbortController();
  const onStop = (): void => stop.abort(stopSignal.reason);
  if (stopSignal.aborted) onStop();
  else stopSignal.addEventListener('abort', onStop, { once: true });
  const run = (
    runner: Runner<SourceConfig> | Runner<SinkConfig>,
    config: SourceConfig | SinkConfig,
    logger: Logger,
  ) =>
    (runner as Runner<typeof config>)(config, logger, stop.signal).catch((error: unknown) => {
      stop.abort(error);
      throw error;
    });
  const source = run(pipelines.runSource, configs.source, loggers.source);
  // the source creates the topic once the master told it the flow count; the sink needs it to exist
  const sink = untilTopicExists(configs.sink, loggers.sink, stop.signal).then((exists) =>
    exists ? run(pipelines.runSink, configs.sink, loggers.sink) : undefined,
  );
  const results = await Promise.allSettled([source, sink]);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}

const TOPIC_POLL_MS = 500;

/** Waits until the topic exists (true) or the stop signal (false). */
async function untilTopicExists(config: SinkConfig, logger: Logger, stop: AbortSignal): Promise<boolean> {
  const admin = createKafkaClient(config.kafka, logger).admin();
  await admin.connect();
  try {
    while (!stop.aborted) {
      if ((await admin.listTopics()).includes(config.topic)) return true;
      await new Promise((resolve) => setTimeout(resolve, TOPIC_POLL_MS));
    }
    return false;
  } finally {
    await admin.disconnect();
  }
}

export function createRunCommand(
  pipelines: () => RunPipelines,
  env: NodeJS.ProcessEnv = process.env,
): CliCommand {
  return {
    name: 'run',
    summary:
      'the whole pipeline in one process: Dragonfly → Kafka → Redis (local Kafka/Redis when none given)',
    help: () => HELP,
    async run(argv) {
      let source: SourceConfig;
      let sink: SinkConfig;
      try {
        const merged = environment(argv, env);
        source = loadSourceConfig([], merged);
        sink = loadSinkConfig([], merged);
      } catch (error) {
        if (!(error instanceof ConfigError) && !(error instanceof TypeError)) throw error;
        process.stderr.write(
          `dragonfly-cdc run: ${(error as Error).message}\nRun "dragonfly-cdc run --help" for the options.\n`,
        );
        return 2;
      }
      const loggers = {
        source: createLogger({ role: 'source', level: source.log.level, format: source.log.format }),
        sink: createLogger({ role: 'sink', level: sink.log.level, format: sink.log.format }),
      };
      const signals = installSignalHandlers(loggers.source);
      let stack: LocalStack | undefined;
      try {
        if (source.kafka.brokers.length === 0 || sink.redis.url === '') {
          loggers.source.warn(
            'no Kafka brokers or no target Redis configured: starting a local Kafka + Redis (development only)',
          );
          stack = await startLocalStack({ log: (m) => loggers.source.info(m), stopOnSignals: false });
          if (source.kafka.brokers.length === 0) source.kafka.brokers = [stack.kafkaBrokers];
          if (sink.kafka.brokers.length === 0) sink.kafka.brokers = [stack.kafkaBrokers];
          if (sink.redis.url === '') sink.redis.url = stack.redisUrl;
        }
        sink.topic = source.topic;
        loggers.source.info(
          `replicating ${source.dragonfly.url.replace(/\/\/[^@/]*@/, '//***@')} → Kafka ${source.kafka.brokers.join(',')} topic "${source.topic}" → Redis ${sink.redis.url.replace(/\/\/[^@/]*@/, '//***@')}; Ctrl+C stops`,
        );
        await runBoth(pipelines(), { source, sink }, loggers, signals.stopSignal);
        loggers.source.info('stopped');
        return 0;
      } catch (error) {
        loggers.source.fatal({ err: error }, `run failed: ${(error as Error).message}`);
        return 1;
      } finally {
        signals.uninstall();
        await stack?.stop();
      }
    },
  };
}

export const runCommand = createRunCommand(() => ({
  runSource: (require('../../source/run') as typeof import('../../source/run')).runSource,
  runSink: (require('../../sink/run') as typeof import('../../sink/run')).runSink,
}));
