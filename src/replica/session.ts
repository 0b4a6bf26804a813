import { randomBytes } from 'node:crypto';
import {
  closeGracefully,
  CommandChannel,
  DEFAULT_REPLY_TIMEOUT_MS,
  openSocket,
  type ConnectOptions,
} from './connection';
import { ReplicationError } from './errors';
import { greetMaster, type MasterInfo } from './handshake';
import { FlowConnection, type FlowCounters, type FlowSyncMode, type PositionedItem } from './flow';
import { describeMaster, type MasterAddress } from './master-address';
import { Backoff, type BackoffOptions } from './backoff';

export type SessionState =
  'idle' | 'connecting' | 'handshake' | 'full-sync' | 'stable' | 'backoff' | 'stopping' | 'stopped';

/** Where to resume: the master process and the next LSN wanted on each flow (spec 7.4). */
export interface ResumePositions {
  masterId: string;
  nextLsns: number[];
}

export type FullSyncReason = 'first-sync' | 'resync-stale-position' | 'master-restarted';

export interface SyncStart {
  mode: 'full' | 'partial';
  reason: FullSyncReason | null;
  info: MasterInfo;
}

/** What the session tells its consumer. Items of one flow arrive in stream order. */
export interface ReplicaListener {
  onSyncStart(start: SyncStart): void;
  onItems(flowId: number, items: PositionedItem[]): void;
  /** every flow is in stable sync */
  onStable(info: MasterInfo): void;
  onStateChange?(state: SessionState): void;
  /** a failure of the current attempt; the session backs off and reconnects unless stopped */
  onError(error: Error, willRetry: boolean): void;
}

export interface ReplicaSessionOptions {
  address: MasterAddress;
  connect: ConnectOptions;
  listeningPort: number;
  ackIntervalMs: number;
  /** per flow: raw bytes still read off the socket while reading is paused (default 64 MiB) */
  readAheadBytes?: number;
  /** while a full sync runs, no byte on any flow for this long fails the attempt (0 = off) */
  fullSyncStallTimeoutMs: number;
  /** bound for the graceful stop */
  stopTimeoutMs: number;
  reconnect: BackoffOptions;
  /** positions to resume from on the first attempt (e.g. recovered from Kafka) */
  resumeFrom?: ResumePositions | null;
  /**
   * Positions to resume from, asked before every reconnect. When given it is authoritative: null
   * means "nothing durable to resume from" (full sync). Without it the session resumes from what it
   * received itself.
   */
  resumePositions?: () => ResumePositions | null;
  /** ACK value per flow (what is durable downstream; null = nothing yet, no ACK). Default: received. */
  ackPosition?: (flowId: number) => number | null;
  clientId?: string;
}

/** Master DflyVersion integer from which partial sync streams journal without RDB framing (v1.37+, spec 3.9). */
const PARTIAL_SYNC_MIN_VERSION = 5;

/**
 * A replica of one Dragonfly master, for as long as it runs: connects, handshakes, runs full or
 * partial sync, follows the journal, reconnects with backoff after failures, and stops gracefully.
 */
export class ReplicaSession {
  private stateValue: SessionState = 'idle';
  private readonly master: string;
  private readonly clientId: string;
  private readonly backoff: Backoff;
  private flows: FlowConnection[] = [];
  private mainChannel: CommandChannel | null = null;
  private stopRequested = false;
  /** set by stop(deadline): the teardown ends by then even if the master does not close */
  private stopDeadline = Infinity;
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private lastInfo: MasterInfo | null = null;
  private nextResume: ResumePositions | null;
  /** after mixed FULL/PARTIAL answers the next attempt must not offer positions (spec 2.4) */
  private forceFullSync = false;
  private attempts = 0;
  private barrier: { pending: Set<number>; done: Promise<void> } | null = null;
  /** when reading last resumed: a paused stretch is not a stall of the master */
  private readingResumedAt = 0;

  constructor(
    private readonly options: ReplicaSessionOptions,
    private readonly listener: ReplicaListener,
  ) {
    this.master = describeMaster(options.address);
    this.clientId = options.clientId ?? randomBytes(20).toString('hex');
    this.backoff = new Backoff(options.reconnect);
    this.nextResume = options.resumeFrom ?? null;
  }

  get state(): SessionState {
    return this.stateValue;
  }

  get masterInfo(): MasterInfo | null {
    return this.lastInfo;
  }

  /** Per-flow counters and next LSN, for metrics. */
  flowStats(): { flowId: number; counters: FlowCounters; nextLsn: number | null }[] {
    return this.flows.map((f) => ({ flowId: f.flowId, counters: { ...f.counters }, nextLsn: f.lsn.nextLsn }));
  }

  /**
   * Stops reading one flow socket (back-pressure: the master's writes wait, it serves us slower).
   * Flows are paused one by one, each after it delivered, so every flow is read in every round: the
   * master drops a replica whose writes to any flow do not complete for its replication_timeout, so
   * the owner must also resume well before that (see unreadForMs).
   */
  pauseFlow(flowId: number): void {
    this.flows[flowId]?.pauseReading(Date.now());
  }

  /** Reads every flow again. */
  resumeReading(): void {
    this.readingResumedAt = Date.now();
    for (const f of this.flows) f.resumeReading();
  }

  /**
   * Parses some read-ahead bytes of every flow whose socket has gone unread for `minUnreadMs`, even
   * though reading is paused (see FlowConnection.forceRead). Returns the flows and raw bytes parsed.
   */
  forceRead(nowMs: number, minUnreadMs: number, more: () => boolean): { flows: number[]; bytes: number } {
    const done = { flows: [] as number[], bytes: 0 };
    for (const f of this.flows) {
      if (f.unreadForMs(nowMs) < minUnreadMs) continue;
      const bytes = f.forceRead(more);
      if (bytes > 0) done.flows.push(f.flowId);
      done.bytes += bytes;
    }
    return done;
  }

  /** Raw bytes read ahead on all flows and not parsed yet. */
  readAheadBytes(): number {
    return this.flows.reduce((n, f) => n + f.readAheadBytes, 0);
  }

  /** The longest any flow socket has gone unread because reading is paused (0 while reading). */
  unreadForMs(nowMs: number): number {
    return Math.max(0, ...this.flows.map((f) => f.unreadForMs(nowMs)));
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /** Resolves when the session has stopped (after stop(), or when the reconnect policy gave up). */
  whenStopped(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Stops gracefully; the connections are closed by `deadline` (default: stopTimeoutMs from now). */
  async stop(deadline?: number): Promise<void> {
    this.stopRequested = true;
    if (deadline !== undefined) this.stopDeadline = Math.min(this.stopDeadline, deadline);
    this.wakeUp?.();
    await this.loop;
  }

  private setState(state: SessionState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.listener.onStateChange?.(state);
  }

  private async run(): Promise<void> {
    while (!this.stopRequested) {
      let failure: Error;
      try {
        failure = await this.attempt();
      } catch (e) {
        failure = e as Error;
      }
      if (this.stopRequested) break;
      // a wrong password or a master that is not Dragonfly stays so until the user changes something
      const delay = failure instanceof ReplicationError && !failure.retryable ? null : this.backoff.next();
      this.listener.onError(failure, delay !== null);
      if (delay === null) break;
      this.setState('backoff');
      await this.sleep(delay);
    }
    this.setState('stopped');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One connection attempt; resolves with the error that ended it (or throws it). */
  private async attempt(): Promise<Error> {
    this.setState('connecting');
    let failWith!: (e: Error) => void;
    const failed = new Promise<Error>((resolve) => (failWith = resolve));
    this.wakeUp = () => failWith(new ReplicationError({ master: this.master, message: 'stopping' }));
    // the handshake goes on after a failure ended the attempt: a socket it opens then is closed at once
    const attempt = { ended: false };
    try {
      const info = await this.raceFailure(this.handshake(attempt, failWith), failed);
      const resume = this.resumePlan(info);
      const flows = await this.raceFailure(this.openFlows(info, resume.lsns, failWith), failed);
      const modes = new Set<FlowSyncMode>(flows.map((f) => f.mode!));
      if (modes.size > 1) {
        this.forceFullSync = true;
        throw new ReplicationError({
          master: this.master,
          message: 'some flows were granted a partial sync and others need a full sync',
          hint: 'reconnecting for a full sync',
        });
      }
      const partial = modes.has('PARTIAL');
      if (!partial) this.forceFullSync = false;
      this.listener.onSyncStart({
        mode: partial ? 'partial' : 'full',
        reason: partial ? null : resume.reason,
        info,
      });
      const channel = this.mainChannel!;
      if (!partial) {
        this.setState('full-sync');
        const stallWatch = this.watchFullSyncStall(flows, failWith);
        try {
          await this.raceFailure(channel.expectOk(['DFLY', 'SYNC', info.syncId]), failed);
          await this.raceFailure(this.barrier!.done, failed);
        } finally {
          stallWatch();
        }
      }
      await this.raceFailure(channel.expectOk(['DFLY', 'STARTSTABLE', info.syncId]), failed);
      for (const flow of flows) flow.startAcks();
      this.setState('stable');
      this.backoff.reset();
      this.listener.onStable(info);
      return await failed;
    } finally {
      attempt.ended = true;
      await this.teardown();
    }
  }

  private async handshake(attempt: { ended: boolean }, failWith: (e: Error) => void): Promise<MasterInfo> {
    const socket = await openSocket(this.options.address, this.options.connect);
    if (attempt.ended) {
      socket.destroy();
      throw new ReplicationError({ master: this.master, message: 'connected after the attempt ended' });
    }
    this.setState('handshake');
    const channel = new CommandChannel(
      socket,
      this.master,
      this.options.connect.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
    );
    this.mainChannel = channel;
    socket.on('close', () =>
      failWith(
        new ReplicationError({ master: this.master, message: 'the master closed the main connection' }),
      ),
    );
    const info = await greetMaster(channel, {
      master: this.master,
      user: this.options.address.user,
      password: this.options.address.password,
      listeningPort: this.options.listeningPort,
      clientId: this.clientId,
    });
    if (info.masterId === this.clientId) {
      throw new ReplicationError({
        master: this.master,
        message: 'the master is this replica itself',
        retryable: false,
      });
    }
    this.lastInfo = info;
    return info;
  }

  /** Decides whether to ask for a partial sync (spec 2.3, 3.9, 7.4). */
  private resumePlan(info: MasterInfo): { lsns: number[] | null; reason: FullSyncReason } {
    const firstAttempt = this.attempts++ === 0;
    // positions were offered and some flows found them stale: a full sync, for that reason
    if (this.forceFullSync) return { lsns: null, reason: 'resync-stale-position' };
    const resume =
      this.options.resumePositions && !firstAttempt ? this.options.resumePositions() : this.nextResume;
    if (!resume) return { lsns: null, reason: 'first-sync' };
    if (resume.masterId !== info.masterId) return { lsns: null, reason: 'master-restarted' };
    if (resume.nextLsns.length !== info.flowCount) return { lsns: null, reason: 'master-restarted' };
    if (info.version === null || info.version < PARTIAL_SYNC_MIN_VERSION) {
      return { lsns: null, reason: 'resync-stale-position' };
    }
    return { lsns: resume.nextLsns, reason: 'resync-stale-position' };
  }

  private async openFlows(
    info: MasterInfo,
    lsns: number[] | null,
    failWith: (e: Error) => void,
  ): Promise<FlowConnection[]> {
    const pending = new Set(Array.from({ length: info.flowCount }, (_, i) => i));
    let release!: () => void;
    this.barrier = { pending, done: new Promise<void>((resolve) => (release = resolve)) };
    const listener = {
      onItems: (flowId: number, items: PositionedItem[]) => this.listener.onItems(flowId, items),
      onFullSyncEnd: (flowId: number) => {
        pending.delete(flowId);
        if (pending.size === 0) release();
      },
      onFailure: (_flowId: number, error: Error) => failWith(error),
    };
    this.flows = Array.from(
      { length: info.flowCount },
      (_, flowId) =>
        new FlowConnection(
          {
            flowId,
            address: this.options.address,
            master: this.master,
            connect: this.options.connect,
            info,
            requestLsn: lsns ? lsns[flowId]! : null,
            ackIntervalMs: this.options.ackIntervalMs,
            ackPosition: this.options.ackPosition,
            readAheadBytes: this.options.readAheadBytes,
          },
          listener,
        ),
    );
    await Promise.all(this.flows.map((f) => f.open()));
    return this.flows;
  }

  /**
   * While the full sync runs, no byte on any flow for fullSyncStallTimeoutMs fails the attempt.
   * (No such timeout in stable sync: an idle master sends nothing at all, spec 5.3.) While reading is
   * paused by the owner nothing arrives by design: that time does not count.
   */
  private watchFullSyncStall(flows: FlowConnection[], failWith: (e: Error) => void): () => void {
    const stallMs = this.options.fullSyncStallTimeoutMs;
    if (stallMs <= 0) return () => undefined;
    const startedAt = Date.now();
    const timer = setInterval(
      () => {
        const now = Date.now();
        if (flows.some((f) => f.readingPaused || f.unreadForMs(now) > 0)) return;
        const last = Math.max(startedAt, this.readingResumedAt, ...flows.map((f) => f.counters.lastDataAt));
        if (Date.now() - last > stallMs) {
          failWith(
            new ReplicationError({
              master: this.master,
              message: `full sync stalled: no data on any flow for ${stallMs} ms`,
              hint: 'reconnecting; raise replica.stallTimeoutMs if the master is just slow',
            }),
          );
        }
      },
      Math.min(1000, stallMs),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  private async raceFailure<T>(work: Promise<T>, failed: Promise<Error>): Promise<T> {
    const result = await Promise.race([
      work.then((v) => ({ ok: true as const, v })),
      failed.then((e) => ({ ok: false as const, e })),
    ]);
    if (!result.ok) throw result.e;
    return result.v;
  }

  /** Graceful teardown of the current attempt: flows and main connection get FIN, bounded in time. */
  private async teardown(): Promise<void> {
    const stopping = this.stopRequested;
    if (stopping) this.setState('stopping');
    const deadline = Math.min(Date.now() + this.options.stopTimeoutMs, this.stopDeadline);
    if (!this.options.resumePositions) this.nextResume = this.receivedPositions();
    const main = this.mainChannel;
    this.mainChannel = null;
    const flows = this.flows;
    this.flows = [];
    for (const f of flows) f.stopAcks();
    const mainClosed = main ? closeGracefully(main.socket, deadline, true) : Promise.resolve();
    await Promise.all([mainClosed, ...flows.map((f) => f.close(deadline))]);
  }

  /** Positions from what was received, valid only if every flow reached stable sync. */
  private receivedPositions(): ResumePositions | null {
    const info = this.lastInfo;
    if (!info || this.flows.length !== info.flowCount) return null;
    const lsns = this.flows.map((f) => f.lsn.nextLsn);
    if (lsns.some((l) => l === null)) return null;
    return { masterId: info.masterId, nextLsns: lsns as number[] };
  }
}
