import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * Server processes (Kafka, Redis) owned by this Node process. If Node exits while one still runs, the
 * exit hook kills it, so a crashed test run or CLI never leaves a broker behind.
 */
const owned = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of owned) child.kill('SIGKILL');
  });
}

/**
 * Starts a server process; resolves once it runs, rejects with the spawn error (e.g. ENOENT).
 * The server gets its own process group: a Ctrl+C signals the terminal's whole foreground group,
 * and the servers must outlive it until their owner has stopped gracefully (the sink still writes
 * to Redis while it finishes its batches). The exit hook and stopServer end them.
 */
export function spawnServer(command: string, args: string[], options: SpawnOptions): Promise<ChildProcess> {
  installExitHook();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, detached: true });
    child.once('error', reject);
    child.once('spawn', () => {
      child.off('error', reject);
      owned.add(child);
      child.once('exit', () => owned.delete(child));
      resolve(child);
    });
  });
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL if the process is still running after `graceMs`. */
export async function stopServer(child: ChildProcess, graceMs: number): Promise<void> {
  if (hasExited(child)) return;
  const done = exited(child);
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace-over'>((resolve) => {
    timer = setTimeout(() => resolve('grace-over'), graceMs);
  });
  const outcome = await Promise.race([done, graceOver]);
  clearTimeout(timer);
  if (outcome === 'grace-over') {
    child.kill('SIGKILL');
    await done;
  }
}

export interface CommandResult {
  code: number | null;
  output: string;
}

/** Runs a command to completion, collecting stdout and stderr together (for error messages). */
export function runCommand(
  command: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output: Buffer.concat(chunks).toString('utf8') }));
  });
}
