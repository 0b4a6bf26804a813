/**
 * Finds the latest snapshot that is complete on every flow's partition without reading the topic:
 * a partition's events are in epoch order (the key's epoch never decreases), so where an epoch begins
 * is found by bisecting the partition's offsets, reading one message per step. An epoch's snapshot is
 * complete on a flow when the flow's first event of the epoch is its SnapshotStarted and its last
 * event of the epoch comes at or after its SnapshotFinished (a stable-phase event, or no snapshot
 * record between it and the SnapshotFinished). Candidates are tried from the newest epoch down; the
 * cost is a few dozen small reads per partition, whatever the topic's size.
 */
import type { KafkaMessage } from 'kafkajs';
import type { EventCodec } from '../events/codec';
import type { ChangeEvent } from '../events/model';
import type { PartitionReader } from '../kafka/partition-reader';
import { StartPositionError } from './errors';

export interface PartitionBounds {
  low: bigint;
  /** the end as of the search's start (last stable offset: commit markers count) */
  high: bigint;
}

export interface OffsetEvent {
  offset: bigint;
  event: ChangeEvent;
}

/** Where one flow stands in the newest epoch, for the log while a sink waits. */
export interface FlowProgress {
  flow: number;
  /** no event of the newest epoch on this flow yet */
  absent: boolean;
  finished: boolean;
  /** offsets from the flow's first event of the epoch to its last one */
  offsetsSinceStart: bigint;
}

export type SnapshotSearchResult =
  | { kind: 'found'; epoch: number; starts: Map<number, string> }
  | { kind: 'empty' }
  | { kind: 'incomplete'; epoch: number; flows: FlowProgress[] };

/** Backward windows when looking for a partition's last event (markers and aborted records skipped). */
const FIRST_TAIL_WINDOW = 16n;
const TAIL_WINDOW_GROWTH = 8n;

export class SnapshotSearch {
  constructor(
    private readonly topic: string,
    private readonly reader: PartitionReader,
    private readonly codec: EventCodec,
    private readonly bounds: Map<number, PartitionBounds>,
  ) {}

  async run(): Promise<SnapshotSearchResult> {
    const partitions = [...this.bounds.keys()].sort((a, b) => a - b);
    const tails = new Map<number, OffsetEvent | null>();
    await Promise.all(partitions.map(async (p) => tails.set(p, await this.lastEventBefore(p, this.high(p)))));
    const present = [...tails.values()].filter((t): t is OffsetEvent => t !== null);
    if (present.length === 0) return { kind: 'empty' };
    const newest = present.reduce((a, b) => (b.event.source.epoch > a.event.source.epoch ? b : a));
    const flows = newest.event.source.shardCount;
    let progress: FlowProgress[] | null = null;
    let candidate: number | null = newest.event.source.epoch;
    while (candidate !== null) {
      const epoch: number = candidate;
      const states = await Promise.all(
        Array.from({ length: flows }, (_, flow) => this.epochOnFlow(flow, epoch, tails.get(flow) ?? null)),
      );
      progress ??= states.map((s) => s.progress);
      if (states.every((s) => s.start !== null && s.progress.finished)) {
        return {
          kind: 'found',
          epoch,
          starts: new Map(states.map((s, flow) => [flow, String(s.start!.offset)])),
        };
      }
      // the next candidate must be present on every flow: the lowest of each flow's previous epoch
      const previous = await Promise.all(states.map((s, flow) => this.epochBefore(flow, s.firstOffset)));
      candidate = previous.some((e) => e === null) ? null : Math.min(...(previous as number[]));
    }
    return { kind: 'incomplete', epoch: newest.event.source.epoch, flows: progress ?? [] };
  }

  /** Epoch `epoch` on one flow: its SnapshotStarted (when that is its first event) and whether it finished. */
  private async epochOnFlow(
    flow: number,
    epoch: number,
    tail: OffsetEvent | null,
  ): Promise<{ start: OffsetEvent | null; firstOffset: bigint | null; progress: FlowProgress }> {
    const absent = { flow, absent: true, finished: false, offsetsSinceStart: 0n };
    if (tail === null || !this.bounds.has(flow)) return { start: null, firstOffset: null, progress: absent };
    const first = await this.firstEventOfEpochAtLeast(flow, epoch, this.low(flow));
    if (first === null || first.event.source.epoch !== epoch)
      return { start: null, firstOffset: first?.offset ?? this.high(flow), progress: absent };
    let last = tail;
    if (tail.event.source.epoch !== epoch) {
      const next = await this.firstEventOfEpochAtLeast(flow, epoch + 1, first.offset);
      last = (await this.lastEventBefore(flow, next!.offset)) ?? first;
    }
    const finished = await this.snapshotFinishedBy(flow, first.offset, last);
    const started = first.event.payload.type === 'SnapshotStarted';
    return {
      start: started ? first : null,
      firstOffset: first.offset,
      progress: {
        flow,
        absent: false,
        finished: finished && started,
        offsetsSinceStart: last.offset - first.offset,
      },
    };
  }

  /**
   * Whether the flow's snapshot that began at `from` finished by `last`. A stable-phase event comes only
   * after the SnapshotFinished (docs/events.md); in the snapshot phase, journal records may follow
   * the SnapshotFinished, so look back for it, stopping at the first snapshot record.
   */
  private async snapshotFinishedBy(flow: number, from: bigint, last: OffsetEvent): Promise<boolean> {
    if (last.event.source.phase === 'STABLE') return true;
    let window = FIRST_TAIL_WINDOW;
    let end = last.offset + 1n;
    while (end > from) {
      const start = end - window > from ? end - window : from;
      const messages = await this.reader.read(flow, start, end);
      for (let i = messages.length - 1; i >= 0; i--) {
        const { type } = (await this.decode(flow, messages[i]!)).event.payload;
        if (type === 'SnapshotFinished' || type === 'StableSyncStarted') return true;
        if (type === 'SnapshotRecord' || type === 'SnapshotStarted') return false;
      }
      end = start;
      window *= TAIL_WINDOW_GROWTH;
    }
    return false;
  }

  /** The epoch of the flow's last event before `offset` (null: none, or the flow has no partition). */
  private async epochBefore(flow: number, offset: bigint | null): Promise<number | null> {
    if (offset === null || !this.bounds.has(flow)) return null;
    return (await this.lastEventBefore(flow, offset))?.event.source.epoch ?? null;
  }

  /** Bisects [from, high) for the first event whose epoch is at least `epoch`; null when there is none. */
  private async firstEventOfEpochAtLeast(
    partition: number,
    epoch: number,
    from: bigint,
  ): Promise<OffsetEvent | null> {
    let lo = from;
    let hi = this.high(partition);
    let best: OffsetEvent | null = null;
    while (lo < hi) {
      const mid = lo + (hi - lo) / 2n;
      const found = await this.firstEventFrom(partition, mid, hi);
      if (found === null) hi = mid;
      else if (found.event.source.epoch >= epoch) {
        // nothing lies between mid and found: the answer is found or before mid
        best = found;
        hi = mid;
      } else lo = found.offset + 1n;
    }
    return best;
  }

  /** The first event in [from, to), reading only until one arrives. */
  private async firstEventFrom(partition: number, from: bigint, to: bigint): Promise<OffsetEvent | null> {
    const messages = await this.reader.read(partition, from, to, (m) => m.length > 0);
    return messages[0] ? this.decode(partition, messages[0]) : null;
  }

  /** The last event before `to`, in growing backward windows (markers and aborted records take offsets too). */
  private async lastEventBefore(partition: number, to: bigint): Promise<OffsetEvent | null> {
    const low = this.low(partition);
    let window = FIRST_TAIL_WINDOW;
    let end = to;
    while (end > low) {
      const start = end - window > low ? end - window : low;
      const messages = await this.reader.read(partition, start, end);
      const last = messages.at(-1);
      if (last) return this.decode(partition, last);
      end = start;
      window *= TAIL_WINDOW_GROWTH;
    }
    return null;
  }

  private async decode(partition: number, message: KafkaMessage): Promise<OffsetEvent> {
    const where = `topic "${this.topic}" partition ${partition} offset ${message.offset}`;
    if (message.value === null) {
      throw new StartPositionError(
        `${where} holds a message without a value, not a change event`,
        `Is "${this.topic}" the topic of a dragonfly-cdc source? Set topic to the source's topic`,
      );
    }
    let event: ChangeEvent;
    try {
      event = await this.codec.decodeValue(message.value);
    } catch (error) {
      throw new StartPositionError(
        `${where} cannot be read as a change event (${(error as Error).message})`,
        `Is "${this.topic}" the topic of a dragonfly-cdc source (this version or an older one)? Set topic to the source's ` +
          'topic, or startFrom=earliest with errors.tolerance=all to skip what cannot be read',
      );
    }
    if (event.source.flow !== partition) {
      throw new StartPositionError(
        `${where} holds an event of flow ${event.source.flow}: the partitions were not written by a dragonfly-cdc source (partition = flow)`,
        "Set topic to the source's topic",
      );
    }
    return { offset: BigInt(message.offset), event };
  }

  private low(partition: number): bigint {
    return this.bounds.get(partition)?.low ?? 0n;
  }

  private high(partition: number): bigint {
    return this.bounds.get(partition)?.high ?? 0n;
  }
}
