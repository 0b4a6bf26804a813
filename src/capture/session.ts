import { CaptureDirection, CaptureRecord, readCaptureFile } from './dfcap';
import { describeReply, RespError, RespReader, type RespValue } from '../protocol/resp';
import { CommandReader, commandText } from '../protocol/resp-commands';

/**
 * Splits a recorded capture into replication sessions (spec sections 1-3). A session is named by the
 * sync id the master returned for `REPLCONF capa dragonfly` on a main connection; its flows are the
 * connections whose `DFLY FLOW` names that sync id. A capture can hold several sessions (a reconnect
 * with partial sync, a refused partial sync followed by a new full sync).
 *
 * Every command, reply and chunk keeps its capture time (`micros`) and its index in the capture's
 * record list, so callers can replay flow bytes relative to the replica's commands.
 */

export interface TimedCommand {
  args: Buffer[];
  micros: number;
  recordIndex: number;
}

export interface TimedReply {
  value: RespValue;
  micros: number;
  recordIndex: number;
}

export interface Exchange {
  command: TimedCommand;
  /** null when the master never answered (or the command gets no reply, like REPLCONF ACK) */
  reply: TimedReply | null;
}

/** Master → replica bytes exactly as one read() returned them. */
export interface StreamChunk {
  bytes: Buffer;
  micros: number;
  recordIndex: number;
}

export interface MainConnection {
  connection: number;
  exchanges: Exchange[];
  closedMicros: number | null;
}

export type FlowReply = { mode: 'FULL' | 'PARTIAL'; eofToken: string } | { mode: 'error'; message: string };

export interface CaptureFlow {
  flowId: number;
  connection: number;
  /** `DFLY FLOW <master> <sync> <flow> <lsn>`: the next LSN the replica asked for, else null */
  requestedLsn: number | null;
  /** the VER5 form `... <last_master_id> <lsn0>-<lsn1>-...`, else null */
  failover: { lastMasterId: string; lsns: number[] } | null;
  /** everything the replica sent up to and including DFLY FLOW (e.g. AUTH), with the replies */
  handshake: Exchange[];
  reply: FlowReply | null;
  /** the flow stream: master → replica bytes after the FLOW reply, in order */
  stream: StreamChunk[];
  /** replica → master commands after DFLY FLOW (REPLCONF ACK ...) */
  replicaCommands: TimedCommand[];
  closedMicros: number | null;
}

export interface CaptureSession {
  syncId: string;
  masterId: string;
  flowCount: number;
  /** the master's DflyVersion integer (4th element of the capa reply), null on very old masters */
  masterVersion: number | null;
  lineageId: string | null;
  main: MainConnection;
  /** ordered by flow id */
  flows: CaptureFlow[];
  /** all flows FULL, all PARTIAL, or anything else (a session the replica could not use) */
  kind: 'full' | 'partial' | 'unusable';
}

export class CaptureSessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureSessionError';
  }
}

interface IndexedRecord {
  record: CaptureRecord;
  index: number;
}

function isCommand(args: Buffer[], ...words: string[]): boolean {
  return words.every((w, i) => args[i]?.toString('latin1').toUpperCase() === w);
}

/** Commands a Dragonfly master never answers (an answer would corrupt the flow stream). */
function expectsReply(args: Buffer[]): boolean {
  return !isCommand(args, 'REPLCONF', 'ACK');
}

/** Error messages of the RESP readers, with the connection they came from. */
function sessionError(connection: number, what: string, e: unknown): CaptureSessionError {
  return new CaptureSessionError(`connection ${connection}: ${what}: ${(e as Error).message}`);
}

function readCommands(connection: number, records: IndexedRecord[]): TimedCommand[] {
  const commands: TimedCommand[] = [];
  const reader = new CommandReader();
  for (const { record, index } of records) {
    if (record.direction !== CaptureDirection.ReplicaToMaster) continue;
    let complete: Buffer[][];
    try {
      complete = reader.feed(record.payload);
    } catch (e) {
      throw sessionError(connection, 'bad command from the replica', e);
    }
    for (const args of complete) commands.push({ args, micros: record.micros, recordIndex: index });
  }
  if (reader.buffered > 0 && commands.length === 0) {
    throw new CaptureSessionError(`connection ${connection}: the replica's bytes hold no complete command`);
  }
  return commands;
}

/**
 * Pairs replies with the commands that expect one, in order. Returns the paired exchanges and the
 * master → replica bytes that follow the last expected reply (the flow stream, on a flow connection).
 */
function readReplies(
  connection: number,
  records: IndexedRecord[],
  commands: TimedCommand[],
): { exchanges: Exchange[]; rest: StreamChunk[] } {
  const exchanges: Exchange[] = commands.map((command) => ({ command, reply: null }));
  const waiting = exchanges.filter((e) => expectsReply(e.command.args));
  const rest: StreamChunk[] = [];
  const reader = new RespReader();
  for (const { record, index } of records) {
    if (record.direction !== CaptureDirection.MasterToReplica) continue;
    if (waiting.length === 0) {
      rest.push({ bytes: record.payload, micros: record.micros, recordIndex: index });
      continue;
    }
    reader.feed(record.payload);
    while (waiting.length > 0) {
      let value: RespValue | undefined;
      try {
        value = reader.next();
      } catch (e) {
        throw sessionError(connection, 'bad reply from the master', e);
      }
      if (value === undefined) break;
      waiting.shift()!.reply = { value, micros: record.micros, recordIndex: index };
    }
    if (waiting.length === 0) {
      const after = reader.takeRest();
      if (after.length > 0) rest.push({ bytes: after, micros: record.micros, recordIndex: index });
    }
  }
  return { exchanges, rest };
}

function closedAt(records: IndexedRecord[]): number | null {
  const closed = records.find((r) => r.record.direction === CaptureDirection.Closed);
  return closed ? closed.record.micros : null;
}

/** A simple string or an error's text, else null. */
function text(v: RespValue | undefined): string | null {
  if (typeof v === 'string') return v;
  return v instanceof RespError ? v.message : null;
}

function decimal(arg: Buffer, what: string, connection: number): number {
  const s = arg.toString('latin1');
  if (!/^\d+$/.test(s))
    throw new CaptureSessionError(`connection ${connection}: ${what} "${s}" is not a number`);
  return Number(s);
}

function parseFlowReply(reply: TimedReply | null): FlowReply | null {
  if (!reply) return null;
  const v = reply.value;
  if (v instanceof RespError) return { mode: 'error', message: v.message };
  if (Array.isArray(v) && v.length === 2) {
    const mode = text(v[0]);
    const token = text(v[1]);
    if ((mode === 'FULL' || mode === 'PARTIAL') && token !== null) return { mode, eofToken: token };
  }
  return { mode: 'error', message: `unexpected reply to DFLY FLOW: ${describeReply(v)}` };
}

interface FlowConnection {
  syncId: string;
  masterId: string;
  flow: CaptureFlow;
}

function readFlowConnection(
  connection: number,
  records: IndexedRecord[],
  commands: TimedCommand[],
): FlowConnection {
  const flowAt = commands.findIndex((c) => isCommand(c.args, 'DFLY', 'FLOW'));
  const flowCommand = commands[flowAt]!;
  const args = flowCommand.args;
  if (args.length < 5 || args.length > 7) {
    throw new CaptureSessionError(`connection ${connection}: malformed "${commandText(args)}"`);
  }
  const { exchanges, rest } = readReplies(connection, records, commands.slice(0, flowAt + 1));
  let requestedLsn: number | null = null;
  let failover: CaptureFlow['failover'] = null;
  if (args.length === 6) requestedLsn = decimal(args[5]!, 'requested LSN', connection);
  if (args.length === 7) {
    const lsns = args[6]!.toString('latin1').split('-');
    failover = {
      lastMasterId: args[5]!.toString('latin1'),
      lsns: lsns.map((l) => decimal(Buffer.from(l, 'latin1'), 'LSN vector element', connection)),
    };
  }
  return {
    masterId: args[2]!.toString('latin1'),
    syncId: args[3]!.toString('latin1'),
    flow: {
      flowId: decimal(args[4]!, 'flow id', connection),
      connection,
      requestedLsn,
      failover,
      handshake: exchanges,
      reply: parseFlowReply(exchanges[flowAt]!.reply),
      stream: rest,
      replicaCommands: commands.slice(flowAt + 1),
      closedMicros: closedAt(records),
    },
  };
}

interface SessionHeader {
  syncId: string;
  masterId: string;
  flowCount: number;
  masterVersion: number | null;
  lineageId: string | null;
}

/** The sessions a main connection opened: one per `REPLCONF capa dragonfly` answered with an array. */
function sessionHeaders(connection: number, exchanges: Exchange[]): SessionHeader[] {
  const headers: SessionHeader[] = [];
  for (const { command, reply } of exchanges) {
    if (!isCommand(command.args, 'REPLCONF', 'CAPA', 'DRAGONFLY') || !Array.isArray(reply?.value)) continue;
    const items = reply.value;
    const masterId = text(items[0]);
    const syncId = text(items[1]);
    const count = items[2];
    if (masterId === null || syncId === null || typeof count !== 'number') {
      throw new CaptureSessionError(
        `connection ${connection}: the reply to REPLCONF capa dragonfly is not [master_id, sync_id, flow count, ...]`,
      );
    }
    const version = items[3];
    headers.push({
      masterId,
      syncId,
      flowCount: count,
      masterVersion: typeof version === 'number' ? version : null,
      lineageId: text(items[4]),
    });
  }
  return headers;
}

function sessionKind(flows: CaptureFlow[], flowCount: number): CaptureSession['kind'] {
  const ids = new Set(flows.map((f) => f.flowId));
  if (ids.size !== flowCount || flows.length !== flowCount) return 'unusable';
  if (flows.every((f) => f.reply?.mode === 'FULL')) return 'full';
  if (flows.every((f) => f.reply?.mode === 'PARTIAL')) return 'partial';
  return 'unusable';
}

export function splitSessions(records: CaptureRecord[]): CaptureSession[] {
  const byConnection = new Map<number, IndexedRecord[]>();
  records.forEach((record, index) => {
    let list = byConnection.get(record.connection);
    if (!list) byConnection.set(record.connection, (list = []));
    list.push({ record, index });
  });

  const sessions: (SessionHeader & { main: MainConnection; flows: CaptureFlow[]; order: number })[] = [];
  const flowConnections: FlowConnection[] = [];
  for (const [connection, connRecords] of byConnection) {
    const commands = readCommands(connection, connRecords);
    const first = commands.find((c) => !isCommand(c.args, 'AUTH'));
    if (!first) continue;
    if (isCommand(first.args, 'DFLY', 'FLOW')) {
      flowConnections.push(readFlowConnection(connection, connRecords, commands));
      continue;
    }
    const { exchanges } = readReplies(connection, connRecords, commands);
    const main: MainConnection = { connection, exchanges, closedMicros: closedAt(connRecords) };
    for (const header of sessionHeaders(connection, exchanges)) {
      sessions.push({ ...header, main, flows: [], order: connRecords[0]!.index });
    }
  }

  for (const fc of flowConnections) {
    const session = sessions.find((s) => s.syncId === fc.syncId && s.masterId === fc.masterId);
    if (!session) {
      throw new CaptureSessionError(
        `connection ${fc.flow.connection}: DFLY FLOW names session ${fc.syncId} of master ${fc.masterId}, ` +
          'which no main connection in the capture opened',
      );
    }
    session.flows.push(fc.flow);
  }

  return sessions
    .sort((a, b) => a.order - b.order)
    .map(({ order: _order, ...s }) => {
      const flows = s.flows.sort((a, b) => a.flowId - b.flowId || a.connection - b.connection);
      return { ...s, flows, kind: sessionKind(flows, s.flowCount) };
    });
}

/** Reads a capture file and splits it into sessions (throws CaptureFormatError / CaptureSessionError). */
export function readCaptureSessions(path: string): { records: CaptureRecord[]; sessions: CaptureSession[] } {
  const records = readCaptureFile(path);
  return { records, sessions: splitSessions(records) };
}
