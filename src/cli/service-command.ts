/**
 * The shape shared by `source` and `sink`: load and validate the configuration (`--print-config`
 * prints it and exits), create the logger, serve metrics if asked, install the signal handlers, then
 * hand over to the pipeline's runner until it returns. The runner is a parameter so the command can
 * be built (and tested) independently of the pipeline.
 */
import type { CliCommand } from './command';
import { configCommandHelp } from './help';
import { installSignalHandlers } from './signals';
import type { ConfigDefinition } from '../config/define';
import { redactConfig } from '../config/redact';
import type { LogConfig, MetricsConfig } from '../config/shared';
import { createLogger, type Logger } from '../observability/logger';
import { startMetricsServer, type MetricsServer } from '../observability/metrics';

/** Runs a pipeline until `stopSignal` aborts (graceful stop) or it fails (rejects). */
export type Runner<C> = (config: C, logger: Logger, stopSignal: AbortSignal) => Promise<void>;

export interface CommandIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
}

export const processIo: CommandIo = { env: process.env, stdout: (text) => process.stdout.write(text) };

export interface ServiceCommandSpec<C> {
  summary: string;
  description: string;
  definition: ConfigDefinition<C>;
  load: (argv: readonly string[], env: NodeJS.ProcessEnv) => C;
  runner: Runner<C>;
  io: CommandIo;
}

export const PRINT_CONFIG_FLAG = '--print-config';

export function createServiceCommand<C extends { log: LogConfig; metrics: MetricsConfig }>(
  spec: ServiceCommandSpec<C>,
): CliCommand {
  const name = spec.definition.command;
  return {
    name,
    summary: spec.summary,
    help: () => configCommandHelp(spec.definition, spec.description),
    async run(argv) {
      const config = spec.load(
        argv.filter((arg) => arg !== PRINT_CONFIG_FLAG),
        spec.io.env,
      );
      if (argv.includes(PRINT_CONFIG_FLAG)) {
        spec.io.stdout(`${JSON.stringify(redactConfig(spec.definition, config), null, 2)}\n`);
        return 0;
      }
      const logger = createLogger({ role: name, level: config.log.level, format: config.log.format });
      const signals = installSignalHandlers(logger);
      let metrics: MetricsServer | undefined;
      try {
        if (config.metrics.port > 0) {
          metrics = await startMetricsServer(config.metrics);
          logger.info(`metrics on http://${config.metrics.host}:${metrics.port}/metrics and /health`);
        }
        logger.debug({ config: redactConfig(spec.definition, config) }, 'effective configuration');
        logger.info(`${name} starting`);
        await spec.runner(config, logger, signals.stopSignal);
        logger.info(`${name} stopped`);
        return 0;
      } catch (error) {
        logger.fatal({ err: error }, `${name} failed: ${(error as Error).message}`);
        return 1;
      } finally {
        signals.uninstall();
        await metrics?.close();
      }
    },
  };
}
