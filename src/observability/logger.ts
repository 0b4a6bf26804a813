/**
 * Process logging with pino. Logs go to **stderr**, so stdout stays free for command output
 * (`--print-config`, decoded captures) that may be piped elsewhere.
 *
 * json: one JSON object per line (the default when stderr is not a terminal, e.g. in containers).
 * pretty: human-readable lines, formatted in-process and written synchronously so that nothing is
 * lost when the process exits. Every line carries `role`; `logger.child({ flow })` adds the flow.
 */
import pino, { type DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogFormat, LogLevel } from '../config/shared';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** which part of the system writes: "source", "sink", "capture", ... */
  role: string;
  level: LogLevel;
  format: LogFormat;
  /** where lines go; stderr when absent (tests pass their own stream) */
  destination?: DestinationStream;
  /** whether the destination is a terminal (decides "auto" and colours); stderr's when absent */
  isTerminal?: boolean;
}

/** Password fields are censored wherever they appear in a log line (up to three levels deep). */
const SECRET_PATHS = ['password', '*.password', '*.*.password', '*.*.*.password'];

export function createLogger(options: LoggerOptions): Logger {
  const isTerminal = options.isTerminal ?? process.stderr.isTTY === true;
  const target = options.destination ?? stderrDestination();
  const pretty = options.format === 'pretty' || (options.format === 'auto' && isTerminal);
  return pino(
    {
      level: options.level,
      base: { role: options.role, pid: process.pid },
      redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    },
    pretty ? prettyDestination(target, isTerminal) : target,
  );
}

/**
 * stderr, written synchronously. Write errors are dropped: when the terminal that started the
 * process goes away (EIO/EPIPE), the process must keep running rather than die on a log line.
 */
function stderrDestination(): DestinationStream {
  const destination = pino.destination({ fd: 2, sync: true });
  destination.on('error', () => undefined);
  return destination;
}

function prettyDestination(target: DestinationStream, colorize: boolean): DestinationStream {
  const prettify = prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    messageFormat: (line) =>
      `[${String(line.role)}${line.flow === undefined ? '' : ` flow ${String(line.flow)}`}] ${String(line.msg ?? '')}`,
    ignore: 'pid,hostname,role,flow',
  });
  return { write: (line: string) => target.write(prettify(line)) };
}
