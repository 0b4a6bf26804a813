import type { CliCommand } from '../command';
import { lazyRunner } from '../lazy-runner';
import { createSinkCommand } from './sink';
import { createSourceCommand } from './source';

/** Every subcommand, in the order `dragonfly-cdc --help` lists them. */
export const commands: CliCommand[] = [
  createSourceCommand(lazyRunner('source', '../../source/run', () => require('../../source/run').runSource)),
  createSinkCommand(lazyRunner('sink', '../../sink/run', () => require('../../sink/run').runSink)),
  (require('./run') as typeof import('./run')).runCommand,
  (require('./stack') as typeof import('./stack')).stackCommand,
  (require('./capture-decode') as typeof import('./capture-decode')).captureDecodeCommand,
  (require('./test-master') as typeof import('./test-master')).testMasterCommand,
  (require('./capture-record') as typeof import('./capture-record')).captureRecordCommand,
  (require('./verify') as typeof import('./verify')).verifyCommand,
];
