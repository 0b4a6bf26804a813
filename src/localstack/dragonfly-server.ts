/**
 * A real Dragonfly on a free loopback port, for live tests and benchmarks: the master the source
 * replicates, a native replica to compare against, or a replay target. No package registry ships
 * Dragonfly, so the binary is found through $DRAGONFLY_BIN or the repo's neighbour ../shared/bin.
 */
import { accessSync, closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { LocalStackError } from './errors';
import { lastLogLines } from './log-tail';
import { freeLoopbackPort } from './ports';
import { hasExited, spawnServer, stopServer } from './processes';

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 10_000;
const LOG_LINES_IN_ERRORS = 30;

export interface DragonflyServerOptions {
  /** the binary (default: findDragonfly()) */
  binary?: string;
  /** shards = proactor threads = FLOW connections a replica opens (default 2) */
  shards?: number;
  /** full-sync compression: 0 none, 1 LZF, 2 zstd, 3 LZ4 (Dragonfly's default) */
  compressionMode?: 0 | 1 | 2 | 3;
  /** a fixed port (a restarted master keeps its address); default a free one */
  port?: number;
  /** further `--flag=value` arguments */
  extraArgs?: string[];
  /** --requirepass: clients (and the start-up PING) authenticate with it */
  password?: string;
  /** bound on waiting for PING (default 20 s) */
  startTimeoutMs?: number;
}

export interface DragonflyServer {
  host: string;
  port: number;
  url: string;
  pid: number;
  /** the flags it was started with (to start it again on the same port) */
  options: DragonflyServerOptions;
  /** the server log (stderr), for failure messages */
  logFile: string;
  /** a new client (the caller quits it) */
  client(db?: number): Redis;
  /** sends a signal to the process (SIGSTOP/SIGCONT/SIGKILL for fault tests) */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after a grace period; removes its folder. Idempotent. */
  stop(): Promise<void>;
  /** the last lines of its log */
  lastLog(lines?: number): string[];
}

/** Where the Dragonfly binary is: $DRAGONFLY_BIN when set, else `<repo>/../shared/bin/dragonfly`. */
export function findDragonfly(explicit = process.env.DRAGONFLY_BIN): string | undefined {
  const candidates = explicit
    ? [explicit]
    : [join(__dirname, '..', '..', '..', 'shared', 'bin', 'dragonfly')];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not there or not executable: the next candidate, or none
    }
  }
  return undefined;
}

export async function startDragonfly(options: DragonflyServerOptions = {}): Promise<DragonflyServer> {
  const binary = options.binary ?? findDragonfly();
  if (!binary) {
    const where = process.env.DRAGONFLY_BIN ?? '../shared/bin/dragonfly';
    throw new LocalStackError(
      'dragonfly-missing',
      `no executable Dragonfly at ${where}: set DRAGONFLY_BIN to a dragonfly binary (v1.40.1 is what the tests were written against)`,
    );
  }
  const port = options.port ?? (await freeLoopbackPort());
  const dir = mkdtempSync(join(tmpdir(), 'dragonfly-cdc-df-'));
  const logFile = join(dir, 'dragonfly.log');
  const args = [
    `--bind=${HOST}`,
    `--port=${port}`,
    `--proactor_threads=${options.shards ?? 2}`,
    '--dbfilename=',
    `--dir=${dir}`,
    '--logtostderr',
    '--version_check=false',
    '--maxmemory=4gb',
    ...(options.compressionMode !== undefined ? [`--compression_mode=${options.compressionMode}`] : []),
    ...(options.password !== undefined ? [`--requirepass=${options.password}`] : []),
    ...(options.extraArgs ?? []),
  ];
  const logFd = openSync(logFile, 'w');
  let child;
  try {
    child = await spawnServer(binary, args, { stdio: ['ignore', logFd, logFd] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new LocalStackError('server-exited', `cannot start ${binary}: ${(err as Error).message}`);
  } finally {
    closeSync(logFd);
  }
  const running = child;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (running.signalCode === null && running.exitCode === null) running.kill('SIGCONT');
      await stopServer(running, STOP_GRACE_MS);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const server: DragonflyServer = {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    pid: running.pid ?? -1,
    options: { ...options, binary, port },
    logFile,
    client: (db = 0) =>
      new Redis({
        host: HOST,
        port,
        db,
        password: options.password,
        lazyConnect: false,
        maxRetriesPerRequest: 2,
      }),
    signal: (signal) => {
      if (!hasExited(running)) running.kill(signal);
    },
    stop,
    lastLog: (lines = LOG_LINES_IN_ERRORS) => lastLogLines(logFile, lines),
  };
  try {
    await waitUntilServing(server, options.startTimeoutMs ?? 20_000, () => hasExited(running));
  } catch (err) {
    const lines = server.lastLog();
    const died = hasExited(running);
    await stop();
    throw new LocalStackError(
      died ? 'server-exited' : 'start-timeout',
      `Dragonfly (${binary}) on ${HOST}:${port} ${died ? 'exited during start-up' : 'did not answer PING'}: ${(err as Error).message}`,
      lines,
    );
  }
  return server;
}

async function waitUntilServing(
  server: DragonflyServer,
  timeoutMs: number,
  died: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (died()) throw new Error('process exited');
    const client = new Redis({
      host: server.host,
      port: server.port,
      password: server.options.password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(lastError);
}
