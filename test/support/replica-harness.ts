import type { PositionedItem } from '../../src/replica/flow';
import { parseMasterUrl } from '../../src/replica/master-address';
import {
  ReplicaSession,
  type ReplicaSessionOptions,
  type SessionState,
  type SyncStart,
} from '../../src/replica/session';

/** Everything a ReplicaSession told its listener, per sync session. */
export interface ReplicaRecording {
  starts: SyncStart[];
  /** items per sync id, then per flow */
  items: Map<string, PositionedItem[][]>;
  errors: { error: Error; willRetry: boolean; at: number }[];
  states: SessionState[];
  stableCount: number;
}

export interface RunningReplica {
  session: ReplicaSession;
  recording: ReplicaRecording;
  /** resolves when `check` holds (polled), or rejects after `timeoutMs` with `what` */
  waitFor(what: string, check: () => boolean, timeoutMs?: number): Promise<void>;
  /** stable-sync record LSNs received on a flow, across all sessions, in order */
  stableLsns(flowId: number): number[];
}

/** Test defaults: fast backoff, short intervals, short bounds. */
export function replicaOptions(
  url: string,
  overrides: Partial<ReplicaSessionOptions> = {},
): ReplicaSessionOptions {
  return {
    address: parseMasterUrl(url),
    connect: { connectTimeoutMs: 2000, keepAliveMs: 1000, replyTimeoutMs: 2000 },
    listeningPort: 6391,
    ackIntervalMs: 50,
    fullSyncStallTimeoutMs: 10_000,
    stopTimeoutMs: 1000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 0 },
    ...overrides,
  };
}

export function startReplica(url: string, overrides: Partial<ReplicaSessionOptions> = {}): RunningReplica {
  const recording: ReplicaRecording = {
    starts: [],
    items: new Map(),
    errors: [],
    states: [],
    stableCount: 0,
  };
  let current: PositionedItem[][] = [];
  const session = new ReplicaSession(replicaOptions(url, overrides), {
    onSyncStart: (start) => {
      recording.starts.push(start);
      current = Array.from({ length: start.info.flowCount }, () => []);
      recording.items.set(start.info.syncId, current);
    },
    onItems: (flowId, items) => current[flowId]!.push(...items),
    onStable: () => recording.stableCount++,
    onError: (error, willRetry) => recording.errors.push({ error, willRetry, at: Date.now() }),
    onStateChange: (state) => recording.states.push(state),
  });
  session.start();
  return {
    session,
    recording,
    waitFor: (what, check, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = setInterval(() => {
          if (check()) {
            clearInterval(poll);
            resolve();
          } else if (Date.now() > deadline) {
            clearInterval(poll);
            const errors = recording.errors.map((e) => e.error.message).join('; ');
            reject(
              new Error(
                `timed out waiting for ${what} (states ${recording.states.join('>')}; errors: ${errors})`,
              ),
            );
          }
        }, 10);
      }),
    stableLsns: (flowId) =>
      [...recording.items.values()].flatMap((flows) =>
        (flows[flowId] ?? []).filter((p) => p.lsn !== null).map((p) => p.lsn!),
      ),
  };
}
