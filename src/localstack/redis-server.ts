import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { LocalStackError } from './errors';
import { lastLines, lastLogLines } from './log-tail';
import { freeLoopbackPort } from './ports';
import { hasExited, runCommand, spawnServer, stopServer } from './processes';

export interface RedisServerOptions {
  /** how many independent instances to start (default 1) */
  instances?: number;
  /** the redis-server binary; default: $REDIS_SERVER_BIN, then PATH and /usr/bin */
  binary?: string;
  /** install redis-server with apt-get when it is not found (default true) */
  install?: boolean;
  /** bound on waiting for each instance to answer PING (default 15 s) */
  startTimeoutMs?: number;
  /** progress messages */
  log?: (message: string) => void;
}

export interface RedisInstance {
  host: string;
  port: number;
  url: string;
  pid: number;
}

export interface RedisServers {
  binary: string;
  /** e.g. "7.0.15" */
  version: string;
  instances: RedisInstance[];
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 5_000;
const LOG_LINES_IN_ERRORS = 30;
const MANUAL_INSTALL = 'apt-get update && apt-get install -y redis-server';

/** Where redis-server is, or undefined: an explicit path wins, then PATH, then the usual bin folders. */
export function findRedisServer(explicit = process.env.REDIS_SERVER_BIN): string | undefined {
  if (explicit) return explicit;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  return dirs
    .filter((dir) => dir.length > 0)
    .map((dir) => join(dir, 'redis-server'))
    .find(isExecutable);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The redis-server binary, installed with apt-get first when it is missing and `install` allows. */
export async function ensureRedisServer(options: RedisServerOptions = {}): Promise<string> {
  const found = findRedisServer(options.binary);
  if (found) return found;
  if (options.install === false) {
    throw new LocalStackError(
      'redis-missing',
      `redis-server not found on PATH or in /usr/bin: run ${MANUAL_INSTALL}`,
    );
  }
  await installWithApt(options.log ?? (() => undefined));
  const installed = findRedisServer();
  if (!installed) {
    throw new LocalStackError(
      'redis-install-failed',
      `apt-get installed redis-server but no redis-server binary is on PATH or in /usr/bin: install it by hand (${MANUAL_INSTALL}) or set REDIS_SERVER_BIN`,
    );
  }
  return installed;
}

async function installWithApt(log: (message: string) => void): Promise<void> {
  if (!findOnPath('apt-get')) {
    throw new LocalStackError(
      'redis-missing',
      'redis-server not found and apt-get is unavailable: install Redis 7 (redis-server) with your package manager, or set REDIS_SERVER_BIN to its path',
    );
  }
  if (process.getuid?.() !== 0) {
    throw new LocalStackError(
      'redis-missing',
      'redis-server not found and installing it needs root: run sudo apt-get update && sudo apt-get install -y redis-server',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'redis-server']]) {
    log(`redis-server not found: running apt-get ${args.join(' ')}`);
    const result = await runCommand('apt-get', args, { env });
    if (result.code !== 0) {
      throw new LocalStackError(
        'redis-install-failed',
        `apt-get ${args.join(' ')} failed (exit ${result.code}): fix the cause below and run ${MANUAL_INSTALL} by hand`,
        lastLines(result.output, LOG_LINES_IN_ERRORS),
      );
    }
  }
}

function findOnPath(command: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir.length > 0)
    .map((dir) => join(dir, command))
    .find(isExecutable);
}

/** The version a redis-server binary reports, e.g. "7.0.15". */
export function redisServerVersion(binary: string): string {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (result.error) {
    throw new LocalStackError(
      'redis-missing',
      `cannot run ${binary} --version (${result.error.message}): ${MANUAL_INSTALL}`,
    );
  }
  const match = /\bv=(\S+)/.exec(result.stdout);
  if (!match?.[1]) {
    throw new LocalStackError(
      'redis-missing',
      `${binary} --version printed no version: "${result.stdout.trim()}"`,
    );
  }
  return match[1];
}

/** Starts `instances` throw-away Redis servers on free loopback ports (no persistence). */
export async function startRedisServers(options: RedisServerOptions = {}): Promise<RedisServers> {
  const binary = await ensureRedisServer(options);
  const version = redisServerVersion(binary);
  const count = options.instances ?? 1;
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startInstance(binary, options.startTimeoutMs ?? 15_000)),
  );
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const stop = async (): Promise<void> => {
    await Promise.all(running.map((instance) => instance.stop()));
  };
  if (failure) {
    await stop();
    throw failure.reason;
  }
  return { binary, version, instances: running.map((r) => r.instance), stop };
}

interface RunningInstance {
  instance: RedisInstance;
  stop(): Promise<void>;
}

async function startInstance(binary: string, timeoutMs: number): Promise<RunningInstance> {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'dragonfly-cdc-redis-'));
  const logFile = join(dir, 'redis.log');
  const logFd = openSync(logFile, 'w');
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'];
  args.push('--dir', dir, '--daemonize', 'no', '--logfile', '');
  let child;
  try {
    child = await spawnServer(binary, args, { stdio: ['ignore', logFd, logFd] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new LocalStackError('redis-missing', `cannot start ${binary}: ${(err as Error).message}`);
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid ?? -1;
  const stop = async (): Promise<void> => {
    await stopServer(child, STOP_GRACE_MS);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPong(port, timeoutMs, () => hasExited(child));
  } catch (err) {
    const died = hasExited(child);
    await stop();
    const logLines = lastLogLines(logFile, LOG_LINES_IN_ERRORS);
    if (logLines.some((line) => line.includes('Address already in use'))) {
      throw new LocalStackError(
        'port-in-use',
        `redis-server could not listen on ${HOST}:${port}: port already in use`,
        logLines,
        pid,
      );
    }
    if (died) {
      throw new LocalStackError(
        'server-exited',
        `redis-server on ${HOST}:${port} exited during start-up`,
        logLines,
        pid,
      );
    }
    throw new LocalStackError(
      'start-timeout',
      `redis-server on ${HOST}:${port} did not answer PING within ${timeoutMs} ms (${(err as Error).message})`,
      logLines,
      pid,
    );
  }
  return { instance: { host: HOST, port, url: `redis://${HOST}:${port}`, pid }, stop };
}

/** Polls with a raw PING until the server answers +PONG, the process dies, or time runs out. */
async function waitForPong(port: number, timeoutMs: number, died: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (died()) throw new Error('process exited');
    try {
      await ping(port);
      return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(lastError);
}

function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy(new Error('PING timed out')));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      socket.destroy();
      if (reply.startsWith('+PONG')) resolve();
      else reject(new Error(`PING answered ${JSON.stringify(reply.trim())}`));
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('connection closed before PONG')));
  });
}
