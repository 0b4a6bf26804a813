import { ReplicationError } from './errors';

/**
 * A flow's "next expected LSN" E (spec 5.2): set from JOURNAL_OFFSET after a full sync or from the
 * requested LSN after a partial sync; every stable record (not LSN entries) takes LSN E and moves E on;
 * an LSN entry must carry E - 1, else records were lost or duplicated.
 */
export class LsnTracker {
  private next: number | null = null;

  constructor(
    private readonly master: string,
    private readonly flowId: number,
  ) {}

  /** null until JOURNAL_OFFSET (full sync) or the partial-sync start fixed it */
  get nextLsn(): number | null {
    return this.next;
  }

  start(lsn: number): void {
    this.next = lsn;
  }

  /** The LSN of the stable record just read; advances E. */
  takeRecord(): number {
    if (this.next === null) {
      throw new ReplicationError({
        master: this.master,
        flowId: this.flowId,
        message: 'journal record before JOURNAL_OFFSET: the stream has no starting LSN',
      });
    }
    return this.next++;
  }

  checkLsnEntry(lsn: number): void {
    if (this.next === null || lsn === this.next - 1) return;
    const what = lsn < this.next - 1 ? 'went backwards' : 'skipped ahead';
    throw new ReplicationError({
      master: this.master,
      flowId: this.flowId,
      message: `LSN ${what}: the master says the last record was ${lsn}, we counted ${this.next - 1}`,
      hint: 'records were lost or duplicated; resynchronising',
    });
  }
}
