/**
 * What the source did, told when it stops: the events committed to Kafka per flow, the events it
 * could not publish and why, and the positions committed (what a restart resumes from, and the
 * most the master was ever acknowledged).
 */
import type { BufferedUnit } from './event-buffer';
import type { PipelineStateName } from './pipeline-state';

export interface StopSummary {
  /** the state the stop was requested in */
  stoppedFrom: PipelineStateName;
  /** events committed to Kafka by this process, per flow */
  published: number[];
  /**
   * events of the transaction that was being published when the deadline came, per flow: they may
   * be in Kafka or not (a restart reads the topic and continues after what is there)
   */
  uncertain: number[];
  /** events buffered and not published (not counting `uncertain`): read from the master again on restart */
  leftInBuffer: number;
  /** items the master sent that were not made into events: while detached, and after the stop began */
  notBuffered: { whileDetached: number; afterStop: number };
  /** committed position per flow: the next journal LSN, or null while the flow is in its snapshot */
  committedNextLsns: (number | null)[];
  epoch: number;
  /** stop() ended by its deadline (false only when something did not answer in time) */
  withinDeadline: boolean;
}

/** Counts kept while the pipeline runs, for the summary. */
export class PublishTally {
  readonly published: number[] = [];
  whileDetached = 0;
  afterStop = 0;

  committed(units: BufferedUnit[]): void {
    for (const u of units) this.published[u.flow] = (this.published[u.flow] ?? 0) + u.count;
  }
}

export function perFlow(units: readonly BufferedUnit[], flowCount: number): number[] {
  const counts = Array.from({ length: flowCount }, () => 0);
  for (const u of units) counts[u.flow] = (counts[u.flow] ?? 0) + u.count;
  return counts;
}

/** One log line, saying everything the summary holds. */
export function describeStop(s: StopSummary): string {
  const total = (xs: number[]): number => xs.reduce((n, x) => n + x, 0);
  const flows = (xs: number[]): string => xs.map((n, flow) => `flow ${flow}: ${n}`).join(', ');
  const positions = s.committedNextLsns
    .map((lsn, flow) => `flow ${flow}: ${lsn === null ? 'in snapshot' : `next LSN ${lsn}`}`)
    .join(', ');
  const parts = [
    `stopped (was ${s.stoppedFrom}${s.withinDeadline ? '' : ', stop deadline passed'})`,
    `${total(s.published)} events published to Kafka (${flows(s.published) || 'no flows'})`,
  ];
  if (total(s.uncertain) > 0) {
    parts.push(
      `${total(s.uncertain)} events (${flows(s.uncertain)}) were being committed at the deadline: ` +
        'they may or may not be in Kafka, a restart continues after what is there',
    );
  }
  if (s.leftInBuffer > 0) {
    parts.push(
      `${s.leftInBuffer} buffered events not published (Kafka did not take them before the deadline): ` +
        'read from the master again on restart',
    );
  }
  const { whileDetached, afterStop } = s.notBuffered;
  if (whileDetached + afterStop > 0) {
    parts.push(
      `${whileDetached + afterStop} items from the master not made into events (${whileDetached} while detached, ` +
        `${afterStop} after the stop began): read again on restart`,
    );
  }
  parts.push(`committed positions (epoch ${s.epoch}): ${positions || 'none'}`);
  return parts.join('; ');
}
