import { commandText } from '../protocol/resp-commands';
import { readCaptureSessions, type CaptureSession, type Exchange } from '../capture/session';
import { ClientConnection, type ConnectionRole } from './client-connection';
import { commandKey } from './command-key';
import { MasterServer } from './master-server';
import { planSession, type SessionPlan } from './replay-plan';
import { encodeReply, errorReply, infoServerReply } from './reply';

/**
 * A stand-in for a Dragonfly master that replays real recorded sessions (shared/fixtures) byte for
 * byte. Main connection: each command is answered with the recorded reply of the matching recorded
 * exchange; flows get their recorded bytes with the recorded chunk boundaries, in the recorded order
 * relative to the replica's commands on the main connection (see replay-plan.ts). A session that is not
 * the last one in the capture is reset (RST) after its bytes were sent, as the recording proxy did;
 * the replica must reconnect and gets the next recorded session. The last one stays open until stop().
 * Every deviation of the client from the recording is kept in `mismatches`.
 */

export interface ReplayMasterOptions {
  capturePath?: string;
  sessions?: CaptureSession[];
  host?: string;
  /** 0 = any free port */
  port?: number;
  /** when set, recorded gaps between flow chunks are kept, divided by this factor; else no waiting */
  speed?: number;
  /** pause after the last bytes of a session before its connections are reset (lets them arrive) */
  endGraceMs?: number;
  /**
   * The release INFO server answers with ("df-v1.40.1", a fixture's meta.json dragonflyVersion) when
   * the recording holds no INFO exchange (the recorded replica did not ask); without it INFO gets an
   * error reply
   */
  dragonflyVersion?: string;
}

export interface Mismatch {
  session: string | null;
  connection: number;
  role: ConnectionRole;
  flowId: number | null;
  message: string;
}

export interface LoggedExchange {
  session: string | null;
  connection: number;
  role: ConnectionRole;
  flowId: number | null;
  command: string;
  reply: string | null;
}

/** Values that legitimately differ between our replica and the recorded one. */
const FREE_VALUE_KEYS = new Set([
  'REPLCONF LISTENING-PORT',
  'REPLCONF CLIENT-ID',
  'REPLCONF IP-ADDRESS',
  'REPLCONF ACK',
]);

function sameCommand(expected: Buffer[], got: Buffer[]): boolean {
  const key = commandKey(expected);
  if (key !== commandKey(got) || expected.length !== got.length) return false;
  if (FREE_VALUE_KEYS.has(key)) return true;
  const caseSensitive = key === 'AUTH';
  return expected.every((arg, i) => {
    const a = arg.toString('latin1');
    const b = got[i]!.toString('latin1');
    return caseSensitive && i > 0 ? a === b : a.toUpperCase() === b.toUpperCase();
  });
}

function replyText(exchange: Exchange): string | null {
  return exchange.reply ? encodeReply(exchange.reply.value).toString('latin1').trimEnd() : null;
}

type MainQueueItem = { exchange: number } | { bytes: Buffer };

class SessionReplay {
  main: ClientConnection | null = null;
  /** recorded main-connection commands matched so far */
  mainMatched = 0;
  readonly mainQueue: MainQueueItem[] = [];
  readonly flowConns = new Map<number, ClientConnection>();
  readonly written = new Map<number, number>();
  startedAt = 0;
  complete = false;
  ended = false;
  timer: NodeJS.Timeout | null = null;
  readonly served: Promise<void>;
  markServed!: () => void;

  constructor(
    readonly plan: SessionPlan,
    readonly isLast: boolean,
  ) {
    this.served = new Promise((resolve) => (this.markServed = resolve));
  }

  get syncId(): string {
    return this.plan.session.syncId;
  }

  connections(): ClientConnection[] {
    return [...this.flowConns.values(), ...(this.main ? [this.main] : [])];
  }
}

export class ReplayMaster {
  readonly mismatches: Mismatch[] = [];
  readonly exchanges: LoggedExchange[] = [];
  private readonly server: MasterServer;
  private readonly replays: SessionReplay[];
  private active = 0;
  private readonly options: ReplayMasterOptions;

  constructor(options: ReplayMasterOptions) {
    this.options = options;
    const sessions =
      options.sessions ?? (options.capturePath ? readCaptureSessions(options.capturePath).sessions : []);
    if (sessions.length === 0) {
      throw new Error(
        options.capturePath
          ? `the capture ${options.capturePath} holds no replication session to replay`
          : 'ReplayMaster needs capturePath or sessions',
      );
    }
    this.replays = sessions.map((s, i) => new SessionReplay(planSession(s), i === sessions.length - 1));
    this.server = new MasterServer(options, {
      onCommand: (c, args) => this.onCommand(c, args),
      onClientGone: (c) => this.onClientGone(c),
    });
  }

  /** Every connection a client opened, in accept order. */
  get connections(): ClientConnection[] {
    return this.server.connections;
  }

  start(): Promise<{ port: number }> {
    return this.server.start();
  }

  async stop(): Promise<void> {
    for (const r of this.replays) if (r.timer) clearTimeout(r.timer);
    await this.server.stop();
  }

  /** The sessions in capture order (sync ids). */
  get sessionIds(): string[] {
    return this.replays.map((r) => r.syncId);
  }

  /** Resolves when every recorded byte and reply of session `index` was written. */
  sessionServed(index: number): Promise<void> {
    const replay = this.replays[index];
    if (!replay)
      return Promise.reject(new Error(`the capture has ${this.replays.length} sessions, not ${index + 1}`));
    return replay.served;
  }

  /** ACK values the client sent on flow `flowId` (of the given session, else of every session). */
  ackValues(flowId: number, syncId?: string): number[] {
    return this.server.ackValues(flowId, syncId);
  }

  private mismatch(conn: ClientConnection, message: string): void {
    this.mismatches.push({
      session: conn.session,
      connection: conn.id,
      role: conn.role,
      flowId: conn.flowId,
      message,
    });
  }

  private log(conn: ClientConnection, args: Buffer[], reply: string | null): void {
    this.exchanges.push({
      session: conn.session,
      connection: conn.id,
      role: conn.role,
      flowId: conn.flowId,
      command: commandText(args),
      reply,
    });
  }

  private get current(): SessionReplay {
    return this.replays[this.active]!;
  }

  private onCommand(conn: ClientConnection, args: Buffer[]): void {
    const key = commandKey(args);
    if (conn.role === 'unknown' && key === 'AUTH') return this.onEarlyAuth(conn, args);
    if (conn.role === 'unknown') {
      if (key === 'DFLY FLOW') return this.onFlow(conn, args);
      this.attachMain(conn);
    }
    if (conn.role === 'flow') return this.onFlowCommand(conn, args);
    const replay = this.replays.find((r) => r.main === conn);
    if (!replay) {
      this.log(conn, args, null);
      this.mismatch(conn, `"${commandText(args)}" on a main connection the recording has no session for`);
      conn.write(errorReply('ERR test master: the recording has no further session'));
      return;
    }
    this.onMainCommand(replay, conn, args);
  }

  /** AUTH before the connection said what it is: answered with the recorded AUTH reply of this session. */
  private onEarlyAuth(conn: ClientConnection, args: Buffer[]): void {
    const { session } = this.current.plan;
    const recorded = [session.main.exchanges[0], ...session.flows.map((f) => f.handshake[0])].find(
      (e) => e && commandKey(e.command.args) === 'AUTH',
    );
    let reply: Buffer;
    if (!recorded) {
      this.mismatch(conn, 'AUTH sent, but the recorded replica did not authenticate');
      reply = errorReply('ERR AUTH <password> called without any password configured for the default user');
    } else if (!sameCommand(recorded.command.args, args)) {
      this.mismatch(conn, 'AUTH with other credentials than the recorded replica');
      reply = errorReply('WRONGPASS invalid username-password pair or user is disabled.');
    } else {
      reply = encodeReply(recorded.reply!.value);
    }
    this.log(conn, args, reply.toString('latin1').trimEnd());
    conn.write(reply);
  }

  private attachMain(conn: ClientConnection): void {
    conn.role = 'main';
    let replay = this.current;
    if (replay.main) {
      if (replay.isLast) return;
      if (!replay.ended) {
        this.mismatch(
          conn,
          `a new main connection while recorded session ${replay.syncId} was still being served`,
        );
        this.endSession(replay);
      }
      this.active++;
      replay = this.current;
    }
    replay.main = conn;
    replay.startedAt = Date.now();
    conn.session = replay.syncId;
    const first = replay.plan.main[0];
    const authed = conn.commands.some((c) => commandKey(c.args) === 'AUTH');
    if (first?.key === 'AUTH' && authed) replay.mainMatched = 1;
  }

  private onMainCommand(replay: SessionReplay, conn: ClientConnection, args: Buffer[]): void {
    const expected = replay.plan.main[replay.mainMatched];
    if (commandKey(args) === 'INFO' && !(expected && sameCommand(expected.exchange.command.args, args))) {
      return this.answerInfo(replay, conn, args);
    }
    if (expected && sameCommand(expected.exchange.command.args, args)) {
      const index = replay.mainMatched++;
      this.log(conn, args, replyText(expected.exchange));
      if (expected.exchange.reply) replay.mainQueue.push({ exchange: index });
    } else {
      const wanted = expected ? `"${commandText(expected.exchange.command.args)}"` : 'no further command';
      const message = `expected ${wanted}, got "${commandText(args)}"`;
      this.mismatch(conn, message);
      this.log(conn, args, `-ERR test master: ${message}`);
      if (commandKey(args) !== 'REPLCONF ACK')
        replay.mainQueue.push({ bytes: errorReply(`ERR test master: ${message}`) });
    }
    this.pump(replay);
  }

  /** INFO the recorded replica did not send: answered from the configured release, in order. */
  private answerInfo(replay: SessionReplay, conn: ClientConnection, args: Buffer[]): void {
    const version = this.options.dragonflyVersion;
    const reply = version
      ? infoServerReply(version)
      : errorReply(
          'ERR test master: the recording holds no INFO reply and no dragonflyVersion was configured',
        );
    this.log(conn, args, reply.toString('latin1').trimEnd());
    replay.mainQueue.push({ bytes: reply });
    this.pump(replay);
  }

  private onFlow(conn: ClientConnection, args: Buffer[]): void {
    conn.role = 'flow';
    const replay = this.current;
    const session = replay.plan.session;
    const reject = (message: string, reply: string): void => {
      this.mismatch(conn, message);
      this.log(conn, args, `-${reply}`);
      conn.write(errorReply(reply));
    };
    const text = args.map((a) => a.toString('latin1'));
    const [, , masterId, syncId, flowText] = text;
    conn.session = syncId ?? null;
    if (syncId !== session.syncId)
      return reject(
        `DFLY FLOW for ${syncId}, the recording serves ${session.syncId}`,
        'ERR syncid not found',
      );
    if (masterId !== session.masterId)
      return reject(`DFLY FLOW with master id ${masterId}`, 'ERR bad master id');
    const flowId = Number(flowText);
    const planned = replay.plan.flows.get(flowId);
    if (!planned)
      return reject(
        `DFLY FLOW for flow ${flowText}, not in the recording`,
        'ERR value is not an integer or out of range',
      );
    conn.flowId = flowId;
    if (replay.flowConns.has(flowId))
      return reject(`a second DFLY FLOW for flow ${flowId}`, 'ERR test master: flow already registered');
    const recorded = planned.flow;
    const recordedArgs = recorded.handshake[recorded.handshake.length - 1]!.command.args;
    const wantedTail = commandText(recordedArgs.slice(5));
    const gotTail = text.slice(5).join(' ');
    if (wantedTail !== gotTail) {
      const message = `flow ${flowId} asked for "${gotTail || 'no LSN'}", the recorded replica for "${wantedTail || 'no LSN'}"`;
      if (recorded.reply?.mode === 'PARTIAL') return reject(message, `ERR test master: ${message}`);
      this.mismatch(conn, message);
    }
    const recordedAuth = recorded.handshake.some((e) => commandKey(e.command.args) === 'AUTH');
    const authed = conn.commands.some((c) => commandKey(c.args) === 'AUTH');
    if (recordedAuth && !authed)
      return reject(`flow ${flowId} did not authenticate`, 'NOAUTH Authentication required.');
    const exchange = recorded.handshake[recorded.handshake.length - 1]!;
    replay.flowConns.set(flowId, conn);
    replay.written.set(flowId, 0);
    this.log(conn, args, replyText(exchange));
    conn.write(encodeReply(exchange.reply!.value));
    this.pump(replay);
  }

  private onFlowCommand(conn: ClientConnection, args: Buffer[]): void {
    this.log(conn, args, null);
    if (commandKey(args) !== 'REPLCONF ACK') {
      this.mismatch(
        conn,
        `"${commandText(args)}" on flow ${conn.flowId}: only REPLCONF ACK may follow DFLY FLOW`,
      );
    }
  }

  /** Writes whatever the recorded order allows now, on every flow and the main connection. */
  private pump(replay: SessionReplay): void {
    if (replay.ended) return;
    const speed = this.options.speed;
    let wakeAt = Infinity;
    for (const [flowId, conn] of replay.flowConns) {
      const chunks = replay.plan.flows.get(flowId)!.chunks;
      let n = replay.written.get(flowId)!;
      while (n < chunks.length && chunks[n]!.gate <= replay.mainMatched) {
        if (speed) {
          const due = replay.startedAt + (chunks[n]!.micros - replay.plan.startMicros) / 1000 / speed;
          if (due > Date.now()) {
            wakeAt = Math.min(wakeAt, due);
            break;
          }
        }
        conn.write(chunks[n]!.bytes);
        n++;
      }
      replay.written.set(flowId, n);
    }
    while (replay.mainQueue.length > 0 && replay.main) {
      const head = replay.mainQueue[0]!;
      if ('bytes' in head) {
        replay.main.write(head.bytes);
      } else {
        const planned = replay.plan.main[head.exchange]!;
        const ready = [...planned.chunksBefore].every(
          ([flowId, need]) => (replay.written.get(flowId) ?? 0) >= need,
        );
        if (!ready) break;
        replay.main.write(encodeReply(planned.exchange.reply!.value));
      }
      replay.mainQueue.shift();
    }
    if (wakeAt < Infinity && !replay.timer) {
      replay.timer = setTimeout(() => {
        replay.timer = null;
        this.pump(replay);
      }, wakeAt - Date.now());
    }
    this.checkServed(replay);
  }

  private checkServed(replay: SessionReplay): void {
    if (replay.complete) return;
    const flowsDone = [...replay.plan.flows].every(
      ([flowId, planned]) =>
        replay.flowConns.has(flowId) && replay.written.get(flowId) === planned.chunks.length,
    );
    if (!flowsDone || replay.mainMatched < replay.plan.main.length || replay.mainQueue.length > 0) return;
    replay.complete = true;
    replay.markServed();
    if (!replay.isLast) void this.resetAfterFlush(replay);
  }

  /** Ends a served session the way the recording did: RST on every connection once its bytes are out. */
  private async resetAfterFlush(replay: SessionReplay): Promise<void> {
    await Promise.all(replay.connections().map((c) => c.flushed()));
    await new Promise((resolve) => setTimeout(resolve, this.options.endGraceMs ?? 100));
    this.endSession(replay);
  }

  private endSession(replay: SessionReplay): void {
    if (replay.ended) return;
    replay.ended = true;
    if (replay.timer) clearTimeout(replay.timer);
    for (const conn of replay.flowConns.values()) conn.resetByMaster();
    replay.main?.resetByMaster();
  }

  /** The client closed one connection of a session: like Dragonfly, cancel the session (FIN on the rest). */
  private onClientGone(conn: ClientConnection): void {
    const replay = this.replays.find((r) => r.main === conn || [...r.flowConns.values()].includes(conn));
    if (!replay || replay.ended) {
      conn.endByMaster();
      return;
    }
    if (!replay.complete && !replay.isLast) {
      this.mismatch(
        conn,
        `the client closed a connection before recorded session ${replay.syncId} was served`,
      );
    }
    replay.ended = true;
    if (replay.timer) clearTimeout(replay.timer);
    for (const c of replay.connections()) c.endByMaster();
  }
}
