/**
 * Turns what the replica session delivers into change events, per flow, with keys that never repeat:
 * (epoch, flow, lsn, index). During full sync everything sits at lsn 0 with growing indexes
 * (SnapshotStarted, snapshot keys, in-snapshot journal records, SnapshotFinished, StableSyncStarted);
 * stable records take their journal LSN, their chunks indexes 0, 1, ...; a heartbeat takes the next
 * free index at the last consumed LSN. Pure: the caller supplies the time.
 *
 * The events of one item form a unit that is published atomically, together with the flow's resume
 * position once it is durable (the next journal LSN; null while the flow is still in its snapshot).
 */
import type { EventWriter } from '../events/from-protocol';
import {
  journalRecordToEvents,
  markerEvent,
  snapshotEntryToEvents,
  type ChangeEvent,
  type EventPosition,
  type FlowOrigin,
  type MarkerPayload,
  type Phase,
  type SnapshotReason,
} from '../events/model';
import type { PositionedItem } from '../replica/flow';

/** Where a flow stands once a unit is durable. nextLsn null: in a snapshot, no resumable position. */
export interface FlowPosition {
  epoch: number;
  nextLsn: number | null;
}

export interface EventUnit {
  flow: number;
  events: ChangeEvent[];
  position: FlowPosition;
}

/** A flow's last key and position as found in Kafka (see positions.ts). */
export interface FlowTail {
  epoch: number;
  lsn: number;
  index: number;
  nextLsn: number | null;
}

/** What the builder continues from: the topic's state, or nothing for an empty topic. */
export interface BuilderStart {
  epoch: number;
  masterId: string;
  dragonflyVersion: string;
  /** per flow id; only used when the next sync is partial */
  flows: (FlowTail | null)[];
}

export interface SyncStartInfo {
  mode: 'full' | 'partial';
  reason: SnapshotReason;
  masterId: string;
  flowCount: number;
  /** the master's release (INFO server) when it said; absent or null keeps the one known so far */
  dragonflyVersion?: string | null;
}

/** The flow's next LSN does not match what the master sent: events would be lost. */
export class PositionGapError extends Error {
  constructor(flow: number, expected: number, got: number) {
    super(
      `flow ${flow}: the master sent journal LSN ${got} but the next LSN due is ${expected}; ` +
        'records would be missing from the topic — resynchronising with a full sync',
    );
    this.name = 'PositionGapError';
  }
}

interface FlowState {
  flow: number;
  phase: Phase;
  /** lsn of the last key handed out (0 during the snapshot phase) */
  keyLsn: number;
  /** next free index at keyLsn */
  nextIndex: number;
  /** next journal LSN due; null until StableSyncStarted */
  nextLsn: number | null;
  keys: number;
  recordEvents: number;
  journalRecords: number;
  lastEventAtMs: number;
}

const UNKNOWN_VERSION = 'unknown';

export class EventBuilder {
  private epoch: number;
  private masterId: string;
  private dragonflyVersion: string;
  private shardCount = 0;
  private flows: FlowState[] = [];
  private tails: (FlowTail | null)[] = [];

  constructor(
    private readonly sourceId: string,
    /** largest encoded event value (chunking splits bigger values) */
    private readonly maxEventBytes: number,
    start: BuilderStart | null,
    /** encodes every event as it is made (the source's message slab); none: events only */
    private readonly writer?: EventWriter,
  ) {
    this.epoch = 0;
    this.masterId = '';
    this.dragonflyVersion = UNKNOWN_VERSION;
    if (start) this.resetTo(start);
  }

  /** Continue from a durable state (the topic's, or what was committed before a detach). */
  resetTo(start: BuilderStart): void {
    this.epoch = start.epoch;
    this.masterId = start.masterId;
    if (start.dragonflyVersion) this.dragonflyVersion = start.dragonflyVersion;
    this.tails = start.flows;
    this.flows = [];
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /** The position of every flow right now (what is durable once everything built so far is). */
  positions(): FlowPosition[] {
    return this.flows.map((f) => ({ epoch: this.epoch, nextLsn: f.nextLsn }));
  }

  /** A full sync opens a new epoch with SnapshotStarted on every flow; a partial one continues. */
  startSync(info: SyncStartInfo, nowMs: number): EventUnit[] {
    this.masterId = info.masterId;
    this.shardCount = info.flowCount;
    if (info.dragonflyVersion) this.dragonflyVersion = info.dragonflyVersion;
    if (info.mode === 'partial') {
      if (this.flows.length !== info.flowCount) this.flows = this.flowsFromTails(info.flowCount, nowMs);
      for (const f of this.flows) f.phase = 'STABLE';
      return [];
    }
    this.epoch++;
    this.flows = Array.from({ length: info.flowCount }, (_, flow) =>
      newFlow(flow, 'SNAPSHOT', 0, 0, null, nowMs),
    );
    return this.flows.map((f) =>
      this.marker(f, nowMs, {
        type: 'SnapshotStarted',
        epoch: this.epoch,
        flows: info.flowCount,
        reason: info.reason,
      }),
    );
  }

  private flowsFromTails(flowCount: number, nowMs: number): FlowState[] {
    return Array.from({ length: flowCount }, (_, flow) => {
      const tail = this.tails[flow];
      if (!tail || tail.nextLsn === null || tail.epoch !== this.epoch) {
        throw new Error(
          `flow ${flow}: a partial sync was granted but the topic holds no position for this flow in epoch ${this.epoch}`,
        );
      }
      return newFlow(flow, 'STABLE', tail.lsn, tail.index + 1, tail.nextLsn, nowMs);
    });
  }

  /** Events for one delivery of a flow's items, one unit per item that yields events or moves the position. */
  items(flowId: number, items: PositionedItem[], nowMs: number): EventUnit[] {
    const f = this.flows[flowId];
    if (!f) throw new Error(`items for flow ${flowId}, but the sync has ${this.flows.length} flows`);
    const units: EventUnit[] = [];
    for (const { item, lsn } of items) {
      switch (item.kind) {
        case 'aux':
          if (item.key === 'df-ver')
            this.dragonflyVersion = item.value.toString('latin1').replace(/^df-/, '');
          break;
        case 'entry': {
          const events = snapshotEntryToEvents(
            item.entry,
            this.nextPosition(f, nowMs),
            this.maxEventBytes,
            this.writer,
          );
          this.advance(f, events.length, nowMs);
          f.keys++;
          f.recordEvents += events.length;
          units.push(this.unit(f, events));
          break;
        }
        case 'journal':
          if (item.inSnapshot || lsn === null) {
            const events = journalRecordToEvents(
              item.record,
              true,
              this.nextPosition(f, nowMs),
              this.maxEventBytes,
              this.writer,
            );
            this.advance(f, events.length, nowMs);
            f.journalRecords++;
            if (events.length > 0) units.push(this.unit(f, events));
          } else {
            const unit = this.stableRecord(f, item.record, lsn, nowMs);
            if (unit) pushOrMerge(units, unit);
          }
          break;
        case 'fullSyncEnd':
          units.push(
            this.marker(f, nowMs, {
              type: 'SnapshotFinished',
              keys: f.keys,
              recordEvents: f.recordEvents,
              journalRecords: f.journalRecords,
            }),
          );
          break;
        case 'journalOffset': {
          const unit = this.marker(f, nowMs, {
            type: 'StableSyncStarted',
            flow: f.flow,
            journalOffset: item.lsn,
          });
          f.nextLsn = item.lsn;
          f.phase = 'STABLE';
          unit.position = { epoch: this.epoch, nextLsn: item.lsn };
          units.push(unit);
          break;
        }
        default:
          break;
      }
    }
    return units;
  }

  /** A stable record: skipped when already built (a resumed stream replays from the durable position). */
  private stableRecord(
    f: FlowState,
    record: Parameters<typeof journalRecordToEvents>[0],
    lsn: number,
    nowMs: number,
  ): EventUnit | null {
    if (f.nextLsn !== null && lsn < f.nextLsn) return null;
    if (f.nextLsn !== null && lsn > f.nextLsn) throw new PositionGapError(f.flow, f.nextLsn, lsn);
    const position: EventPosition = {
      origin: this.origin(f),
      phase: 'STABLE',
      lsn,
      index: 0,
      timestampMs: nowMs,
    };
    const events = journalRecordToEvents(record, false, position, this.maxEventBytes, this.writer);
    f.nextLsn = lsn + 1;
    if (events.length > 0) {
      f.keyLsn = lsn;
      f.nextIndex = events.length;
      f.lastEventAtMs = nowMs;
    }
    return this.unit(f, events);
  }

  /** Heartbeats for flows quiet for `intervalMs` or longer. */
  heartbeats(nowMs: number, intervalMs: number): EventUnit[] {
    return this.flows
      .filter((f) => nowMs - f.lastEventAtMs >= intervalMs)
      .map((f) => {
        const consumed = f.phase === 'STABLE' && f.nextLsn !== null ? f.nextLsn - 1 : null;
        if (consumed !== null && consumed > f.keyLsn) {
          f.keyLsn = consumed;
          f.nextIndex = 0;
        }
        return this.marker(f, nowMs, { type: 'Heartbeat', lsn: consumed });
      });
  }

  private origin(f: FlowState): FlowOrigin {
    return {
      sourceId: this.sourceId,
      masterId: this.masterId,
      dragonflyVersion: this.dragonflyVersion,
      epoch: this.epoch,
      flow: f.flow,
      shardCount: this.shardCount,
    };
  }

  private nextPosition(f: FlowState, nowMs: number): EventPosition {
    return { origin: this.origin(f), phase: f.phase, lsn: f.keyLsn, index: f.nextIndex, timestampMs: nowMs };
  }

  private advance(f: FlowState, events: number, nowMs: number): void {
    f.nextIndex += events;
    if (events > 0) f.lastEventAtMs = nowMs;
  }

  private marker(f: FlowState, nowMs: number, payload: MarkerPayload): EventUnit {
    const event = markerEvent(this.nextPosition(f, nowMs), payload, this.writer);
    this.advance(f, 1, nowMs);
    return this.unit(f, [event]);
  }

  private unit(f: FlowState, events: ChangeEvent[]): EventUnit {
    return { flow: f.flow, events, position: { epoch: this.epoch, nextLsn: f.nextLsn } };
  }
}

function newFlow(
  flow: number,
  phase: Phase,
  keyLsn: number,
  nextIndex: number,
  nextLsn: number | null,
  nowMs: number,
): FlowState {
  return {
    flow,
    phase,
    keyLsn,
    nextIndex,
    nextLsn,
    keys: 0,
    recordEvents: 0,
    journalRecords: 0,
    lastEventAtMs: nowMs,
  };
}

/** Records without events (PING) only move the position: folded into the previous such unit. */
function pushOrMerge(units: EventUnit[], unit: EventUnit): void {
  const last = units[units.length - 1];
  if (unit.events.length === 0 && last && last.events.length === 0) last.position = unit.position;
  else units.push(unit);
}
