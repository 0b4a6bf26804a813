/**
 * Hand-made change events for the sink integration tests: one flow's stream written as a list of
 * journal commands and markers, with chosen epochs, databases, txids and event times.
 */
import { markerEvent } from '../../src/events/from-protocol';
import type { ChangeEvent, EventPayload, Phase } from '../../src/events/model';

export interface FlowWriter {
  /** every event written so far, in order */
  events: ChangeEvent[];
  /** a journal command; `at` = event time (default: now) */
  command(name: string, args: string[], options?: { db?: number; txid?: number; at?: number }): FlowWriter;
  /** SnapshotStarted of `epoch` (the epoch of every event written after it) */
  snapshotStarted(epoch: number): FlowWriter;
  snapshotFinished(): FlowWriter;
}

export function flowWriter(flow: number, flows: number, epoch = 1): FlowWriter {
  let lsn = 1;
  let current = epoch;
  // as the source writes them: SNAPSHOT from SnapshotStarted through SnapshotFinished, then STABLE
  let phase: Phase = 'STABLE';
  const source = (at: number): Parameters<typeof markerEvent>[0] => ({
    origin: {
      sourceId: 'test',
      masterId: 'm',
      dragonflyVersion: '1.40.1',
      epoch: current,
      flow,
      shardCount: flows,
    },
    phase,
    lsn: lsn++,
    index: 0,
    timestampMs: at,
  });
  const writer: FlowWriter = {
    events: [],
    command(name, args, options = {}) {
      const payload: EventPayload = {
        type: 'JournalCommand',
        db: options.db ?? 0,
        command: name,
        args: args.map((a) => Buffer.from(a)),
        txid: options.txid ?? 0,
        shardCount: flows,
        inSnapshot: false,
        multi: false,
        chunk: { index: 0, count: 1, mode: 'REPLACE' },
      };
      const at = options.at ?? Date.now();
      const position = source(at);
      writer.events.push({
        source: {
          ...position.origin,
          phase: position.phase,
          lsn: position.lsn,
          index: 0,
          txid: payload.txid,
          db: payload.db,
          timestampMs: at,
        },
        payload,
      });
      return writer;
    },
    snapshotStarted(newEpoch) {
      current = newEpoch;
      phase = 'SNAPSHOT';
      writer.events.push(
        markerEvent(source(Date.now()), {
          type: 'SnapshotStarted',
          epoch: newEpoch,
          flows,
          reason: newEpoch === 1 ? 'FIRST_SYNC' : 'RESYNC_STALE_POSITION',
        }),
      );
      return writer;
    },
    snapshotFinished() {
      writer.events.push(
        markerEvent(source(Date.now()), {
          type: 'SnapshotFinished',
          keys: 0,
          recordEvents: 0,
          journalRecords: 0,
        }),
      );
      phase = 'STABLE';
      return writer;
    },
  };
  return writer;
}
