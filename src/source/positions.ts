/**
 * Where the source stands, as Kafka says: recovered at start from the last committed event of every
 * partition, then kept up to date as transactions commit. The resume position of a flow is the next
 * journal LSN: the last stable record's LSN + 1 (a heartbeat says the same), or the StableSyncStarted
 * offset when no stable record followed. A flow whose last event belongs to an unfinished snapshot,
 * or to an older epoch than the newest, has no position: the next sync is a full one (new epoch).
 */
import type { EventCodec } from '../events/codec';
import type { ChangeEvent } from '../events/model';
import type { ResumePositions } from '../replica/session';
import type { BuilderStart, FlowTail } from './event-builder';
import type { BufferedUnit } from './event-buffer';
import type { TailMessage } from './tail-reader';

/** The topic holds something this source must not continue from. */
export class TopicStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicStateError';
  }
}

export interface TailEvent {
  partition: number;
  offset: number;
  event: ChangeEvent;
}

export interface RecoveredState {
  /** null: the topic holds no events */
  start: BuilderStart | null;
  /** null: no complete position on every flow (full sync) */
  resume: ResumePositions | null;
}

/** Decodes the tail messages; anything unreadable is an error naming partition and offset. */
export async function decodeTails(
  tails: (TailMessage | null)[],
  codec: EventCodec,
  topic: string,
): Promise<(TailEvent | null)[]> {
  const out: (TailEvent | null)[] = [];
  for (let partition = 0; partition < tails.length; partition++) {
    const tail = tails[partition];
    if (!tail) {
      out[partition] = null;
      continue;
    }
    if (!tail.value) {
      throw new TopicStateError(
        `topic "${topic}" partition ${partition} offset ${tail.offset} holds a message without a value, not a change event: ` +
          'the topic is used by another producer; give this source its own topic (setting "topic")',
      );
    }
    try {
      out[partition] = { partition, offset: tail.offset, event: await codec.decodeValue(tail.value) };
    } catch (error) {
      throw new TopicStateError(
        `topic "${topic}" partition ${partition} offset ${tail.offset}: the last event cannot be read as a change event ` +
          `(${(error as Error).message}); the source cannot tell where to resume. ` +
          'Use a new topic (setting "topic"), or the producer version that wrote it',
      );
    }
  }
  return out;
}

/** The resume position a flow's last event implies; null when the flow is inside a snapshot. */
export function nextLsnAfter(event: ChangeEvent): number | null {
  const { payload, source } = event;
  if (payload.type === 'StableSyncStarted') return payload.journalOffset;
  if (source.phase !== 'STABLE') return null;
  if (payload.type === 'Heartbeat') return payload.lsn === null ? null : payload.lsn + 1;
  if (payload.type === 'JournalCommand' && payload.chunk.index !== payload.chunk.count - 1) return null;
  if (
    payload.type === 'JournalCommand' ||
    payload.type === 'ExpiredKey' ||
    payload.type === 'TransactionExec'
  ) {
    return source.lsn + 1;
  }
  return null;
}

/** Works out the state of the topic from its partition tails (index = partition). */
export function recoverState(tails: (TailEvent | null)[], sourceId: string, topic: string): RecoveredState {
  const present = tails.filter((t): t is TailEvent => t !== null);
  if (present.length === 0) return { start: null, resume: null };
  const foreign = present.find((t) => t.event.source.sourceId !== sourceId);
  if (foreign) {
    throw new TopicStateError(
      `topic "${topic}" partition ${foreign.partition} holds events of source "${foreign.event.source.sourceId}", ` +
        `this source is "${sourceId}": two sources must not share a topic. Use another topic (setting "topic"), ` +
        `or set source.id to "${foreign.event.source.sourceId}" if this is that source`,
    );
  }
  const misplaced = present.find((t) => t.event.source.flow !== t.partition);
  if (misplaced) {
    throw new TopicStateError(
      `topic "${topic}" partition ${misplaced.partition} offset ${misplaced.offset} holds an event of flow ${misplaced.event.source.flow}: ` +
        'the partitions were not written by this source (partition = flow); use a new topic',
    );
  }
  const epoch = Math.max(...present.map((t) => t.event.source.epoch));
  const newest = present.find((t) => t.event.source.epoch === epoch)!.event.source;
  const flows: (FlowTail | null)[] = [];
  for (let flow = 0; flow < newest.shardCount; flow++) {
    const tail = tails[flow];
    if (!tail || tail.event.source.epoch !== epoch) {
      flows[flow] = null;
      continue;
    }
    const { lsn, index } = tail.event.source;
    flows[flow] = { epoch, lsn, index, nextLsn: nextLsnAfter(tail.event) };
  }
  const start: BuilderStart = {
    epoch,
    masterId: newest.masterId,
    dragonflyVersion: newest.dragonflyVersion,
    flows,
  };
  const nextLsns = flows.map((f) => f?.nextLsn ?? null);
  const complete = nextLsns.length > 0 && nextLsns.every((l) => l !== null);
  return { start, resume: complete ? { masterId: newest.masterId, nextLsns: nextLsns as number[] } : null };
}

/** The per-flow state committed to Kafka, advanced by every committed transaction. */
export class CommittedPositions {
  private epoch: number;
  private masterId: string;
  private dragonflyVersion: string;
  private flows: (FlowTail | null)[];

  constructor(start: BuilderStart | null) {
    this.epoch = start?.epoch ?? 0;
    this.masterId = start?.masterId ?? '';
    this.dragonflyVersion = start?.dragonflyVersion ?? '';
    this.flows = start ? [...start.flows] : [];
  }

  /** A full or partial sync with this master began (its units follow). */
  noteMaster(masterId: string): void {
    this.masterId = masterId;
  }

  /** Units committed in one transaction, in buffer order. */
  commit(units: BufferedUnit[]): void {
    for (const unit of units) {
      const { epoch, nextLsn } = unit.position;
      if (epoch > this.epoch) {
        this.epoch = epoch;
        this.flows = [];
      }
      const previous = this.flows[unit.flow];
      const key =
        unit.lastKey ?? (previous ? { lsn: previous.lsn, index: previous.index } : { lsn: 0, index: -1 });
      this.flows[unit.flow] = { epoch, lsn: key.lsn, index: key.index, nextLsn };
    }
  }

  /** The next LSN committed for a flow (the ACK value), or null. */
  nextLsn(flow: number): number | null {
    return this.flows[flow]?.nextLsn ?? null;
  }

  /** Positions for a partial sync of `flowCount` flows, or null when some flow has none. */
  resume(flowCount: number): ResumePositions | null {
    const nextLsns: number[] = [];
    for (let flow = 0; flow < flowCount; flow++) {
      const next = this.flows[flow]?.nextLsn;
      if (next === null || next === undefined) return null;
      nextLsns.push(next);
    }
    return flowCount > 0 ? { masterId: this.masterId, nextLsns } : null;
  }

  /** What the event builder continues from after a detach. */
  builderStart(): BuilderStart {
    return {
      epoch: this.epoch,
      masterId: this.masterId,
      dragonflyVersion: this.dragonflyVersion,
      flows: [...this.flows],
    };
  }

  get flowCount(): number {
    return this.flows.length;
  }
}
