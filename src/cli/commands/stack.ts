/**
 * `dragonfly-cdc stack`: a throw-away Kafka broker and Redis on this machine (no Docker), for demos
 * and for running tests against. Runs until SIGINT/SIGTERM, then stops both.
 */
import type { CliCommand } from '../command';
import { parseFlags, reportUsageError } from '../flags';
import { EXIT_CODES_TEXT } from '../help';
import { LocalStackError } from '../../localstack/errors';
import { DEFAULT_KAFKA_VERSION } from '../../localstack/kafka-broker';
import { startLocalStack } from '../../localstack/local-stack';

export interface StackCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** resolves with the reason to stop (a signal name); a second stop request exits at once */
  stopRequested: () => Promise<string>;
}

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Resolves on the first SIGINT/SIGTERM; the second one exits at once (servers die with the process). */
function waitForStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      for (const s of STOP_SIGNALS) process.once(s, () => process.exit(1));
      resolve(signal);
    };
    for (const s of STOP_SIGNALS) process.on(s, onSignal);
  });
}

export const processStackIo: StackCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stopRequested: waitForStopSignal,
};

const HELP = `Usage: dragonfly-cdc stack [--print-env] [--kafka-version V] [--redis-instances N]

Starts a single-node Apache Kafka broker (KRaft) and redis-server on free 127.0.0.1 ports and keeps
them running until Ctrl+C or SIGTERM, then stops both. Nothing is persisted. On first use the Kafka
jars are fetched from Maven Central (needs Java 17+ and Maven) into .cache/kafka/, and redis-server is
installed with apt-get when missing.

Options:
  --print-env            once both are ready, print on stdout exactly
                           KAFKA_BROKERS=<host:port>
                           REDIS_URL=redis://<host:port>
                         (progress goes to stderr), e.g. for: eval "$(dragonfly-cdc stack --print-env &)"
  --kafka-version V      Apache Kafka version (default: $KAFKA_VERSION, else ${DEFAULT_KAFKA_VERSION}); 4.x works too
  --redis-instances N    how many Redis servers to start (default 1; REDIS_URL names the first)

${EXIT_CODES_TEXT}`;

interface StackArgs {
  printEnv: boolean;
  kafkaVersion?: string;
  redisInstances: number;
}

function parseStackArgs(argv: string[]): StackArgs | string {
  const parsed = parseFlags(argv, {
    options: {
      'print-env': { type: 'boolean', default: false },
      'kafka-version': { type: 'string' },
      'redis-instances': { type: 'string', default: '1' },
    },
  });
  if (typeof parsed === 'string') return parsed;
  const { values } = parsed;
  const instances = Number(values['redis-instances']);
  if (!Number.isInteger(instances) || instances < 1 || instances > 16) {
    return `--redis-instances must be a whole number from 1 to 16, got "${values['redis-instances']}"`;
  }
  return { printEnv: values['print-env'], kafkaVersion: values['kafka-version'], redisInstances: instances };
}

export function createStackCommand(io: StackCommandIo = processStackIo): CliCommand {
  return {
    name: 'stack',
    summary: 'run a local Kafka broker and Redis for demos and tests (until Ctrl+C)',
    help: () => HELP,
    async run(argv) {
      const args = parseStackArgs(argv);
      if (typeof args === 'string') return reportUsageError('stack', args, io.stderr);
      let interrupted: string | undefined;
      const stopRequested = io.stopRequested().then((reason) => (interrupted = reason));
      const started = Date.now();
      let stack;
      try {
        stack = await startLocalStack({
          kafka: { version: args.kafkaVersion },
          redis: { instances: args.redisInstances },
          log: (message) => io.stderr(`${message}\n`),
          stopOnSignals: false,
        });
      } catch (err) {
        // Ctrl+C reaches the servers too (same process group), so a start cut short fails: say why
        if (interrupted) {
          io.stderr(`${interrupted} during start-up: stopped\n`);
          return 1;
        }
        if (!(err instanceof LocalStackError)) throw err;
        io.stderr(`dragonfly-cdc stack: ${err.message}\n`);
        return 1;
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      io.stderr(
        [
          `ready in ${seconds} s:`,
          `  Kafka ${stack.kafkaVersion}  ${stack.kafkaBrokers}`,
          ...stack.redisUrls.map((url) => `  Redis ${stack.redisVersion}  ${url}`),
          'Ctrl+C stops both.',
          '',
        ].join('\n'),
      );
      if (args.printEnv) io.stdout(`KAFKA_BROKERS=${stack.kafkaBrokers}\nREDIS_URL=${stack.redisUrl}\n`);
      const reason = await stopRequested;
      io.stderr(`${reason}: stopping Kafka and Redis\n`);
      await stack.stop();
      io.stderr('stopped\n');
      return 0;
    },
  };
}

export const stackCommand = createStackCommand();
