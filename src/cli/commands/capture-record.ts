/**
 * `dragonfly-cdc capture record`: records a real replication session. Puts a recording proxy on
 * 127.0.0.1 in front of the master, runs our replica through it (discarding what it receives) and
 * writes every byte both ways to a `.dfcap` file, until Ctrl+C or the given duration.
 */
import type { CliCommand } from '../command';
import { parseFlags, reportUsageError } from '../flags';
import { EXIT_CODES_TEXT } from '../help';
import { CaptureRecorder, RecorderError } from '../../capture/recorder';
import { MasterUrlError, parseMasterUrl } from '../../replica/master-address';
import { ReplicaSession } from '../../replica/session';

const HELP = `Usage: dragonfly-cdc capture record --dragonfly-url <redis://[user:password@]host:port> --out <file.dfcap[.gz]> [options]

Replicates from the master through a recording proxy on 127.0.0.1 and writes every byte of every
connection (main connection and flows, both directions, open and close) in the .dfcap format; the
file is gzipped when its name ends in .gz. Stops gracefully on Ctrl+C or after --duration.

Options:
  --duration S   stop after S seconds (default: run until Ctrl+C)

${EXIT_CODES_TEXT}`;

export interface RecordingOptions {
  dragonflyUrl: string;
  out: string;
  /** stop after this long; null = only on `stop` */
  durationMs: number | null;
  stop: AbortSignal;
  log: (line: string) => void;
}

function until(stop: AbortSignal, durationMs: number | null): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const timer = durationMs === null ? null : setTimeout(resolve, durationMs);
    stop.addEventListener('abort', () => {
      if (timer) clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs one recording; resolves once the replica stopped and the capture file is complete. */
export async function recordReplication(
  options: RecordingOptions,
): Promise<{ connections: number; records: number }> {
  const master = parseMasterUrl(options.dragonflyUrl);
  if (master.tls) {
    throw new RecorderError(
      'capture record forwards plain TCP only: use a redis:// URL (TLS bytes are unreadable)',
    );
  }
  const recorder = new CaptureRecorder({
    upstream: { host: master.host, port: master.port },
    out: options.out,
  });
  const { port } = await recorder.start();
  options.log(`recording ${master.host}:${master.port} through 127.0.0.1:${port} into ${options.out}`);
  const session = new ReplicaSession(
    {
      address: { ...master, host: '127.0.0.1', port },
      connect: { connectTimeoutMs: 20000, keepAliveMs: 300000 },
      listeningPort: port,
      ackIntervalMs: 1000,
      fullSyncStallTimeoutMs: 30000,
      stopTimeoutMs: 5000,
      reconnect: { initialDelayMs: 500, maxDelayMs: 5000, maxAttempts: 0 },
    },
    {
      onSyncStart: (start) =>
        options.log(`${start.info.syncId}: ${start.mode} sync of ${start.info.flowCount} flows`),
      onItems: () => undefined,
      onStable: (info) => options.log(`${info.syncId}: stable sync`),
      onError: (error, willRetry) => options.log(`${error.message}${willRetry ? ' (reconnecting)' : ''}`),
    },
  );
  session.start();
  await Promise.race([until(options.stop, options.durationMs), session.whenStopped()]);
  await session.stop();
  await recorder.stop();
  options.log(
    `wrote ${recorder.records} records of ${recorder.connectionCount} connections to ${options.out}`,
  );
  return { connections: recorder.connectionCount, records: recorder.records };
}

function parseRecordArgs(argv: string[]): Omit<RecordingOptions, 'stop' | 'log'> | string {
  const parsed = parseFlags(argv, {
    options: { 'dragonfly-url': { type: 'string' }, out: { type: 'string' }, duration: { type: 'string' } },
  });
  if (typeof parsed === 'string') return parsed;
  const { values } = parsed;
  if (!values['dragonfly-url']) return '--dragonfly-url <redis://host:port> is required';
  if (!values.out) return '--out <file.dfcap[.gz]> is required';
  const seconds = values.duration === undefined ? null : Number(values.duration);
  if (seconds !== null && !(seconds > 0))
    return `--duration must be a positive number of seconds, got "${values.duration}"`;
  return {
    dragonflyUrl: values['dragonfly-url'],
    out: values.out,
    durationMs: seconds === null ? null : seconds * 1000,
  };
}

export const captureRecordCommand: CliCommand = {
  name: 'capture record',
  summary: 'record a replication session from a Dragonfly master into a .dfcap capture',
  help: () => HELP,
  async run(argv) {
    const args = parseRecordArgs(argv);
    if (typeof args === 'string') {
      return reportUsageError('capture record', args, (text) => process.stderr.write(text));
    }
    const controller = new AbortController();
    const onSignal = (): void => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await recordReplication({
        ...args,
        stop: controller.signal,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      return 0;
    } catch (err) {
      if (!(err instanceof RecorderError || err instanceof MasterUrlError)) throw err;
      process.stderr.write(`dragonfly-cdc capture record: ${err.message}\n`);
      return err instanceof MasterUrlError ? 2 : 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
