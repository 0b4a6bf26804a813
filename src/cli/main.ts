/**
 * dragonfly-cdc command line entry point (bin/dragonfly-cdc.js runs the compiled copy).
 */
import { commands } from './commands';
import { runCli } from './dispatch';

runCli(process.argv.slice(2), commands, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
