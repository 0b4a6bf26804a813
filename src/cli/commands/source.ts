/**
 * `dragonfly-cdc source`: replicates a Dragonfly master and publishes every change into Kafka.
 */
import type { CliCommand } from '../command';
import { createServiceCommand, processIo, type CommandIo, type Runner } from '../service-command';
import { loadSourceConfig, sourceConfig, type SourceConfig } from '../../config/source';

export type SourceRunner = Runner<SourceConfig>;

export function createSourceCommand(runSource: SourceRunner, io: CommandIo = processIo): CliCommand {
  return createServiceCommand({
    summary: 'replicate a Dragonfly master into a Kafka topic (runs until SIGINT/SIGTERM)',
    description: [
      'Connects to a Dragonfly master as a replica, and publishes every key of the full sync and every',
      'journal entry of the stable sync as an Avro event into the Kafka topic. On restart it resumes',
      'from the positions stored in Kafka.',
    ].join('\n'),
    definition: sourceConfig,
    load: loadSourceConfig,
    runner: runSource,
    io,
  });
}
