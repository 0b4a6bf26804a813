/**
 * A recorded fixture as the change events a source would have produced, without the source: every
 * usable session's flows through FlowStreamParser, items through src/events/from-protocol.ts. Each
 * full sync is a new epoch (SnapshotStarted ... SnapshotFinished, then StableSyncStarted at the
 * JOURNAL_OFFSET); stable records take LSN = JOURNAL_OFFSET + n; a partial sync continues its epoch.
 * Event times come from the capture clock (relative TTLs such as HSETEX are counted from them).
 */
import { captureStartMs } from '../../src/capture/decode';
import { readCaptureSessions } from '../../src/capture/session';
import { journalRecordToEvents, markerEvent, snapshotEntryToEvents } from '../../src/events/from-protocol';
import type { ChangeEvent, EventPosition, FlowOrigin } from '../../src/events/model';
import { FlowStreamParser } from '../../src/protocol/flow-parser';

export const FIXTURE_MAX_EVENT_BYTES = 512 * 1024;

interface FlowCursor {
  epoch: number;
  lsn: number;
  index: number;
}

export interface FixtureEvents {
  /** events per flow (= partition), in order */
  flows: ChangeEvent[][];
  epochs: number;
}

/** Receives a fixture's events one by one, each flow's in order. */
export type EventSink = (flow: number, event: ChangeEvent) => void;

const createParser = (o: { flowId: number; start: 'rdb' | 'journal'; eofToken?: string }): FlowStreamParser =>
  new FlowStreamParser({ flowId: o.flowId, start: o.start, eofToken: o.eofToken });

export function fixtureEvents(capturePath: string): FixtureEvents {
  const flows: ChangeEvent[][] = [];
  const { epochs } = forEachFixtureEvent(capturePath, (flow, event) => {
    while (flows.length <= flow) flows.push([]);
    flows[flow]!.push(event);
  });
  return { flows, epochs };
}

/**
 * The events of a fixture handed to `emit` as they are made (a big fixture's events are not all
 * kept at once); returns the flow count and the number of epochs.
 */
export function forEachFixtureEvent(capturePath: string, emit: EventSink): { flows: number; epochs: number } {
  const { sessions } = readCaptureSessions(capturePath);
  const startMs = Math.round(captureStartMs(sessions, createParser) ?? Date.now());
  const flowCount = sessions.find((s) => s.kind === 'full')?.flowCount ?? 0;
  const cursors: FlowCursor[] = Array.from({ length: flowCount }, () => ({ epoch: 0, lsn: 0, index: 0 }));
  let epoch = 0;
  for (const session of sessions) {
    if (session.kind === 'unusable') continue;
    if (session.kind === 'full') epoch++;
    for (const flow of session.flows) {
      const reply = flow.reply;
      if (!reply || reply.mode === 'error') continue;
      const cursor = cursors[flow.flowId]!;
      const origin: FlowOrigin = {
        sourceId: 'fixture',
        masterId: session.masterId,
        dragonflyVersion: '1.40.1',
        epoch,
        flow: flow.flowId,
        shardCount: session.flowCount,
      };
      let phase: 'SNAPSHOT' | 'STABLE' = session.kind === 'full' ? 'SNAPSHOT' : 'STABLE';
      let timestampMs = startMs;
      const position = (): EventPosition => ({
        origin,
        phase,
        lsn: cursor.lsn,
        index: cursor.index,
        timestampMs,
      });
      const add = (events: ChangeEvent[]): void => {
        for (const e of events) emit(flow.flowId, e);
        cursor.index += events.length;
      };
      if (session.kind === 'full') {
        cursor.lsn = 0;
        cursor.index = 0;
        add([
          markerEvent(position(), {
            type: 'SnapshotStarted',
            epoch,
            flows: session.flowCount,
            reason: epoch === 1 ? 'FIRST_SYNC' : 'RESYNC_STALE_POSITION',
          }),
        ]);
      }
      const parser = createParser({
        flowId: flow.flowId,
        start: reply.mode === 'FULL' ? 'rdb' : 'journal',
        eofToken: reply.eofToken,
      });
      const chunks = flow.stream;
      const items = chunks.flatMap((chunk) =>
        parser.feed(chunk.bytes).map((item) => ({ item, atMs: startMs + chunk.micros / 1000 })),
      );
      for (const item of parser.end()) items.push({ item, atMs: timestampMs });
      let keys = 0;
      let records = 0;
      for (const { item, atMs } of items) {
        timestampMs = Math.round(atMs);
        switch (item.kind) {
          case 'entry':
            keys++;
            add(snapshotEntryToEvents(item.entry, position(), FIXTURE_MAX_EVENT_BYTES));
            break;
          case 'journal': {
            const events = journalRecordToEvents(
              item.record,
              item.inSnapshot,
              position(),
              FIXTURE_MAX_EVENT_BYTES,
            );
            if (item.inSnapshot) records += events.length;
            add(events);
            if (
              !item.inSnapshot &&
              phase === 'STABLE' &&
              item.record.op !== 'ping' &&
              item.record.op !== 'noop' &&
              item.record.op !== 'fin'
            ) {
              cursor.lsn++;
              cursor.index = 0;
            }
            break;
          }
          case 'fullSyncEnd':
            add([
              markerEvent(position(), {
                type: 'SnapshotFinished',
                keys,
                recordEvents: keys,
                journalRecords: records,
              }),
            ]);
            break;
          case 'journalOffset':
            phase = 'STABLE';
            cursor.lsn = item.lsn;
            cursor.index = 0;
            add([
              markerEvent(position(), {
                type: 'StableSyncStarted',
                flow: flow.flowId,
                journalOffset: item.lsn,
              }),
            ]);
            break;
          default:
            break;
        }
      }
    }
  }
  return { flows: flowCount, epochs: epoch };
}
