/**
 * The source as a child process, for tests that kill or stop it: its log messages can be awaited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { kafkaBrokers } from './env';

const ROOT = join(__dirname, '..', '..');

export interface SourceChild {
  child: ChildProcess;
  /** resolves with the first of the prefixes that a log message starts with */
  logged(...prefixes: string[]): Promise<string>;
  exited: Promise<number | null>;
}

/**
 * `dragonfly-cdc source` in a child process (for kill -9 and SIGSTOP), logging JSON on stderr;
 * `extraFlags` are further command-line flags.
 */
export function startSourceProcess(
  url: string,
  topic: string,
  sourceId: string,
  extraFlags: string[] = [],
): SourceChild {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src', 'cli', 'main.ts'),
      'source',
      '--dragonfly-url',
      url,
      '--kafka-brokers',
      kafkaBrokers(),
      '--topic',
      topic,
      '--source-id',
      sourceId,
      '--batch-linger-ms',
      '5',
      '--kafka-transaction-timeout-ms',
      '10000',
      '--replica-reconnect-initial-delay-ms',
      '100',
      '--log-format',
      'json',
      ...extraFlags,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const waiters: { prefixes: string[]; resolve: (prefix: string) => void }[] = [];
  const lines = createInterface({ input: child.stderr! });
  lines.on('line', (line) => {
    let msg = '';
    try {
      msg = String((JSON.parse(line) as { msg?: unknown }).msg ?? '');
    } catch {
      return;
    }
    if (process.env.TEST_LOG_LEVEL) console.error(`  [source ${child.pid}] ${msg}`);
    for (const w of [...waiters]) {
      const prefix = w.prefixes.find((p) => msg.startsWith(p));
      if (prefix === undefined) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(prefix);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    logged: (...prefixes) =>
      new Promise<string>((resolve, reject) => {
        waiters.push({ prefixes, resolve });
        void exited.then((code) =>
          reject(new Error(`the source exited (${code}) before logging "${prefixes.join('" or "')}"`)),
        );
      }),
  };
}
