import type * as net from 'node:net';
import { FlowStreamParser } from '../protocol/flow-parser';
import { ProtocolError } from '../protocol/errors';
import { describeReply, RespError } from '../protocol/resp';
import type { FlowItem, JournalRecord } from '../protocol/types';
import {
  closeGracefully,
  CommandChannel,
  DEFAULT_REPLY_TIMEOUT_MS,
  openSocket,
  type ConnectOptions,
} from './connection';
import { ReplicationError } from './errors';
import { authenticate, type MasterInfo } from './handshake';
import { LsnTracker } from './lsn-tracker';
import type { MasterAddress } from './master-address';

/** A flow item with the LSN it has in the shard's journal (null for snapshot items and blob records). */
export interface PositionedItem {
  item: FlowItem;
  lsn: number | null;
}

export interface FlowListener {
  onItems(flowId: number, items: PositionedItem[]): void;
  onFullSyncEnd(flowId: number): void;
  onFailure(flowId: number, error: Error): void;
}

export interface FlowOptions {
  flowId: number;
  address: MasterAddress;
  master: string;
  connect: ConnectOptions;
  info: MasterInfo;
  /** partial sync: the next LSN wanted on this flow; null asks for a full sync */
  requestLsn: number | null;
  ackIntervalMs: number;
  /** the ACK value; defaults to the next LSN after what was received */
  ackPosition?: (flowId: number) => number | null;
  /** while reading is paused, raw bytes still taken off the socket (queued unparsed) up to this many */
  readAheadBytes?: number;
}

/** Default of FlowOptions.readAheadBytes. */
export const DEFAULT_READ_AHEAD_BYTES = 64 * 1024 * 1024;
/** The most raw bytes one forced read parses at a time (see forceRead). */
const FORCED_READ_PIECE_BYTES = 16 * 1024;

export type FlowSyncMode = 'FULL' | 'PARTIAL';

const FLUSH_COMMANDS = new Set(['FLUSHALL', 'FLUSHDB']);

function isFlush(record: JournalRecord): boolean {
  return 'args' in record && FLUSH_COMMANDS.has(record.args[0]?.toString('latin1').toUpperCase() ?? '');
}

/** Records between ACKs that force an early ACK, like the C++ replica (spec 6). */
const ACK_EVERY_RECORDS = 1024;

export interface FlowCounters {
  bytes: number;
  entries: number;
  journalRecords: number;
  lastDataAt: number;
}

/**
 * One FLOW connection (spec 2): AUTH, `DFLY FLOW`, then the flow's byte stream through the parser,
 * LSN bookkeeping, and `REPLCONF ACK`s in stable sync. Reading pauses only when the session's owner
 * asks (a full sync read at Kafka's pace); how long the socket has gone unread is tracked, because the
 * master drops a replica whose writes do not complete for its replication_timeout.
 */
export class FlowConnection {
  readonly counters: FlowCounters = { bytes: 0, entries: 0, journalRecords: 0, lastDataAt: 0 };
  readonly lsn: LsnTracker;
  private socket: net.Socket | null = null;
  private parser: FlowStreamParser | null = null;
  private ackTimer: NodeJS.Timeout | null = null;
  private recordsSinceAck = 0;
  private acking = false;
  private stopping = false;
  private failed = false;
  /** when reading was paused (epoch ms); null while reading */
  private pausedAt: number | null = null;
  /**
   * Raw bytes taken off the socket while reading is paused, not parsed yet: the master's writes keep
   * completing (its snapshot arrives compressed, so a little wire data is a lot of events). The
   * socket itself stops only when this holds readAheadBytes.
   */
  private readonly rawQueue: Buffer[] = [];
  private rawBytes = 0;
  /** when the socket was stopped because rawQueue is full (epoch ms); null while it is read */
  private socketStoppedAt: number | null = null;
  private draining = false;
  mode: FlowSyncMode | null = null;

  constructor(
    private readonly options: FlowOptions,
    private readonly listener: FlowListener,
  ) {
    this.lsn = new LsnTracker(options.master, options.flowId);
  }

  get flowId(): number {
    return this.options.flowId;
  }

  /** Connects and registers the flow; resolves with the master's FULL/PARTIAL answer. */
  async open(): Promise<FlowSyncMode> {
    const { address, info, flowId, master, requestLsn } = this.options;
    const socket = await openSocket(address, this.options.connect);
    if (this.stopping) {
      // closed while connecting: nobody will close this socket later
      socket.destroy();
      throw new ReplicationError({ master, flowId, message: 'connected after the flow was closed' });
    }
    this.socket = socket;
    const channel = new CommandChannel(
      socket,
      master,
      this.options.connect.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
      flowId,
    );
    await authenticate(channel, { user: address.user, password: address.password, master });
    const args = ['DFLY', 'FLOW', info.masterId, info.syncId, String(flowId)];
    if (requestLsn !== null) args.push(String(requestLsn));
    const reply = await channel.call(args);
    if (reply instanceof RespError) {
      throw new ReplicationError({ master, flowId, message: `DFLY FLOW failed: ${reply.message}` });
    }
    const mode = Array.isArray(reply) ? reply[0] : undefined;
    const token = Array.isArray(reply) ? reply[1] : undefined;
    if ((mode !== 'FULL' && mode !== 'PARTIAL') || typeof token !== 'string' || token.length !== 40) {
      throw new ReplicationError({
        master,
        flowId,
        message: `DFLY FLOW answered ${describeReply(reply)}, expected [FULL|PARTIAL, <40-char token>]`,
      });
    }
    this.mode = mode;
    if (mode === 'PARTIAL' && requestLsn !== null) this.lsn.start(requestLsn);
    this.parser = new FlowStreamParser({
      flowId,
      start: mode === 'FULL' ? 'rdb' : 'journal',
      eofToken: token,
    });
    const { rest } = channel.release();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) =>
      this.fail(new ReplicationError({ master, flowId, message: `socket error: ${err.message}` })),
    );
    socket.on('close', () => {
      if (!this.stopping)
        this.fail(new ReplicationError({ master, flowId, message: 'the master closed the flow' }));
    });
    if (rest.length > 0) this.onData(rest);
    return mode;
  }

  private get readAheadLimit(): number {
    return this.options.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES;
  }

  /**
   * Stops parsing (back-pressure during a full sync): what arrives goes raw into the read-ahead queue,
   * and the socket (so the master's writes) stops only once that queue holds readAheadBytes.
   */
  pauseReading(nowMs: number): void {
    if (this.pausedAt !== null || this.stopping) return;
    this.pausedAt = nowMs;
    this.stopSocketIfFull(nowMs);
  }

  /** Parses the queued raw bytes (until paused again), then reads the socket again. */
  resumeReading(): void {
    if (this.pausedAt === null) return;
    this.pausedAt = null;
    this.drain(() => this.pausedAt === null, Infinity);
  }

  /** Reading is paused by the owner (the socket may still be read into the read-ahead queue). */
  get readingPaused(): boolean {
    return this.pausedAt !== null;
  }

  /** Raw bytes read ahead and not parsed yet. */
  get readAheadBytes(): number {
    return this.rawBytes;
  }

  /** How long the socket has gone unread (the read-ahead queue full while paused; 0 while read). */
  unreadForMs(nowMs: number): number {
    return this.socketStoppedAt === null ? 0 : nowMs - this.socketStoppedAt;
  }

  /**
   * While paused: parses some queued raw bytes anyway (at least one piece of at most 16 KiB, more
   * while `more()` says so), so the socket is read again before the master's write times out.
   * Returns the raw bytes parsed.
   */
  forceRead(more: () => boolean): number {
    if (this.rawBytes === 0) return 0;
    return this.drain(() => this.rawBytes >= this.readAheadLimit || more(), FORCED_READ_PIECE_BYTES);
  }

  private drain(more: () => boolean, pieceBytes: number): number {
    if (this.draining) return 0;
    this.draining = true;
    let parsed = 0;
    try {
      let first = true;
      while (this.rawQueue.length > 0 && !this.failed && (first || more())) {
        first = false;
        const head = this.rawQueue[0]!;
        const piece = head.length <= pieceBytes ? head : head.subarray(0, pieceBytes);
        if (piece === head) this.rawQueue.shift();
        else this.rawQueue[0] = head.subarray(pieceBytes);
        this.rawBytes -= piece.length;
        parsed += piece.length;
        this.parse(piece);
      }
    } finally {
      this.draining = false;
    }
    if (this.socketStoppedAt !== null && this.rawBytes < this.readAheadLimit) {
      this.socketStoppedAt = null;
      this.socket?.resume();
    }
    return parsed;
  }

  private stopSocketIfFull(nowMs: number): void {
    if (this.socketStoppedAt !== null || this.rawBytes < this.readAheadLimit) return;
    this.socketStoppedAt = nowMs;
    this.socket?.pause();
  }

  /** Stable sync began (STARTSTABLE answered): ACK now, then on the interval (spec 6). */
  startAcks(): void {
    this.acking = true;
    this.sendAck();
    this.ackTimer = setInterval(() => this.sendAck(), this.options.ackIntervalMs);
    this.ackTimer.unref();
  }

  /** The ACK value: what the consumer has made durable (when it says), else what we received. */
  ackValue(): number | null {
    return this.options.ackPosition ? this.options.ackPosition(this.flowId) : this.lsn.nextLsn;
  }

  private sendAck(): void {
    if (!this.acking || !this.socket || this.socket.destroyed) return;
    const value = this.ackValue();
    if (value === null) return;
    this.recordsSinceAck = 0;
    this.socket.write(`*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$${String(value).length}\r\n${value}\r\n`);
  }

  private onData(chunk: Buffer): void {
    if (this.failed || !this.parser) return;
    this.counters.bytes += chunk.length;
    const now = Date.now();
    this.counters.lastDataAt = now;
    if (this.pausedAt !== null || this.rawQueue.length > 0) {
      this.rawQueue.push(chunk);
      this.rawBytes += chunk.length;
      if (this.pausedAt !== null) this.stopSocketIfFull(now);
      else this.drain(() => this.pausedAt === null, Infinity);
      return;
    }
    this.parse(chunk);
  }

  private parse(chunk: Buffer): void {
    if (this.failed || !this.parser) return;
    let items: FlowItem[];
    try {
      items = this.parser.feed(chunk);
    } catch (e) {
      this.fail(e instanceof ProtocolError ? e.withFlow(this.flowId) : (e as Error));
      return;
    }
    if (items.length === 0) return;
    const positioned: PositionedItem[] = [];
    let fullSyncEnd = false;
    let ackNow = false;
    try {
      for (const item of items) {
        let lsn: number | null = null;
        switch (item.kind) {
          case 'entry':
            this.counters.entries++;
            break;
          case 'journal':
            this.counters.journalRecords++;
            if (item.inSnapshot && isFlush(item.record)) {
              throw new ReplicationError({
                master: this.options.master,
                flowId: this.flowId,
                message: 'a FLUSH arrived during the full sync (the snapshot still holds flushed keys)',
                hint: 'starting the full sync over, as Dragonfly replicas do (spec 3.7)',
              });
            }
            if (!item.inSnapshot) {
              lsn = this.lsn.takeRecord();
              this.recordsSinceAck++;
              if (item.record.op === 'ping') ackNow = true;
            }
            break;
          case 'lsn':
            this.lsn.checkLsnEntry(item.lsn);
            break;
          case 'journalOffset':
            this.lsn.start(item.lsn);
            break;
          case 'fullSyncEnd':
            fullSyncEnd = true;
            break;
          default:
            break;
        }
        positioned.push({ item, lsn });
      }
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.listener.onItems(this.flowId, positioned);
    if (fullSyncEnd) this.listener.onFullSyncEnd(this.flowId);
    if (ackNow || this.recordsSinceAck > ACK_EVERY_RECORDS) this.sendAck();
  }

  private fail(error: Error): void {
    if (this.failed || this.stopping) return;
    this.failed = true;
    this.stopAcks();
    this.listener.onFailure(this.flowId, error);
  }

  stopAcks(): void {
    this.acking = false;
    if (this.ackTimer) clearInterval(this.ackTimer);
    this.ackTimer = null;
  }

  /**
   * Graceful close: no more ACKs, half-close (FIN), keep reading until the master closes its side,
   * then destroy. Bounded by `deadline` (epoch ms); never an RST while the master may be writing.
   */
  async close(deadline: number): Promise<void> {
    // what was read ahead is not wanted any more (the session ends): drop it rather than parse it
    this.rawQueue.length = 0;
    this.rawBytes = 0;
    this.resumeReading();
    if (this.socketStoppedAt !== null) this.socket?.resume();
    this.socketStoppedAt = null;
    this.stopping = true;
    this.stopAcks();
    if (this.socket) await closeGracefully(this.socket, deadline, false);
  }

  /** Immediate close after a failure elsewhere (the session is being torn down anyway). */
  destroy(): void {
    this.stopping = true;
    this.rawQueue.length = 0;
    this.rawBytes = 0;
    this.stopAcks();
    this.socket?.destroy();
  }
}
