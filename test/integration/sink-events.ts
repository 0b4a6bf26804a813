/**
 * Hand-made change events for the sink integration tests: one flow's stream written as a list of
 * journal commands and markers, with chosen epochs, databases, txids and event times.
 */
import { markerEvent } from '../../src/events/from-protocol';
import type { ChangeEvent, EventPayload, EventValue, Phase } from '../../src/events/model';

export interface FlowWriter {
  /** every event written so far, in order */
  events: ChangeEvent[];
  /** a journal command; `at` = event time (default: now); `chunks` > 1: its arguments in that many chunks */
  command(
    name: string,
    args: string[],
    options?: { db?: number; txid?: number; at?: number; chunks?: number },
  ): FlowWriter;
  /**
   * A snapshot record of one key whose value comes in these pieces (one chunk each: chunk 0
   * replaces the key, the others append), all at one lsn.
   */
  record(
    key: string,
    pieces: EventValue[],
    options?: { db?: number; expireAtMs?: number | null; at?: number },
  ): FlowWriter;
  /** an ExpiredKey event (Dragonfly <= v1.37 journals expiries so) */
  expired(keys: string[], options?: { db?: number; at?: number }): FlowWriter;
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
      const count = options.chunks ?? 1;
      const per = Math.ceil(args.length / count);
      const at = options.at ?? Date.now();
      const position = source(at);
      for (let index = 0; index < count; index++) {
        const payload: EventPayload = {
          type: 'JournalCommand',
          db: options.db ?? 0,
          command: name,
          args: args.slice(index * per, (index + 1) * per).map((a) => Buffer.from(a)),
          txid: options.txid ?? 0,
          shardCount: flows,
          inSnapshot: false,
          multi: false,
          chunk: { index, count, mode: index === 0 ? 'REPLACE' : 'APPEND_ELEMENTS' },
        };
        writer.events.push({
          source: {
            ...position.origin,
            phase: position.phase,
            lsn: position.lsn,
            index,
            txid: payload.txid,
            db: payload.db,
            timestampMs: at,
          },
          payload,
        });
      }
      return writer;
    },
    record(key, pieces, options = {}) {
      const position = source(options.at ?? Date.now());
      pieces.forEach((value, index) => {
        const bytes = value.type === 'StringValue' || value.type === 'JsonValue';
        const payload: EventPayload = {
          type: 'SnapshotRecord',
          db: options.db ?? 0,
          key: Buffer.from(key),
          expireAtMs: options.expireAtMs ?? null,
          flags: { sticky: false, mcFlags: null },
          rdbType: 0,
          value,
          chunk: {
            index,
            count: pieces.length,
            mode: index === 0 ? 'REPLACE' : bytes ? 'APPEND_BYTES' : 'APPEND_ELEMENTS',
          },
        };
        writer.events.push({
          source: {
            ...position.origin,
            phase: 'SNAPSHOT',
            lsn: position.lsn,
            index,
            txid: null,
            db: payload.db,
            timestampMs: position.timestampMs,
          },
          payload,
        });
      });
      return writer;
    },
    expired(keys, options = {}) {
      const position = source(options.at ?? Date.now());
      const db = options.db ?? 0;
      writer.events.push({
        source: {
          ...position.origin,
          phase: position.phase,
          lsn: position.lsn,
          index: 0,
          txid: 0,
          db,
          timestampMs: position.timestampMs,
        },
        payload: {
          type: 'ExpiredKey',
          db,
          keys: keys.map((k) => Buffer.from(k)),
          txid: 0,
          inSnapshot: false,
        },
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
