/**
 * When the source lets go of the master and when it comes back. Detaching (a graceful stop of the
 * replica session) is how the source avoids stalling the master when Kafka cannot keep up: the master
 * is never made to wait for us; it keeps a backlog, or we full-sync again later.
 */
export interface FlowControlState {
  /** a replica session is running (or starting) */
  attached: boolean;
  /** the buffer refused a unit */
  overflowed: boolean;
  /** the detached session has finished stopping */
  sessionStopped: boolean;
  /** bytes still waiting for Kafka */
  bufferedBytes: number;
  /** a stop of the whole source was requested */
  stopping: boolean;
}

export type FlowControlAction = 'detach' | 'reattach' | 'none';

/**
 * Detach as soon as the buffer refused something (the events after it are gone, so the session must
 * restart from what Kafka has). Re-attach once everything buffered is committed: the committed
 * positions are then exactly where the new session has to start, partial sync or new epoch.
 */
export function flowControl(state: FlowControlState): FlowControlAction {
  if (state.stopping) return 'none';
  if (state.attached) return state.overflowed ? 'detach' : 'none';
  return state.sessionStopped && state.bufferedBytes === 0 ? 'reattach' : 'none';
}
