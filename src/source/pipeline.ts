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
import { EventBuffer } from './event-buffer';
import { EventBuilder, type EventUnit } from './event-builder';
import { FORCE_READ_AFTER_MS, flowControl, waterMarks, type FlowControlLimits } from './flow-control';
import { MessageSlab } from './message-slab';
import type { SourceMetrics } from './metrics';
import { CommittedPositions, type RecoveredState } from './positions';
import type { TransactionalPublisher } from './publisher';

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
  private session: ReplicaSession | null = null;
  private attached = false;
  private sessionStopped = true;
  private stopping = false;
  private flowCount = 0;
  private ensuredPartitions = 0;
  private requiredPartitions = 0;
  private offeredPosition = false;
  private fatalError: Error | null = null;
  private onFatal: ((e: Error) => void) | null = null;
  private publishing: Promise<void> | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private giveUpAt = Infinity;
  private pushed = 0;
  private committedUnits = 0;
  private dropped = 0;
  /** the current epoch's positions are all in Kafka (logged once per epoch) */
  private resumable = false;
  private readonly commitListeners = new Set<() => void>();
  private readonly limits: FlowControlLimits;
  private controlTimer: NodeJS.Timeout | null = null;
  /** when Kafka last committed a batch (or the pipeline started) */
  private lastCommitAt = Date.now();
  /** when reading paused for Kafka; null while reading */
  private pausedAt: number | null = null;
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

  get currentSession(): ReplicaSession | null {
    return this.session;
  }

  get publishedEvents(): number {
    return this.deps.publisher.stats.events;
  }

  get isAttached(): boolean {
    return this.attached;
  }

  /** Whether reading is paused for Kafka, and the total time it was, in ms. */
  readingPauses(nowMs: number): { paused: boolean; totalMs: number } {
    const current = this.pausedAt === null ? 0 : nowMs - this.pausedAt;
    return { paused: this.pausedAt !== null, totalMs: this.pausedMsTotal + current };
  }

  /** Starts publishing and the first session (resuming from the recovered positions if any). */
  start(): void {
    this.publishing = this.publishLoop().catch((e: unknown) => this.fail(e as Error));
    this.attach(this.deps.recovered.resume);
    if (this.options.heartbeatIntervalMs > 0) {
      const every = Math.min(this.options.heartbeatIntervalMs, 1000);
      this.heartbeatTimer = setInterval(() => this.heartbeat(), every);
      this.heartbeatTimer.unref();
    }
    // the unread and Kafka-stall limits run on time alone, also when nothing arrives or commits
    this.controlTimer = setInterval(() => this.checkFlowControl(), CONTROL_INTERVAL_MS);
    this.controlTimer.unref();
  }

  /** Resolves when a fatal error happened (rejects with it); never resolves otherwise. */
  failure(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.fatalError) reject(this.fatalError);
      else this.onFatal = reject;
    });
  }

  /**
   * Graceful stop: publish what was buffered when asked, stop the session (FIN), publish what came
   * during the stop; by `deadline` at the latest (what is left is read again on restart).
   */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    this.giveUpAt = deadline;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.controlTimer) clearInterval(this.controlTimer);
    await this.until(this.pushed, deadline);
    this.attached = false;
    await this.session?.stop();
    await this.until(this.pushed, deadline);
    const left = this.buffer.events;
    this.giveUpAt = 0;
    this.buffer.wake();
    await this.publishing;
    if (left > 0) {
      this.deps.logger.warn(
        `stopped with ${left} events not in Kafka (stop timeout); they are read from the master again on restart`,
      );
    }
  }

  /** Waits until `units` units have been committed, or the deadline passed, or a fatal error. */
  private until(units: number, deadline: number): Promise<void> {
    if (this.committedUnits >= units || this.fatalError) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.commitListeners.delete(check);
        resolve();
      };
      const check = (): void => {
        if (this.committedUnits >= units || this.fatalError) done();
      };
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      this.commitListeners.add(check);
    });
  }

  private fail(error: Error): void {
    if (this.fatalError) return;
    this.fatalError = error;
    this.onFatal?.(error);
    this.buffer.wake();
    for (const listener of [...this.commitListeners]) listener();
  }

  private attach(resume: ResumePositions | null): void {
    this.attached = true;
    this.sessionStopped = false;
    this.offeredPosition = resume !== null;
    this.pauseLogged = false;
    this.deps.metrics.attached.set(1);
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
      this.listenerFor(() => this.session === session),
    );
    this.session = session;
    session.start();
    void session.whenStopped().then(() => {
      if (this.session !== session) return;
      this.sessionStopped = true;
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
      onStateChange: (state: SessionState) => {
        if (current()) log.debug(`replica session: ${state}`);
      },
      onError: (error, willRetry) => {
        if (!current()) return;
        if (willRetry) log.warn({ err: error }, `replication interrupted: ${error.message}; reconnecting`);
        else this.fail(error);
      },
    };
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
    if (!this.attached || this.buffer.overflowed) {
      this.dropped += items.length;
      return;
    }
    this.enqueue(this.builder.items(flowId, items, Date.now()));
    this.checkFlowControl(flowId);
  }

  private heartbeat(): void {
    if (!this.attached || this.buffer.overflowed || this.session?.state !== 'stable') return;
    this.guard(() => this.enqueue(this.builder.heartbeats(Date.now(), this.options.heartbeatIntervalMs)));
  }

  private enqueue(units: EventUnit[]): void {
    const fullSync = this.session?.state === 'full-sync';
    for (const unit of bufferedUnits(this.slab, units, this.options.batchMaxEvents)) {
      if (!this.buffer.push(unit, fullSync)) {
        this.slab.discard();
        this.checkFlowControl();
        return;
      }
      this.pushed++;
    }
  }

  /** `deliveredBy`: the flow whose items were just buffered (it is paused when reading pauses). */
  private checkFlowControl(deliveredBy: number | null = null): void {
    const now = Date.now();
    const session = this.session;
    const action = flowControl(
      {
        attached: this.attached,
        fullSync: session?.state === 'full-sync',
        readingPaused: this.pausedAt !== null,
        overflowed: this.buffer.overflowed,
        sessionStopped: this.sessionStopped,
        bufferedBytes: this.buffer.bytes,
        unreadForMs: session?.unreadForMs(now) ?? 0,
        kafkaIdleMs: now - Math.max(this.lastCommitAt, this.pausedAt ?? 0),
        stopping: this.stopping || this.fatalError !== null,
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
        if (this.pausedAt !== null && deliveredBy !== null) session?.pauseFlow(deliveredBy);
        return;
    }
  }

  private pauseReading(now: number, deliveredBy: number | null): void {
    this.pausedAt = now;
    if (deliveredBy !== null) this.session?.pauseFlow(deliveredBy);
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
    const done = this.session?.forceRead(
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

  private resumeReading(now: number): void {
    const pausedMs = this.pausedAt === null ? 0 : now - this.pausedAt;
    this.pausedAt = null;
    this.pausedMsTotal += pausedMs;
    this.deps.metrics.readingPaused.set(0);
    this.deps.metrics.readingPausedSeconds.inc(pausedMs / 1000);
    this.session?.resumeReading();
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
    if (this.pausedAt !== null) this.resumeReading(Date.now());
    this.attached = false;
    this.deps.metrics.attached.set(0);
    this.deps.metrics.detaches.inc();
    this.deps.logger.warn(
      `letting go of the master: ${why}; ${this.behind()}. Resuming from the committed positions once Kafka has caught up`,
    );
    void this.session?.stop();
  }

  private reattach(): void {
    this.buffer.reopen();
    this.slab.discard();
    this.builder.resetTo(this.committed.builderStart());
    const resume = this.committed.resume(this.flowCount);
    this.deps.logger.info(
      `Kafka caught up: re-attaching to the master (${resume ? 'partial sync from the committed positions' : 'full sync'}); ` +
        `${this.dropped} items were left to the master meanwhile`,
    );
    this.dropped = 0;
    this.attach(resume);
  }

  private async publishLoop(): Promise<void> {
    const { batchMaxEvents, lingerMs } = this.options;
    for (;;) {
      if (this.fatalError) return;
      if (this.buffer.units === 0) {
        if (this.giveUpAt === 0) return;
        await this.buffer.waitForUnits(1000);
        continue;
      }
      if (this.buffer.events < batchMaxEvents && lingerMs > 0 && !this.stopping) await sleep(lingerMs);
      const batch = this.buffer.peek(batchMaxEvents);
      if (this.requiredPartitions > this.ensuredPartitions) {
        await this.ensurePartitions(this.requiredPartitions);
        this.ensuredPartitions = this.requiredPartitions;
      }
      if (batch.some((u) => u.count > 0)) {
        const failuresBefore = this.deps.publisher.stats.failures;
        try {
          await this.deps.publisher.publish(batch, () => Date.now() > this.giveUpAt);
        } finally {
          this.deps.metrics.publishFailures.inc(this.deps.publisher.stats.failures - failuresBefore);
        }
        const events = batch.reduce((n, u) => n + u.count, 0);
        this.deps.metrics.published.inc(events);
        this.deps.metrics.publishedBytes.inc(batch.reduce((n, u) => n + u.bytes, 0));
        this.deps.metrics.transactions.inc();
      }
      this.committed.commit(batch);
      this.buffer.remove(batch.length);
      this.lastCommitAt = Date.now();
      this.committedUnits += batch.length;
      for (const u of batch) {
        const next = u.position.nextLsn;
        if (next !== null) this.deps.metrics.committedLsn.set({ flow: String(u.flow) }, next);
      }
      this.noteResumable();
      for (const listener of [...this.commitListeners]) listener();
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
    m.readAheadBytes.set(this.session?.readAheadBytes() ?? 0);
    const toFull = this.buffer.secondsToFull();
    m.secondsToFull.set(Number.isFinite(toFull) ? toFull : -1);
    this.checkFlowControl();
  }
}

const ENSURE_RETRY_INITIAL_MS = 500;
const ENSURE_RETRY_MAX_MS = 10_000;

/** How often the flow-control rules are checked besides after every read and commit. */
const CONTROL_INTERVAL_MS = 250;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
