import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("a Ctrl+C to the terminal's process group does not reach the servers; their owner's exit ends them", async () => {
  const owner = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'server-owner.ts')], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const serverPid = await new Promise<number>((resolve) =>
    owner.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
  );
  const ownerExited = new Promise<void>((resolve) => owner.once('exit', () => resolve()));
  process.kill(-owner.pid!, 'SIGINT');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(alive(serverPid), 'the server died with the Ctrl+C meant for the CLI');
  owner.kill('SIGTERM');
  await ownerExited;
  const deadline = Date.now() + 2000;
  while (alive(serverPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(!alive(serverPid), "the server outlived its owner's exit");
});
