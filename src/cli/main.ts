/**
 * dragonfly-cdc command line entry point (bin/dragonfly-cdc.js runs the compiled copy). The logs are
 * written synchronously, so exiting as soon as the command returns loses no line.
 */
import { commands } from './commands';
import { runCli } from './dispatch';
import { tolerateKafkaClientRejections } from './stray-rejections';

tolerateKafkaClientRejections((text) => process.stderr.write(text));

runCli(process.argv.slice(2), commands, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  // a command that returned is done: whatever it left running (a Kafka client still retrying, a
  // socket whose peer never closed) must not keep the process past a stop's grace period
  process.exit(code);
});
