import { readCaptureSessions } from '../../src/capture/session';
import { ReplayMaster, type ReplayMasterOptions } from '../../src/testmaster/replay-master';
import { ScriptedMaster } from '../../src/testmaster/scripted-master';
import type { MasterScript } from '../../src/testmaster/script';
import { findFixture, loadMeta } from './fixtures';

/**
 * Starting and stopping test masters from tests. Both helpers listen on a free loopback port and
 * return the URL to point a replica at (with the password, when the master needs one).
 */

export interface RunningTestMaster<M> {
  url: string;
  port: number;
  master: M;
  stop(): Promise<void>;
}

function url(port: number, password: string | null, user: string | null = null): string {
  const auth =
    password === null ? '' : `${user ? encodeURIComponent(user) : ''}:${encodeURIComponent(password)}@`;
  return `redis://${auth}127.0.0.1:${port}`;
}

/** A ReplayMaster serving the recorded sessions of a fixture (e.g. "dragonfly-v1.40.1/auth"). */
export async function startReplayMaster(
  fixture: string,
  options: Omit<ReplayMasterOptions, 'capturePath' | 'sessions'> = {},
): Promise<RunningTestMaster<ReplayMaster>> {
  const found = findFixture(fixture);
  const { sessions } = readCaptureSessions(found.capturePath);
  const dragonflyVersion = loadMeta(found).dragonflyVersion;
  const master = new ReplayMaster({ dragonflyVersion, ...options, sessions });
  const { port } = await master.start();
  const auth = sessions[0]!.main.exchanges.find(
    (e) => e.command.args[0]?.toString().toUpperCase() === 'AUTH',
  );
  const args = auth?.command.args.map((a) => a.toString('utf8')) ?? [];
  const password = args.length === 0 ? null : args[args.length - 1]!;
  const user = args.length === 3 ? args[1]! : null;
  return { url: url(port, password, user), port, master, stop: () => master.stop() };
}

/** A ScriptedMaster built from `script`. */
export async function startScriptedMaster(script: MasterScript): Promise<RunningTestMaster<ScriptedMaster>> {
  const master = new ScriptedMaster(script);
  const { port } = await master.start();
  return {
    url: url(port, script.password ?? null, script.user ?? null),
    port,
    master,
    stop: () => master.stop(),
  };
}
