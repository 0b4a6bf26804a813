/**
 * `dragonfly-cdc sink`: replays the change events of a Kafka topic into Redis.
 */
import type { CliCommand } from '../command';
import { createServiceCommand, processIo, type CommandIo, type Runner } from '../service-command';
import { loadSinkConfig, sinkConfig, type SinkConfig } from '../../config/sink';

export type SinkRunner = Runner<SinkConfig>;

export function createSinkCommand(runSink: SinkRunner, io: CommandIo = processIo): CliCommand {
  return createServiceCommand({
    summary: 'replay the change events of a Kafka topic into Redis (runs until SIGINT/SIGTERM)',
    description: [
      'Consumes the topic as a Kafka consumer group and applies every event to Redis, together with its',
      'position in the same MULTI/EXEC, so that each event takes effect once even across restarts.',
    ].join('\n'),
    definition: sinkConfig,
    load: loadSinkConfig,
    runner: runSink,
    io,
  });
}
