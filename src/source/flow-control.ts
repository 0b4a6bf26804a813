/**
 * How the source keeps pace with Kafka without losing the master (facts from Dragonfly v1.40.1,
 * checked on a live master, see docs/source.md):
 * - During a full sync the master serves a replica that reads slowly simply more slowly; it cancels
 *   the sync only when a write to a flow has not completed for its replication_timeout (30 s). So
 *   the source reads at Kafka's pace: it pauses reading above a high-water mark of the buffer and
 *   resumes below a low-water mark, and never leaves a socket unread for long while Kafka moves.
 *   It lets go of the master (detaches) only when Kafka makes no progress at all for a while.
 * - In stable sync a replica that does not drain its flows makes the master's writers wait, so the
 *   source reads promptly and detaches when the buffer cannot absorb the stream; it comes back with a
 *   partial sync from the committed positions once Kafka caught up.
 */
export interface FlowControlState {
  /** a replica session is running (or starting) */
  attached: boolean;
  /** the session is in its full sync (the only phase in which reading may pause) */
  fullSync: boolean;
  /** reading the flow sockets is paused */
  readingPaused: boolean;
  /** the buffer refused a unit */
  overflowed: boolean;
  /** the detached session has finished stopping */
  sessionStopped: boolean;
  /** bytes still waiting for Kafka */
  bufferedBytes: number;
  /** the longest a flow socket has gone unread because reading is paused (its read-ahead queue is full) */
  unreadForMs: number;
  /** time since Kafka last committed something, or since reading paused if that is later */
  kafkaIdleMs: number;
  /** a stop of the whole source was requested */
  stopping: boolean;
}

export interface FlowControlLimits {
  /** buffer bytes at which reading pauses (full sync) */
  highWaterBytes: number;
  /** buffer bytes at which reading resumes */
  lowWaterBytes: number;
  /** a paused socket is read again after this long whenever Kafka has made room below the high-water mark */
  maxUnreadMs: number;
  /** paused for Kafka and nothing committed for this long: detach (Kafka is down) */
  kafkaStallDetachMs: number;
  /**
   * a socket unread for this long is read anyway (some of its read-ahead bytes parsed) while the
   * buffer is below forceReadCeilingBytes: half the master's replication_timeout
   */
  forceReadAfterMs: number;
  /** buffer bytes up to which a forced read may take the buffer past the high-water mark */
  forceReadCeilingBytes: number;
}

/** Half of Dragonfly's default --replication_timeout (30 s): no socket stays unread longer. */
export const FORCE_READ_AFTER_MS = 15_000;

export type FlowControlAction =
  'pause' | 'resume' | 'force-read' | 'detach-buffer-full' | 'detach-kafka-stalled' | 'reattach' | 'none';

/**
 * The water marks for a buffer of `maxBytes`: pause at 3/4, resume at 1/2 (room for what one read
 * yields); a forced read may fill it up to 7/8.
 */
export function waterMarks(
  maxBytes: number,
): Pick<FlowControlLimits, 'highWaterBytes' | 'lowWaterBytes' | 'forceReadCeilingBytes'> {
  return {
    highWaterBytes: Math.floor(maxBytes * 0.75),
    lowWaterBytes: Math.floor(maxBytes * 0.5),
    forceReadCeilingBytes: Math.floor(maxBytes * 0.875),
  };
}

/**
 * Detach as soon as the buffer refused something (the events after it are gone, so the session must
 * restart from what Kafka has), or when Kafka stood still for kafkaStallDetachMs while reading was
 * paused. A socket unread for forceReadAfterMs is read anyway, a little, taking the buffer past its
 * high-water mark (up to forceReadCeilingBytes), so the master's pending write completes. Re-attach once everything buffered is committed: the committed positions are then exactly
 * where the new session has to start, partial sync or new epoch.
 */
export function flowControl(state: FlowControlState, limits: FlowControlLimits): FlowControlAction {
  if (state.stopping) return 'none';
  if (!state.attached) return state.sessionStopped && state.bufferedBytes === 0 ? 'reattach' : 'none';
  if (state.overflowed) return 'detach-buffer-full';
  if (state.readingPaused) {
    if (!state.fullSync) return 'resume';
    if (state.kafkaIdleMs >= limits.kafkaStallDetachMs) return 'detach-kafka-stalled';
    if (state.bufferedBytes <= limits.lowWaterBytes) return 'resume';
    if (state.unreadForMs >= limits.maxUnreadMs && state.bufferedBytes < limits.highWaterBytes)
      return 'resume';
    if (state.unreadForMs >= limits.forceReadAfterMs && state.bufferedBytes < limits.forceReadCeilingBytes)
      return 'force-read';
    return 'none';
  }
  return state.fullSync && state.bufferedBytes >= limits.highWaterBytes ? 'pause' : 'none';
}
