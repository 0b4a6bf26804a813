import type { CaptureFlow, CaptureSession, Exchange } from '../capture/session';
import { commandKey } from './command-key';

/**
 * The order constraints of one recorded session, worked out once from the capture's global record
 * order: a flow chunk may only be written after the replica sent every main-connection command that
 * was recorded before it (`gate`), and a main-connection reply only after every flow chunk recorded
 * before it was written (`chunksBefore`). Within a flow the chunks keep their recorded order.
 */

export interface PlannedChunk {
  bytes: Buffer;
  micros: number;
  /** how many main-connection commands must have been received first */
  gate: number;
}

export interface PlannedFlow {
  flow: CaptureFlow;
  chunks: PlannedChunk[];
}

export interface PlannedExchange {
  exchange: Exchange;
  key: string;
  /** flow id → number of that flow's chunks to write before this exchange's reply */
  chunksBefore: Map<number, number>;
}

export interface SessionPlan {
  session: CaptureSession;
  main: PlannedExchange[];
  /** by flow id (the first registration of each flow id) */
  flows: Map<number, PlannedFlow>;
  /** capture time of the session's first main-connection command */
  startMicros: number;
}

export function planSession(session: CaptureSession): SessionPlan {
  const exchanges = session.main.exchanges;
  const flows = new Map<number, PlannedFlow>();
  for (const flow of session.flows) {
    if (flows.has(flow.flowId)) continue;
    const chunks = flow.stream.map((chunk) => ({
      bytes: chunk.bytes,
      micros: chunk.micros,
      gate: exchanges.filter((e) => e.command.recordIndex < chunk.recordIndex).length,
    }));
    flows.set(flow.flowId, { flow, chunks });
  }
  const main = exchanges.map((exchange) => {
    const chunksBefore = new Map<number, number>();
    if (exchange.reply) {
      const replyAt = exchange.reply.recordIndex;
      for (const [flowId, planned] of flows) {
        chunksBefore.set(flowId, planned.flow.stream.filter((c) => c.recordIndex < replyAt).length);
      }
    }
    return { exchange, key: commandKey(exchange.command.args), chunksBefore };
  });
  return { session, main, flows, startMicros: exchanges[0]?.command.micros ?? 0 };
}
