/**
 * `dragonfly-cdc verify`: compares a source (Dragonfly or Redis) with a target Redis key by key and
 * exits 0 only when they are equal.
 */
import type { CliCommand } from '../command';
import { configCommandHelp } from '../help';
import { PRINT_CONFIG_FLAG } from '../service-command';
import { redactConfig } from '../../config/redact';
import { loadVerifyConfig, verifyConfig } from '../../verify/config';
import { processVerifyIo, runVerify, type VerifyIo } from '../../verify/run';

const DESCRIPTION = [
  'Compares every database of the source with the target: the key sets, and per key the type, the',
  'expiry (within ttl.toleranceMs), the length and (mode full) the value, byte for byte. It SCANs in',
  'batches and compares big collections in windows, so memory stays bounded whatever the size.',
  'A differing key is re-checked recheck.attempts times before it is reported (a live pipeline lags).',
  'cut.mode master/topic first waits until the sink has applied a cut of the live pipeline.',
  'The sink’s own keys (ownPrefix) are left out; Dragonfly types the sink degrades for a stock Redis',
  '(docs/sink.md) are listed apart. Details: docs/verify.md.',
].join('\n');

const EXIT_CODES = [
  'Exit codes of verify: 0 = equal, 1 = differences found, 2 = usage or configuration error,',
  '3 = cannot connect to the source or the target, 4 = the comparison could not be completed.',
].join('\n');

export function createVerifyCommand(io: VerifyIo = processVerifyIo): CliCommand {
  return {
    name: 'verify',
    summary: 'compare a source (Dragonfly or Redis) with the target Redis; exit 0 only when equal',
    help: () => configCommandHelp(verifyConfig, DESCRIPTION).replace(/Exit codes: .*$/, EXIT_CODES),
    async run(argv) {
      const config = loadVerifyConfig(
        argv.filter((arg) => arg !== PRINT_CONFIG_FLAG),
        io.env,
      );
      if (argv.includes(PRINT_CONFIG_FLAG)) {
        io.stdout(`${JSON.stringify(redactConfig(verifyConfig, config), null, 2)}\n`);
        return 0;
      }
      return runVerify(config, io);
    },
  };
}

export const verifyCommand = createVerifyCommand();
