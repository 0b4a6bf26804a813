/**
 * A scripted master's journal for one shard: every record it ever logged with its LSN, and the
 * backlog ring of the last `backlogLen` records that a partial sync can be served from. The decision
 * rules are Dragonfly v1.40's (spec 2.3): PARTIAL when the requested LSN equals the next LSN or lies
 * inside the ring, FULL otherwise.
 */

export interface LoggedRecord {
  lsn: number;
  /** the serialized record (SELECT + COMMAND, or PING) */
  bytes: Buffer;
}

export class JournalLog {
  private readonly records: LoggedRecord[] = [];
  private next: number;

  constructor(
    private readonly backlogLen: number,
    firstLsn = 1,
  ) {
    this.next = firstLsn;
  }

  /** The LSN the next record will get (`journal::GetLsn()`, what JOURNAL_OFFSET carries). */
  get nextLsn(): number {
    return this.next;
  }

  /** Every record logged so far (a full sync replays them all as JOURNAL_BLOBs). */
  get history(): readonly LoggedRecord[] {
    return this.records;
  }

  append(bytes: Buffer): LoggedRecord {
    const record = { lsn: this.next++, bytes };
    this.records.push(record);
    return record;
  }

  /** The records still in the backlog ring. */
  backlog(): LoggedRecord[] {
    return this.records.slice(-this.backlogLen);
  }

  /** Can a partial sync start at `lsn`? */
  canServeFrom(lsn: number): boolean {
    if (lsn === this.next) return true;
    const ring = this.backlog();
    return ring.length > 0 && ring[0]!.lsn <= lsn && lsn <= ring[ring.length - 1]!.lsn;
  }

  /** Records from `lsn` on (for a partial sync that canServeFrom(lsn)). */
  from(lsn: number): LoggedRecord[] {
    return this.records.filter((r) => r.lsn >= lsn);
  }
}
