/**
 * The source pipeline: replica session → event builder → bounded event buffer → transactional publisher.
 * What the session delivers is built, encoded and buffered at once. During a full sync the pipeline
 * reads at Kafka's pace (it pauses the flow sockets above a high-water mark of the buffer); in stable
 * sync it reads promptly. It detaches (graceful stop of the session) only when the buffer cannot absorb
 * the stable stream or Kafka stands still, keeps publishing, and attaches again from the committed
 * positions once everything is in Kafka (partial sync when the master still has the backlog, else a
 * new epoch). See flow-control.ts. ACKs and resume positions are what Kafka has.
 */
import type { EventCodec } from '../events/codec';
import type { SnapshotReason } from '../events/model';
import { TopicError } from '../kafka/topic';
import type { Logger } from '../observability/logger';
import type { PositionedItem } from '../replica/flow';
import {
  ReplicaSession,
  type ReplicaListener,
  type ReplicaSessionOptions,
  type ResumePositions,
  type SessionState,
  type SyncStart,
} from '../replica/session';
import { bufferedUnits } from './buffered-unit';
import { EventBuffer, type BufferedUnit } from './event-buffer';
import { EventBuilder, type EventUnit } from './event-builder';
import { FORCE_READ_AFTER_MS, flowControl, waterMarks, type FlowControlLimits } from './flow-control';
import { MessageSlab } from './message-slab';
import type { SourceMetrics } from './metrics';
import { CommittedPositions, type RecoveredState } from './positions';
import {
  checkTransition,
  isAttached,
  sessionOf,
  type PipelineState,
  type PipelineStateName,
} from './pipeline-state';
import type { TransactionalPublisher } from './publisher';
import { describeStop, perFlow, PublishTally, type StopSummary } from './stop-summary';

export interface PipelineOptions {
  sourceId: string;
  /** session options except the resume hooks, which the pipeline supplies */
  session: Omit<ReplicaSessionOptions, 'resumeFrom' | 'resumePositions' | 'ackPosition'>;
  maxEventBytes: number;
  bufferMaxBytes: number;
  batchMaxEvents: number;
  lingerMs: number;
  heartbeatIntervalMs: number;
  /** full sync, reading paused: a socket is read again after this long when Kafka made some room */
  maxUnreadMs: number;
  /** full sync, reading paused: detach when Kafka committed nothing for this long */
  kafkaStallDetachMs: number;
  /** makes sure the topic has this many partitions (first sync with a master tells the flow count) */
  ensurePartitions: (flows: number) => Promise<void>;
}

export interface PipelineDeps {
  codec: EventCodec;
  publisher: TransactionalPublisher;
  logger: Logger;
  metrics: SourceMetrics;
  recovered: RecoveredState;
  /** builds the replica session (tests substitute nothing here; it is a seam for the session's options) */
  createSession?: (options: ReplicaSessionOptions, listener: ReplicaListener) => ReplicaSession;
}

/**
 * A full sync forced while resuming was possible says why; a session that was offered no position
 * (nothing committed on some flow) restarts an unfinished snapshot.
 */
function snapshotReason(
  sessionReason: SyncStart['reason'],
  offered: boolean,
  priorEpoch: number,
): SnapshotReason {
  if (priorEpoch === 0) return 'FIRST_SYNC';
  if (!offered) return 'OTHER';
  if (sessionReason === 'master-restarted') return 'MASTER_RESTARTED';
  if (sessionReason === 'resync-stale-position') return 'RESYNC_STALE_POSITION';
  return 'OTHER';
}

export class SourcePipeline {
  readonly buffer: EventBuffer;
  readonly committed: CommittedPositions;
  private readonly builder: EventBuilder;
  private readonly slab: MessageSlab;
  private readonly limits: FlowControlLimits;
  private readonly tally = new PublishTally();
  private state: PipelineState = { name: 'idle' };
  private flowCount = 0;
  private ensuredPartitions = 0;
  private requiredPartitions = 0;
  /** the running session was offered positions to resume from */
  private offeredPosition = false;
  private onFatal: ((e: Error) => void) | null = null;
  private publishing: Promise<void> | null = null;
  /** the batch being published (its outcome is unknown if the stop deadline comes first) */
  private inFlight: BufferedUnit[] = [];
  private timers: NodeJS.Timeout[] = [];
  private stopped: Promise<StopSummary> | null = null;
  /** the current epoch's positions are all in Kafka (logged once per epoch) */
  private resumable = false;
  /** when Kafka last committed a batch (or the pipeline started) */
  private lastCommitAt = Date.now();
  private pausedMsTotal = 0;
  /** the current sync has logged its first pause (later ones go to debug) */
  private pauseLogged = false;

  constructor(
    private readonly options: PipelineOptions,
    private readonly deps: PipelineDeps,
  ) {
    this.buffer = new EventBuffer(options.bufferMaxBytes);
    this.committed = new CommittedPositions(deps.recovered.start);
    this.slab = new MessageSlab(deps.codec);
    this.builder = new EventBuilder(options.sourceId, options.maxEventBytes, deps.recovered.start, this.slab);
    this.flowCount = deps.recovered.resume?.nextLsns.length ?? 0;
    this.limits = {
      ...waterMarks(options.bufferMaxBytes),
      maxUnreadMs: options.maxUnreadMs,
      kafkaStallDetachMs: options.kafkaStallDetachMs,
      forceReadAfterMs: FORCE_READ_AFTER_MS,
    };
  }

  /** Where the pipeline is (see pipeline-state.ts). */
  get stateName(): PipelineStateName {
    return this.state.name;
  }

  get currentSession(): ReplicaSession | null {
    return sessionOf(this.state);
  }

  get publishedEvents(): number {
    return this.deps.publisher.stats.events;
  }

  get isAttached(): boolean {
    return isAttached(this.state);
  }

  /** Whether reading is paused for Kafka, and the total time it was, in ms. */
  readingPauses(nowMs: number): { paused: boolean; totalMs: number } {
    const pausedAt = this.pausedAt();
    const current = pausedAt === null ? 0 : nowMs - pausedAt;
    return { paused: pausedAt !== null, totalMs: this.pausedMsTotal + current };
  }

  private pausedAt(): number | null {
    return this.state.name === 'fullSync' ? this.state.pausedAt : null;
  }

  private moveTo(next: PipelineState): void {
    checkTransition(this.state.name, next.name);
    const pausedAt = this.pausedAt();
    if (pausedAt !== null && next.name !== 'fullSync') this.notePauseEnded(Date.now(), pausedAt);
    this.state = next;
    this.deps.metrics.attached.set(isAttached(next) ? 1 : 0);
  }

  /** Starts publishing and the first session (resuming from the recovered positions if any). */
  start(): void {
    this.publishing = this.publishLoop().catch((e: unknown) => this.fail(e as Error));
    this.attach(this.deps.recovered.resume);
    if (this.options.heartbeatIntervalMs > 0) {
      const every = Math.min(this.options.heartbeatIntervalMs, 1000);
      this.timers.push(setInterval(() => this.heartbeat(), every));
    }
    // the unread and Kafka-stall limits run on time alone, also when nothing arrives or commits
    this.timers.push(setInterval(() => this.checkFlowControl(), CONTROL_INTERVAL_MS));
    for (const timer of this.timers) timer.unref();
  }

  /** Resolves when a fatal error happened (rejects with it); never resolves otherwise. */
  failure(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.state.name === 'failed') reject(this.state.error);
      else this.onFatal = reject;
    });
  }

  /**
   * Stops by `deadline` (epoch ms) in every state: lets go of the master (FIN) and publishes what is
   * buffered meanwhile; what Kafka did not take by then stays out (it is read from the master again
   * on restart: positions and ACKs only ever cover what Kafka committed). Logs and returns what was
   * published, what was not and why, and the committed positions.
   */
  stop(deadline: number): Promise<StopSummary> {
    this.stopped ??= this.stopBy(deadline);
    return this.stopped;
  }

  private async stopBy(deadline: number): Promise<StopSummary> {
    const from = this.state.name;
    const session = sessionOf(this.state);
    const error = this.state.name === 'failed' ? this.state.error : null;
    this.moveTo({ name: 'stopping', session, deadline, error });
    for (const timer of this.timers) clearInterval(timer);
    // what the session still has to do (FIN, the master's close) and the last publish share the time
    const publishBy = deadline - Math.min(STOP_RESERVE_MS, Math.max(0, deadline - Date.now()) / 10);
    const sessionStopped = session?.stop(publishBy) ?? Promise.resolve();
    this.buffer.wake();
    const finished = await Promise.race([
      Promise.all([this.publishing, sessionStopped]).then(() => true),
      sleep(Math.max(0, publishBy - Date.now())).then(() => false),
    ]);
    const uncertain = finished ? [] : this.inFlight;
    const flows = Math.max(this.flowCount, this.tally.published.length, this.committed.flowCount);
    const summary: StopSummary = {
      stoppedFrom: from,
      published: Array.from({ length: flows }, (_, flow) => this.tally.published[flow] ?? 0),
      uncertain: perFlow(uncertain, flows),
      leftInBuffer: this.buffer.events - uncertain.reduce((n, u) => n + u.count, 0),
      notBuffered: { whileDetached: this.tally.whileDetached, afterStop: this.tally.afterStop },
      committedNextLsns: Array.from({ length: flows }, (_, flow) => this.committed.nextLsn(flow)),
      epoch: this.builder.currentEpoch,
      withinDeadline: Date.now() <= deadline,
    };
    this.moveTo({ name: 'stopped', summary });
    this.deps.logger.info(describeStop(summary));
    return summary;
  }

  private fail(error: Error): void {
    if (this.state.name === 'failed' || this.state.name === 'stopping' || this.state.name === 'stopped') {
      if (this.state.name !== 'failed') this.deps.logger.warn(`while stopping: ${error.message}`);
      return;
    }
    this.moveTo({ name: 'failed', session: sessionOf(this.state), error });
    this.onFatal?.(error);
    this.buffer.wake();
  }

  private attach(resume: ResumePositions | null): void {
    this.offeredPosition = resume !== null;
    this.pauseLogged = false;
    const createSession = this.deps.createSession ?? ((o, l) => new ReplicaSession(o, l));
    const session = createSession(
      {
        ...this.options.session,
        resumeFrom: resume,
        resumePositions: () => {
          const positions = this.committed.resume(this.flowCount);
          this.offeredPosition = positions !== null;
          return positions;
        },
        ackPosition: (flow) => this.committed.nextLsn(flow),
      },
      this.listenerFor(() => sessionOf(this.state) === session),
    );
    this.moveTo({ name: 'connecting', session });
    session.start();
    void session.whenStopped().then(() => {
      if (this.state.name !== 'detached' || this.state.session !== session) return;
      this.state.sessionStopped = true;
      this.checkFlowControl();
    });
  }

  private listenerFor(current: () => boolean): ReplicaListener {
    const log = this.deps.logger;
    return {
      onSyncStart: (start) => {
        if (!current()) return;
        this.guard(() => this.onSyncStart(start));
      },
      onItems: (flowId, items) => {
        if (!current()) return;
        this.guard(() => this.onItems(flowId, items));
      },
      onStable: (info) => {
        if (!current()) return;
        log.info(`stable sync on all ${info.flowCount} flows (epoch ${this.builder.currentEpoch})`);
        this.checkFlowControl();
      },
      onStateChange: (sessionState: SessionState) => {
        if (!current()) return;
        log.debug(`replica session: ${sessionState}`);
        this.followSession(sessionState);
      },
      onError: (error, willRetry) => {
        if (!current()) return;
        if (willRetry) log.warn({ err: error }, `replication interrupted: ${error.message}; reconnecting`);
        else this.fail(error);
      },
    };
  }

  /** The attached states follow the session's phase. */
  private followSession(sessionState: SessionState): void {
    const state = this.state;
    if (!isAttached(state)) return;
    const { session } = state;
    switch (sessionState) {
      case 'connecting':
      case 'backoff':
        if (state.name !== 'connecting') this.moveTo({ name: 'connecting', session });
        return;
      case 'handshake':
        return this.moveTo({ name: 'handshake', session });
      case 'full-sync':
        return this.moveTo({ name: 'fullSync', session, pausedAt: null });
      case 'stable':
        return this.moveTo({ name: 'stableSync', session });
      default:
        return;
    }
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.slab.discard();
      this.fail(error as Error);
    }
  }

  private onSyncStart(start: SyncStart): void {
    const { info, mode } = start;
    const priorEpoch = this.builder.currentEpoch;
    const reason = snapshotReason(start.reason, this.offeredPosition, priorEpoch);
    this.flowCount = info.flowCount;
    this.requiredPartitions = Math.max(this.requiredPartitions, info.flowCount);
    const units = this.builder.startSync(
      {
        mode,
        reason,
        masterId: info.masterId,
        flowCount: info.flowCount,
        dragonflyVersion: info.dragonflyVersion,
      },
      Date.now(),
    );
    this.committed.noteMaster(info.masterId);
    this.deps.metrics.syncs.inc({ mode });
    if (mode === 'full') this.resumable = false;
    this.deps.metrics.epoch.set(this.builder.currentEpoch);
    if (mode === 'full') {
      this.deps.logger.info(
        `full sync of ${info.flowCount} flows from master ${info.masterId} (Dragonfly ${info.dragonflyVersion ?? 'release unknown'}): epoch ${this.builder.currentEpoch} (${reason})`,
      );
    } else {
      this.deps.logger.info(
        `partial sync of ${info.flowCount} flows: continuing epoch ${this.builder.currentEpoch}`,
      );
    }
    this.enqueue(units);
  }

  private onItems(flowId: number, items: PositionedItem[]): void {
    if (this.state.name === 'stopping' || this.state.name === 'stopped') {
      this.tally.afterStop += items.length;
      return;
    }
    if (!isAttached(this.state) || this.buffer.overflowed) {
      this.tally.whileDetached += items.length;
      return;
    }
    this.enqueue(this.builder.items(flowId, items, Date.now()));
    this.checkFlowControl(flowId);
  }

  private heartbeat(): void {
    if (this.state.name !== 'stableSync' || this.buffer.overflowed) return;
    this.guard(() => this.enqueue(this.builder.heartbeats(Date.now(), this.options.heartbeatIntervalMs)));
  }

  private enqueue(units: EventUnit[]): void {
    const fullSync = this.state.name === 'fullSync';
    for (const unit of bufferedUnits(this.slab, units, this.options.batchMaxEvents)) {
      if (!this.buffer.push(unit, fullSync)) {
        this.slab.discard();
        this.checkFlowControl();
        return;
      }
    }
  }

  /** `deliveredBy`: the flow whose items were just buffered (it is paused when reading pauses). */
  private checkFlowControl(deliveredBy: number | null = null): void {
    const now = Date.now();
    const state = this.state;
    const session = sessionOf(state);
    const pausedAt = this.pausedAt();
    const action = flowControl(
      {
        attached: isAttached(state),
        fullSync: state.name === 'fullSync',
        readingPaused: pausedAt !== null,
        overflowed: this.buffer.overflowed,
        sessionStopped: state.name === 'detached' && state.sessionStopped,
        bufferedBytes: this.buffer.bytes,
        unreadForMs: session?.unreadForMs(now) ?? 0,
        kafkaIdleMs: now - Math.max(this.lastCommitAt, pausedAt ?? 0),
        stopping: state.name === 'stopping' || state.name === 'stopped' || state.name === 'failed',
      },
      this.limits,
    );
    switch (action) {
      case 'pause':
        return this.pauseReading(now, deliveredBy);
      case 'resume':
        return this.resumeReading(now);
      case 'force-read':
        return this.forceRead(now);
      case 'detach-buffer-full':
        return this.detach('the event buffer is full (in stable sync the master must not wait for us)');
      case 'detach-kafka-stalled':
        return this.detach(
          `Kafka committed nothing for ${Math.round((now - this.lastCommitAt) / 1000)} s while reading was paused ` +
            '(the master drops a replica that leaves its writes waiting for its replication_timeout)',
        );
      case 'reattach':
        return this.reattach();
      case 'none':
        // while reading is paused, every flow that still delivers is paused in turn
        if (pausedAt !== null && deliveredBy !== null) session?.pauseFlow(deliveredBy);
        return;
    }
  }

  private pauseReading(now: number, deliveredBy: number | null): void {
    if (this.state.name !== 'fullSync') return;
    this.state.pausedAt = now;
    if (deliveredBy !== null) this.state.session.pauseFlow(deliveredBy);
    this.deps.metrics.readingPaused.set(1);
    const message =
      `reading paused for Kafka: ${this.behind()}; the master serves the full sync at Kafka's pace ` +
      `(reading resumes below ${this.limits.lowWaterBytes} bytes, or after ${this.limits.maxUnreadMs} ms when Kafka made room)`;
    if (this.pauseLogged) this.deps.logger.debug(message);
    else this.deps.logger.info(message);
    this.pauseLogged = true;
  }

  /** A socket went unread for half the master's timeout: parse some of what it read ahead anyway. */
  private forceRead(now: number): void {
    const ceiling = this.limits.forceReadCeilingBytes;
    const done = sessionOf(this.state)?.forceRead(
      now,
      this.limits.forceReadAfterMs,
      () => this.buffer.bytes < ceiling,
    );
    if (!done || done.bytes === 0) return;
    this.deps.logger.warn(
      `flows ${done.flows.join(', ')} unread for ${this.limits.forceReadAfterMs / 1000} s while paused for Kafka: ` +
        `parsed ${done.bytes} read-ahead bytes anyway so the master's writes complete (buffer may pass its high-water mark up to ${ceiling} bytes); ${this.behind()}`,
    );
  }

  /** Reading resumes (the sync goes on) or the full sync ended while paused. */
  private resumeReading(now: number): void {
    if (this.state.name !== 'fullSync' || this.state.pausedAt === null) return;
    const pausedAt = this.state.pausedAt;
    this.state.pausedAt = null;
    this.notePauseEnded(now, pausedAt);
    this.state.session.resumeReading();
  }

  private notePauseEnded(now: number, pausedAt: number): void {
    const pausedMs = now - pausedAt;
    this.pausedMsTotal += pausedMs;
    this.deps.metrics.readingPaused.set(0);
    this.deps.metrics.readingPausedSeconds.inc(pausedMs / 1000);
    const message = `reading resumed after ${(pausedMs / 1000).toFixed(1)} s paused for Kafka: ${this.behind()}`;
    if (pausedMs >= this.limits.maxUnreadMs) this.deps.logger.info(message);
    else this.deps.logger.debug(message);
  }

  /** How far Kafka is behind the master: what the buffer holds, and the rates in and out. */
  private behind(): string {
    const rates = this.buffer.rates;
    return (
      `${this.buffer.events} events (${this.buffer.bytes} of ${this.buffer.maxBytes} bytes) waiting for Kafka; ` +
      `in ${Math.round(rates.inBytesPerSecond)} B/s, out ${Math.round(rates.outBytesPerSecond)} B/s`
    );
  }

  private detach(why: string): void {
    if (!isAttached(this.state)) return;
    const { session } = this.state;
    this.resumeReading(Date.now());
    this.moveTo({ name: 'detached', session, sessionStopped: false });
    this.deps.metrics.detaches.inc();
    this.deps.logger.warn(
      `letting go of the master: ${why}; ${this.behind()}. Resuming from the committed positions once Kafka has caught up`,
    );
    void session.stop();
  }

  private reattach(): void {
    this.buffer.reopen();
    this.slab.discard();
    this.builder.resetTo(this.committed.builderStart());
    const resume = this.committed.resume(this.flowCount);
    this.deps.logger.info(
      `Kafka caught up: re-attaching to the master (${resume ? 'partial sync from the committed positions' : 'full sync'}); ` +
        `${this.tally.whileDetached} items were left to the master meanwhile (in total)`,
    );
    this.attach(resume);
  }

  /** The stop's deadline once stopping; publishing goes on until then. */
  private get giveUpAt(): number {
    if (this.state.name === 'stopping') return this.state.deadline;
    return this.state.name === 'stopped' ? 0 : Infinity;
  }

  private get ending(): boolean {
    return this.state.name === 'failed' || this.state.name === 'stopped';
  }

  private async publishLoop(): Promise<void> {
    const { batchMaxEvents, lingerMs } = this.options;
    for (;;) {
      if (this.ending || Date.now() >= this.giveUpAt) return;
      const stopping = this.state.name === 'stopping';
      if (this.buffer.units === 0) {
        if (stopping) return;
        await this.buffer.waitForUnits(1000);
        continue;
      }
      if (this.buffer.events < batchMaxEvents && lingerMs > 0 && !stopping) await sleep(lingerMs);
      const batch = this.buffer.peek(batchMaxEvents);
      if (this.requiredPartitions > this.ensuredPartitions) {
        await this.ensurePartitions(this.requiredPartitions);
        this.ensuredPartitions = this.requiredPartitions;
      }
      if (batch.some((u) => u.count > 0)) {
        const failuresBefore = this.deps.publisher.stats.failures;
        this.inFlight = batch;
        try {
          await this.deps.publisher.publish(batch, () => Date.now() > this.giveUpAt);
        } finally {
          this.deps.metrics.publishFailures.inc(this.deps.publisher.stats.failures - failuresBefore);
        }
        // the stop's summary was made without this batch's outcome: leave everything as it said
        if (this.state.name === 'stopped') return;
        this.inFlight = [];
        const events = batch.reduce((n, u) => n + u.count, 0);
        this.deps.metrics.published.inc(events);
        this.deps.metrics.publishedBytes.inc(batch.reduce((n, u) => n + u.bytes, 0));
        this.deps.metrics.transactions.inc();
      }
      this.committed.commit(batch);
      this.tally.committed(batch);
      this.buffer.remove(batch.length);
      this.lastCommitAt = Date.now();
      for (const u of batch) {
        const next = u.position.nextLsn;
        if (next !== null) this.deps.metrics.committedLsn.set({ flow: String(u.flow) }, next);
      }
      this.noteResumable();
      this.checkFlowControl();
    }
  }

  /**
   * Makes sure the topic has the partitions, retrying while Kafka does not answer (an unreachable
   * broker is waited for like a failed send; a topic Kafka refuses stops the source).
   */
  private async ensurePartitions(partitions: number): Promise<void> {
    for (let delayMs = ENSURE_RETRY_INITIAL_MS; ; delayMs = Math.min(delayMs * 2, ENSURE_RETRY_MAX_MS)) {
      try {
        await this.options.ensurePartitions(partitions);
        return;
      } catch (error) {
        if (error instanceof TopicError || Date.now() > this.giveUpAt) throw error;
        this.deps.logger.warn(
          `could not make sure the topic has ${partitions} partitions (${(error as Error).message}): ` +
            `is Kafka reachable? retrying in ${delayMs} ms`,
        );
        await sleep(delayMs);
      }
    }
  }

  private noteResumable(): void {
    if (this.resumable) return;
    const resume = this.committed.resume(this.flowCount);
    if (!resume) return;
    this.resumable = true;
    this.deps.logger.info(
      `snapshot of epoch ${this.builder.currentEpoch} is in Kafka on all ${this.flowCount} flows: a restart resumes from LSNs ${resume.nextLsns.join(', ')}`,
    );
  }

  /** Buffer gauges; call about once a second. */
  sampleBuffer(nowMs: number): void {
    this.buffer.sampleRates(nowMs);
    const m = this.deps.metrics;
    m.bufferBytes.set(this.buffer.bytes);
    m.bufferFill.set(this.buffer.bytes / this.buffer.maxBytes);
    m.readAheadBytes.set(sessionOf(this.state)?.readAheadBytes() ?? 0);
    const toFull = this.buffer.secondsToFull();
    m.secondsToFull.set(Number.isFinite(toFull) ? toFull : -1);
    this.checkFlowControl();
  }
}

const ENSURE_RETRY_INITIAL_MS = 500;
const ENSURE_RETRY_MAX_MS = 10_000;

/** How often the flow-control rules are checked besides after every read and commit. */
const CONTROL_INTERVAL_MS = 250;
/** Of a stop's time, kept after the last publish for what follows (the summary, closing Kafka). */
const STOP_RESERVE_MS = 250;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
