import { randomBytes } from 'node:crypto';
import { ClientConnection } from './client-connection';
import { commandKey } from './command-key';
import { MasterServer, type ListenOptions } from './master-server';
import {
  commandRecord,
  fullSyncEnd,
  journalBlob,
  journalOffset,
  journalRecord,
  lsnEntry,
  rdbEof,
  rdbHeader,
  selectDb,
  snapshotEntry,
} from './encoder';
import { FlowWriter } from './flow-writer';
import { JournalLog, type LoggedRecord } from './journal-log';
import { errorReply, infoServerReply, simpleReply } from './reply';
import { checkScript, toRdbValue, type CloseHow, type MasterScript, type ScriptCommand } from './script';

/**
 * A Dragonfly v1.40 master built from a script (script.ts): handshake, DFLY FLOW with the real
 * FULL/PARTIAL rules over a per-shard backlog ring, full sync (RDB header, dataset, journal history as
 * JOURNAL_BLOBs, FULLSYNC_END, JOURNAL_OFFSET, EOF + token), partial sync in v1.35+ framing (journal
 * only), stable journal with an LSN entry after the first record — plus the faults the script asks
 * for. Every connection the client opened is kept (commands, ACKs, FIN vs RST on close).
 */

export type FlowMode = 'FULL' | 'PARTIAL';

interface ScriptedFlow {
  conn: ClientConnection;
  mode: FlowMode;
  token: string;
  requestedLsn: number | null;
  writer: FlowWriter;
  stableRecords: number;
}

export interface ScriptedSession {
  syncId: string;
  /** 1-based, in the order the client opened sessions */
  number: number;
  main: ClientConnection;
  state: 'preparation' | 'full-sync' | 'stable' | 'cancelled';
  /** DFLY FLOW answers by flow id */
  modes: (FlowMode | undefined)[];
  /** LSN each flow's stable stream started at (JOURNAL_OFFSET or the partial LSN) */
  startLsns: (number | undefined)[];
}

const DEFAULT_DRAGONFLY_VERSION = 'df-v1.40.1';
const NOAUTH = 'NOAUTH Authentication required.';
const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';
const NOT_INTEGER = 'ERR value is not an integer or out of range';

const isUint = (s: string | undefined): boolean => s !== undefined && /^\d+$/.test(s);

export class ScriptedMaster {
  readonly sessions: ScriptedSession[] = [];
  readonly masterId: string;
  private readonly version: number;
  private readonly journals: JournalLog[];
  private readonly flows = new Map<ScriptedSession, Map<number, ScriptedFlow>>();
  private readonly authed = new Set<ClientConnection>();
  private readonly errorBudget: (number | undefined)[];
  private readonly server: MasterServer;
  private fullSyncJournalLogged = false;
  private stableJournalLogged = false;

  constructor(
    private readonly script: MasterScript,
    listen: ListenOptions = {},
  ) {
    const checked = checkScript(script);
    this.masterId = checked.masterId;
    this.version = checked.version;
    this.journals = Array.from({ length: script.flowCount }, () => new JournalLog(checked.backlogLen));
    this.errorBudget = (script.faults?.errorReplies ?? []).map((e) => e.times);
    this.server = new MasterServer(listen, {
      onCommand: (c, args) => this.onCommand(c, args),
      onClientGone: (c) => this.onClientGone(c),
    });
  }

  /** Every connection a client opened, in accept order (commands, ACKs, how it closed). */
  get connections(): ClientConnection[] {
    return this.server.connections;
  }

  start(): Promise<{ port: number }> {
    return this.server.start();
  }

  async stop(): Promise<void> {
    for (const flows of this.flows.values()) for (const f of flows.values()) f.writer.stop();
    await this.server.stop();
  }

  /** The LSN the next record of shard `flowId` will get. */
  nextLsn(flowId: number): number {
    return this.journal(flowId).nextLsn;
  }

  /** Journals a command on a shard now; streamed to a connected replica in full or stable sync. */
  write(flowId: number, command: ScriptCommand): void {
    this.live(flowId, this.journal(flowId).append(recordOf(command)));
  }

  /** Journals a PING (as `WAIT` does on v1.40): the replica should ACK at once. */
  ping(flowId: number): void {
    this.live(flowId, this.journal(flowId).append(journalRecord({ op: 'ping' })));
  }

  /** ACK values received on flow `flowId` (of one session, else of all). */
  ackValues(flowId: number, syncId?: string): number[] {
    return this.server.ackValues(flowId, syncId);
  }

  private journal(flowId: number): JournalLog {
    const journal = this.journals[flowId];
    if (!journal) throw new Error(`flow ${flowId} does not exist (the script has ${this.journals.length})`);
    return journal;
  }

  private onCommand(conn: ClientConnection, args: Buffer[]): void {
    const faults = this.script.faults ?? {};
    if (faults.silent) return;
    const key = commandKey(args);
    const text = args.map((a) => a.toString('utf8'));
    if (conn.role === 'flow' && key === 'REPLCONF ACK') return;
    if (key === 'AUTH') return conn.write(this.auth(conn, text));
    if (this.script.password !== undefined && !this.authed.has(conn)) return conn.write(errorReply(NOAUTH));
    const injected = this.injectedError(key);
    if (injected !== null) {
      if (key === 'DFLY FLOW') conn.role = 'flow';
      return conn.write(errorReply(injected));
    }
    if (faults.plainRedis) {
      if (key === 'PING') return conn.write(simpleReply('PONG'));
      if (key.startsWith('REPLCONF')) return conn.write(simpleReply('OK'));
      return conn.write(errorReply(`ERR unknown command '${text[0]}'`));
    }
    switch (key) {
      case 'PING':
        return conn.write(simpleReply('PONG'));
      case 'REPLCONF ACK':
        return;
      case 'REPLCONF LISTENING-PORT':
      case 'REPLCONF CLIENT-VERSION':
        return conn.write(isUint(text[2]) && text.length === 3 ? simpleReply('OK') : errorReply(NOT_INTEGER));
      case 'REPLCONF IP-ADDRESS':
      case 'REPLCONF CLIENT-ID':
        return conn.write(simpleReply('OK'));
      case 'REPLCONF CAPA':
        if (text.length === 3 && text[2]!.toLowerCase() === 'dragonfly')
          return conn.write(this.newSession(conn));
        return conn.write(text.length % 2 === 1 ? simpleReply('OK') : errorReply('ERR syntax error'));
      case 'DFLY FLOW':
        return conn.write(this.flow(conn, text));
      case 'DFLY SYNC':
        return this.sync(conn, text);
      case 'DFLY STARTSTABLE':
        return this.startStable(conn, text);
      case 'INFO':
        return conn.write(infoServerReply(this.script.dragonflyVersion ?? DEFAULT_DRAGONFLY_VERSION));
      default:
        if (key.startsWith('REPLCONF')) return conn.write(errorReply('ERR syntax error'));
        return conn.write(errorReply(`ERR unknown command '${text[0]}'`));
    }
  }

  private auth(conn: ClientConnection, text: string[]): Buffer {
    const { user, password } = this.script;
    if (password === undefined) {
      return errorReply('ERR AUTH <password> called without any password configured for the default user');
    }
    const [givenUser, givenPassword] = text.length === 3 ? [text[1], text[2]] : ['default', text[1]];
    if (givenUser !== (user ?? 'default') || givenPassword !== password) return errorReply(WRONGPASS);
    this.authed.add(conn);
    return simpleReply('OK');
  }

  private injectedError(key: string): string | null {
    const rules = this.script.faults?.errorReplies ?? [];
    const i = rules.findIndex(
      (r, n) =>
        commandKey(r.command.split(' ').map((w) => Buffer.from(w))) === key && this.errorBudget[n] !== 0,
    );
    if (i < 0) return null;
    if (this.errorBudget[i] !== undefined) this.errorBudget[i]!--;
    return rules[i]!.reply;
  }

  private newSession(conn: ClientConnection): Buffer {
    const number = this.sessions.length + 1;
    const session: ScriptedSession = {
      syncId: `SYNC${number}`,
      number,
      main: conn,
      state: 'preparation',
      modes: [],
      startLsns: [],
    };
    this.sessions.push(session);
    this.flows.set(session, new Map());
    conn.role = 'main';
    conn.session = session.syncId;
    const items = [
      `+${this.masterId}`,
      `+${session.syncId}`,
      `:${this.script.flowCount}`,
      `:${this.version}`,
    ];
    if (this.version >= 5) items.push(`+${this.masterId}`);
    return Buffer.from(`*${items.length}\r\n${items.join('\r\n')}\r\n`, 'latin1');
  }

  private findSession(syncId: string | undefined): ScriptedSession | string {
    if (!syncId || !/^SYNC\d+$/.test(syncId)) return 'ERR bad sync id';
    const session = this.sessions.find((s) => s.syncId === syncId);
    return session && session.state !== 'cancelled' ? session : 'ERR syncid not found';
  }

  private flow(conn: ClientConnection, text: string[]): Buffer {
    conn.role = 'flow';
    if (text.length < 5 || text.length > 7) return errorReply('ERR syntax error');
    const [, , masterId, syncId, flowText, lsnText] = text;
    if (masterId !== this.masterId) return errorReply('ERR bad master id');
    const session = this.findSession(syncId);
    if (typeof session === 'string') return errorReply(session);
    if (!isUint(flowText) || Number(flowText) >= this.script.flowCount) return errorReply(NOT_INTEGER);
    if (session.state !== 'preparation') return errorReply('ERR invalid state');
    if (text.length === 6 && !isUint(lsnText)) return errorReply(NOT_INTEGER);
    const flowId = Number(flowText);
    const requestedLsn = text.length === 6 ? Number(lsnText) : null;
    const forced = this.script.faults?.flowReplies?.[flowId];
    const mode: FlowMode =
      forced === 'FULL' || forced === 'PARTIAL'
        ? forced
        : requestedLsn !== null && this.journal(flowId).canServeFrom(requestedLsn)
          ? 'PARTIAL'
          : 'FULL';
    const faults = this.script.faults ?? {};
    const slow = faults.slowFlows?.find((f) => f.flowId === flowId);
    const stalled = faults.stalledFlows?.find((f) => f.flowId === flowId);
    const writer = new FlowWriter(conn, {
      trickle: slow && { bytesPerWrite: slow.bytesPerWrite, intervalMs: slow.intervalMs },
      stallAfterBytes: stalled?.afterBytes,
    });
    const token = randomBytes(20).toString('hex');
    this.flows.get(session)!.get(flowId)?.writer.stop();
    this.flows.get(session)!.set(flowId, { conn, mode, token, requestedLsn, writer, stableRecords: 0 });
    session.modes[flowId] = mode;
    conn.flowId = flowId;
    conn.session = session.syncId;
    return Buffer.from(`*2\r\n+${mode}\r\n+${token}\r\n`, 'latin1');
  }

  /** The session's flows if every flow registered with `mode`, else null. */
  private flowsIn(session: ScriptedSession, mode: FlowMode): Map<number, ScriptedFlow> | null {
    const flows = this.flows.get(session)!;
    if (flows.size !== this.script.flowCount) return null;
    return [...flows.values()].every((f) => f.mode === mode) ? flows : null;
  }

  private sync(conn: ClientConnection, text: string[]): void {
    const session = this.findSession(text[2]);
    if (typeof session === 'string') return conn.write(errorReply(session));
    const flows = this.flowsIn(session, 'FULL');
    if (session.state !== 'preparation' || !flows) return conn.write(errorReply('ERR invalid state'));
    session.state = 'full-sync';
    if (!this.fullSyncJournalLogged) {
      this.fullSyncJournalLogged = true;
      this.script.fullSyncJournal?.forEach((cmds, flowId) =>
        cmds.forEach((c) => this.journal(flowId).append(recordOf(c))),
      );
    }
    const fault = this.faultFor(session, 'rdb');
    for (const [flowId, flow] of flows) {
      const rdb = this.snapshot(flowId);
      if (fault?.flowId === flowId)
        flow.writer.cutAt(flow.writer.queued + Math.floor(rdb.length / 2), () =>
          this.breakSession(session, fault.how),
        );
      flow.writer.push(rdb);
    }
    conn.write(simpleReply('OK'));
  }

  /** RDB header, the shard's keys by db, its journal history as JOURNAL_BLOBs, FULLSYNC_END. */
  private snapshot(flowId: number): Buffer {
    const keys = this.script.dataset?.[flowId] ?? [];
    const parts = [
      rdbHeader({
        flowId,
        ctime: Math.floor(Date.now() / 1000),
        usedMem: 1 << 20,
        ...(flowId === 0 ? { shardCount: this.script.flowCount, tableMem: 1 << 16 } : {}),
      }),
    ];
    const dbs = [...new Set(keys.map((k) => k.db ?? 0))].sort((a, b) => a - b);
    for (const db of dbs) {
      parts.push(selectDb(db));
      for (const k of keys.filter((key) => (key.db ?? 0) === db)) {
        parts.push(
          snapshotEntry({ key: k.key, value: toRdbValue(k.value), expireAtMs: k.expireAtMs ?? null }),
        );
      }
    }
    for (const record of this.journal(flowId).history) parts.push(journalBlob(record.bytes));
    parts.push(fullSyncEnd());
    return Buffer.concat(parts);
  }

  private startStable(conn: ClientConnection, text: string[]): void {
    const session = this.findSession(text[2]);
    if (typeof session === 'string') return conn.write(errorReply(session));
    const full = session.state === 'full-sync' ? this.flowsIn(session, 'FULL') : null;
    const partial = session.state === 'preparation' ? this.flowsIn(session, 'PARTIAL') : null;
    const flows = full ?? partial;
    if (!flows) return conn.write(errorReply('ERR invalid state'));
    session.state = 'stable';
    const startLsns = new Map<number, number>();
    for (const [flowId, flow] of flows) {
      const next = this.journal(flowId).nextLsn;
      startLsns.set(flowId, flow.mode === 'PARTIAL' ? (flow.requestedLsn ?? next) : next);
      if (flow.mode === 'FULL') flow.writer.push(Buffer.concat([journalOffset(next), rdbEof(flow.token)]));
    }
    if (!this.stableJournalLogged) {
      this.stableJournalLogged = true;
      this.script.journal?.forEach((cmds, flowId) =>
        cmds.forEach((c) => this.journal(flowId).append(recordOf(c))),
      );
    }
    conn.write(simpleReply('OK'));
    const fault = this.faultFor(session, 'journal');
    for (const [flowId, flow] of flows) {
      const start = startLsns.get(flowId)!;
      session.startLsns[flowId] = start;
      const records = this.journal(flowId).from(start);
      if (fault?.flowId === flowId) {
        const keep = fault.afterRecords ?? Math.max(1, Math.floor(records.length / 2));
        const bytes =
          records.slice(0, keep).reduce((n, r) => n + r.bytes.length, 0) +
          (keep > 0 && records[0] ? lsnEntry(records[0].lsn).length : 0);
        flow.writer.cutAt(flow.writer.queued + bytes, () => this.breakSession(session, fault.how));
      }
      for (const record of records) this.sendStable(flow, record);
    }
  }

  private sendStable(flow: ScriptedFlow, record: LoggedRecord): void {
    flow.writer.push(record.bytes);
    if (flow.stableRecords++ === 0) flow.writer.push(lsnEntry(record.lsn));
  }

  /** A record journaled while a replica is connected: a blob during full sync, a record in stable sync. */
  private live(flowId: number, record: LoggedRecord): void {
    for (const session of this.sessions) {
      const flow = this.flows.get(session)!.get(flowId);
      if (!flow) continue;
      if (session.state === 'stable') this.sendStable(flow, record);
      else if (session.state === 'full-sync') flow.writer.push(journalBlob(record.bytes));
    }
  }

  private faultFor(
    session: ScriptedSession,
    phase: 'rdb' | 'journal',
  ): { flowId: number; how: CloseHow; afterRecords?: number } | null {
    const d = this.script.faults?.disconnect;
    if (!d || d.phase !== phase || session.number > (d.sessions ?? 1)) return null;
    return { flowId: d.flowId ?? 0, how: d.how, afterRecords: d.afterRecords };
  }

  /** The master drops the session: every connection closed with RST or FIN. */
  private breakSession(session: ScriptedSession, how: CloseHow): void {
    session.state = 'cancelled';
    const flows = [...this.flows.get(session)!.values()];
    for (const f of flows) f.writer.stop();
    for (const c of [...flows.map((f) => f.conn), session.main]) {
      if (how === 'rst') c.resetByMaster();
      else c.endByMaster();
    }
  }

  /** Like Dragonfly (spec 7.1): any connection of a session closing cancels it; the rest get FIN. */
  private onClientGone(conn: ClientConnection): void {
    const session = this.sessions.find(
      (s) => s.main === conn || [...this.flows.get(s)!.values()].some((f) => f.conn === conn),
    );
    if (!session || session.state === 'cancelled') {
      conn.endByMaster();
      return;
    }
    this.breakSession(session, 'fin');
  }
}

function recordOf(command: ScriptCommand): Buffer {
  return commandRecord(command.db ?? 0, command.args, command.txid ?? 0);
}
