import type { CaptureSession, StreamChunk } from './session';
import { ProtocolError } from '../protocol/errors';
import type { FlowItem } from '../protocol/types';
import { Dataset } from '../reference-dataset/dataset';
import type { DumpDecoder } from '../reference-dataset/keyspace';
import { FullSyncRestart, replayFlows, TimedItem, withContext } from '../reference-dataset/replay';

/**
 * Reproduces the master's dataset from a recorded capture: every session in order, each flow's bytes
 * through a flow-stream parser, the items through the dataset model. A full-sync session starts from
 * an empty dataset (the replica wipes its data, spec 2.4); a partial one continues the previous state.
 */

export interface FlowParser {
  feed(chunk: Buffer): FlowItem[];
  end(): FlowItem[];
}

export type FlowParserFactory = (options: {
  flowId: number;
  start: 'rdb' | 'journal';
  eofToken?: string;
}) => FlowParser;

export interface DecodeOptions {
  createParser: FlowParserFactory;
  decodeDump: DumpDecoder;
  /** absolute Unix ms of capture time 0; see captureStartMs() */
  startMs: number;
  /** re-cuts a flow's chunks before parsing (tests feed random chunk sizes); identity by default */
  rechunk?: (chunks: StreamChunk[], flowId: number) => StreamChunk[];
}

export interface SessionOutcome {
  syncId: string;
  kind: CaptureSession['kind'];
  /** applied, skipped (unusable: mixed/refused FLOW replies), or restarted (FLUSH during full sync) */
  result: 'applied' | 'skipped' | 'restarted';
  items: number;
}

export class CaptureDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureDecodeError';
  }
}

function parseFlow(session: CaptureSession, flowIndex: number, options: DecodeOptions): TimedItem[] {
  const flow = session.flows[flowIndex]!;
  const reply = flow.reply;
  const parser = options.createParser({
    flowId: flow.flowId,
    start: session.kind === 'full' ? 'rdb' : 'journal',
    eofToken: reply && reply.mode !== 'error' ? reply.eofToken : undefined,
  });
  const chunks = options.rechunk ? options.rechunk(flow.stream, flow.flowId) : flow.stream;
  const out: TimedItem[] = [];
  try {
    for (const chunk of chunks) {
      const atMs = options.startMs + chunk.micros / 1000;
      for (const item of parser.feed(chunk.bytes)) out.push({ item, atMs });
    }
    const atMs = options.startMs + (chunks[chunks.length - 1]?.micros ?? 0) / 1000;
    for (const item of parser.end()) out.push({ item, atMs });
  } catch (e) {
    if (e instanceof ProtocolError) {
      throw new CaptureDecodeError(
        `session ${session.syncId}, flow ${flow.flowId} (connection ${flow.connection}): ${e.message}`,
      );
    }
    throw e;
  }
  return out;
}

/** Applies the sessions to a fresh dataset; returns it with what happened to each session. */
export function decodeSessions(
  sessions: CaptureSession[],
  options: DecodeOptions,
): { dataset: Dataset; outcomes: SessionOutcome[] } {
  const dataset = new Dataset({ decodeDump: options.decodeDump });
  const outcomes: SessionOutcome[] = [];
  for (const session of sessions) {
    if (session.kind === 'unusable') {
      outcomes.push({ syncId: session.syncId, kind: session.kind, result: 'skipped', items: 0 });
      continue;
    }
    const flows = session.flows.map((_, i) => parseFlow(session, i, options));
    const items = flows.reduce((n, f) => n + f.length, 0);
    if (session.kind === 'full') dataset.flushAll();
    try {
      replayFlows(dataset, flows);
      outcomes.push({ syncId: session.syncId, kind: session.kind, result: 'applied', items });
    } catch (e) {
      if (!(e instanceof FullSyncRestart)) throw withContext(e, `session ${session.syncId}`);
      outcomes.push({ syncId: session.syncId, kind: session.kind, result: 'restarted', items });
    }
  }
  const last = outcomes.filter((o) => o.result !== 'skipped').pop();
  if (!last) throw new CaptureDecodeError('the capture holds no usable replication session');
  if (last.result === 'restarted') {
    throw new CaptureDecodeError(
      `the last session (${last.syncId}) was a full sync aborted by a FLUSH; the capture ends without a complete dataset`,
    );
  }
  return { dataset, outcomes };
}

/**
 * Absolute Unix ms of capture time 0, anchored on the AUX `ctime` (Unix seconds when the master began
 * the snapshot) of the first full sync, at the capture time of the chunk that carried it. ctime is
 * truncated to the second, so half a second is added: the error stays within ±0.5 s. Null when the
 * capture holds no full sync.
 */
export function captureStartMs(sessions: CaptureSession[], createParser: FlowParserFactory): number | null {
  for (const session of sessions) {
    const flow = session.flows[0];
    if (session.kind !== 'full' || !flow || flow.reply?.mode !== 'FULL') continue;
    const parser = createParser({ flowId: flow.flowId, start: 'rdb', eofToken: flow.reply.eofToken });
    for (const chunk of flow.stream) {
      for (const item of parser.feed(chunk.bytes)) {
        if (item.kind !== 'aux' || item.key !== 'ctime') continue;
        const seconds = Number(item.value.toString('latin1'));
        return Number.isFinite(seconds) ? seconds * 1000 + 500 - chunk.micros / 1000 : null;
      }
    }
  }
  return null;
}
