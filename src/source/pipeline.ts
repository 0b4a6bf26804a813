/**
 * The source pipeline: replica session → event builder → bounded buffer → transactional publisher.
 * The session is never made to wait: what it delivers is built, encoded and buffered at once. When
 * the buffer is full the pipeline detaches (graceful stop of the session), keeps publishing, and
 * attaches again from the committed positions once everything is in Kafka (partial sync when the
 * master still has the backlog, else a new epoch). ACKs and resume positions are what Kafka has.
 */
import type { EventCodec } from '../events/codec';
import type { SnapshotReason } from '../events/model';
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
import { bufferedUnit } from './buffered-unit';
import { EventBuffer } from './event-buffer';
import { EventBuilder, type EventUnit } from './event-builder';
import { flowControl } from './flow-control';
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

  constructor(
    private readonly options: PipelineOptions,
    private readonly deps: PipelineDeps,
  ) {
    this.buffer = new EventBuffer(options.bufferMaxBytes);
    this.committed = new CommittedPositions(deps.recovered.start);
    this.slab = new MessageSlab(deps.codec);
    this.builder = new EventBuilder(options.sourceId, options.maxEventBytes, deps.recovered.start, this.slab);
    this.flowCount = deps.recovered.resume?.nextLsns.length ?? 0;
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

  /** Starts publishing and the first session (resuming from the recovered positions if any). */
  start(): void {
    this.publishing = this.publishLoop().catch((e: unknown) => this.fail(e as Error));
    this.attach(this.deps.recovered.resume);
    if (this.options.heartbeatIntervalMs > 0) {
      const every = Math.min(this.options.heartbeatIntervalMs, 1000);
      this.heartbeatTimer = setInterval(() => this.heartbeat(), every);
      this.heartbeatTimer.unref();
    }
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
        if (current())
          log.info(`stable sync on all ${info.flowCount} flows (epoch ${this.builder.currentEpoch})`);
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
      { mode, reason, masterId: info.masterId, flowCount: info.flowCount },
      Date.now(),
    );
    this.committed.noteMaster(info.masterId);
    this.deps.metrics.syncs.inc({ mode });
    if (mode === 'full') this.resumable = false;
    this.deps.metrics.epoch.set(this.builder.currentEpoch);
    if (mode === 'full') {
      this.deps.logger.info(
        `full sync of ${info.flowCount} flows from master ${info.masterId}: epoch ${this.builder.currentEpoch} (${reason})`,
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
  }

  private heartbeat(): void {
    if (!this.attached || this.buffer.overflowed || this.session?.state !== 'stable') return;
    this.guard(() => this.enqueue(this.builder.heartbeats(Date.now(), this.options.heartbeatIntervalMs)));
  }

  private enqueue(units: EventUnit[]): void {
    for (const unit of units) {
      if (!this.buffer.push(bufferedUnit(this.slab, unit))) {
        this.slab.discard();
        this.checkFlowControl();
        return;
      }
      this.pushed++;
    }
  }

  private checkFlowControl(): void {
    const action = flowControl({
      attached: this.attached,
      overflowed: this.buffer.overflowed,
      sessionStopped: this.sessionStopped,
      bufferedBytes: this.buffer.bytes,
      stopping: this.stopping || this.fatalError !== null,
    });
    if (action === 'detach') this.detach();
    else if (action === 'reattach') this.reattach();
  }

  private detach(): void {
    this.attached = false;
    this.deps.metrics.attached.set(0);
    this.deps.metrics.detaches.inc();
    const rates = this.buffer.rates;
    this.deps.logger.warn(
      `the event buffer is full (${this.buffer.bytes} of ${this.buffer.maxBytes} bytes; in ${Math.round(rates.inBytesPerSecond)} B/s, ` +
        `out ${Math.round(rates.outBytesPerSecond)} B/s): letting go of the master until Kafka has caught up, ` +
        'then resuming from the committed positions',
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
        await this.options.ensurePartitions(this.requiredPartitions);
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
    const toFull = this.buffer.secondsToFull();
    m.secondsToFull.set(Number.isFinite(toFull) ? toFull : -1);
    this.checkFlowControl();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
