/**
 * The states of the source pipeline and the moves between them. One value says where the pipeline
 * is; every stop path starts from one of these states and goes through `stopping` to `stopped`.
 *
 *   idle → connecting → handshake → fullSync → stableSync      (a partial sync skips fullSync)
 *   connecting/handshake/fullSync/stableSync → connecting       (the session reconnects)
 *   connecting/handshake/fullSync/stableSync → detached → connecting   (let go of the master, back)
 *   any of the above → failed                                   (a fatal error)
 *   any but stopped → stopping → stopped
 */
import type { ReplicaSession } from '../replica/session';
import type { StopSummary } from './stop-summary';

/** Attached to the master: a replica session is running or reconnecting. */
export type AttachedState =
  | { name: 'connecting' | 'handshake' | 'stableSync'; session: ReplicaSession }
  /** pausedAt: when reading paused for Kafka (only a full sync pauses); null while reading */
  | { name: 'fullSync'; session: ReplicaSession; pausedAt: number | null };

export type PipelineState =
  | { name: 'idle' }
  | AttachedState
  /** let go of the master until Kafka has everything buffered; sessionStopped: its FIN is done */
  | { name: 'detached'; session: ReplicaSession; sessionStopped: boolean }
  | { name: 'failed'; session: ReplicaSession | null; error: Error }
  /** deadline: epoch ms by which stop() returns; error: the failure that led here, if any */
  | { name: 'stopping'; session: ReplicaSession | null; deadline: number; error: Error | null }
  | { name: 'stopped'; summary: StopSummary };

export type PipelineStateName = PipelineState['name'];

const ATTACHED = ['connecting', 'handshake', 'fullSync', 'stableSync'] as const;

const LEGAL: Record<PipelineStateName, readonly PipelineStateName[]> = {
  idle: ['connecting', 'stopping'],
  connecting: ['connecting', 'handshake', 'detached', 'failed', 'stopping'],
  handshake: ['connecting', 'fullSync', 'stableSync', 'detached', 'failed', 'stopping'],
  fullSync: ['connecting', 'stableSync', 'detached', 'failed', 'stopping'],
  stableSync: ['connecting', 'detached', 'failed', 'stopping'],
  detached: ['connecting', 'failed', 'stopping'],
  failed: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

export function isAttached(state: PipelineState): state is AttachedState {
  return (ATTACHED as readonly string[]).includes(state.name);
}

/** The session of a state, if it has one. */
export function sessionOf(state: PipelineState): ReplicaSession | null {
  return 'session' in state ? state.session : null;
}

/** Checks a move against the table; an illegal one is a bug in the pipeline, not a runtime condition. */
export function checkTransition(from: PipelineStateName, to: PipelineStateName): void {
  if (!LEGAL[from].includes(to)) {
    throw new Error(`source pipeline: illegal state change ${from} → ${to} (a bug: please report it)`);
  }
}
