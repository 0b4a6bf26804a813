import { Cursor } from './cursor';
import { JournalRecord } from './types';
import { copyBytes } from './bytes';

/**
 * One journal entry (spec 5.1), as found in the stable-sync stream and inside JOURNAL_BLOBs. Every
 * integer is a packed uint; strings are packed length + raw bytes. There is no outer framing, so a
 * short read throws the cursor's NEED_MORE and the caller retries from the entry's start.
 */

export const JOURNAL_OPCODE = {
  NOOP: 0,
  SELECT: 6,
  EXPIRED: 9,
  COMMAND: 10,
  MULTI_COMMAND: 11,
  EXEC: 12,
  PING: 13,
  FIN: 14,
  LSN: 15,
} as const;

/** Largest argument count / total argument bytes accepted in one record (sanity bounds on garbage). */
export const MAX_JOURNAL_ARGS = 1 << 24;
export const MAX_JOURNAL_TOTAL_LEN = 1 << 30;
const MAX_DB_INDEX = 0xffff;

/** Reader state that outlives one entry: the db chosen by the last SELECT prefix (0 at start). */
export interface JournalState {
  db: number;
}

export type JournalEntry = { kind: 'record'; record: JournalRecord } | { kind: 'lsn'; lsn: number };

/**
 * Reads one entry. A SELECT prefix is consumed together with the entry it prefixes and sets
 * `state.db` (only once that entry is complete, so a NEED_MORE retry sees the old state).
 */
export function readJournalEntry(c: Cursor, state: JournalState): JournalEntry {
  let db = state.db;
  for (;;) {
    const at = c.pos;
    const opcode = packed(c, 'journal opcode');
    switch (opcode) {
      case JOURNAL_OPCODE.SELECT: {
        const dbAt = c.pos;
        db = packed(c, 'journal SELECT db');
        if (db > MAX_DB_INDEX)
          throw c.error('journal SELECT db', `a db index up to ${MAX_DB_INDEX}, got ${db}`, dbAt);
        continue;
      }
      case JOURNAL_OPCODE.COMMAND:
      case JOURNAL_OPCODE.EXPIRED:
      case JOURNAL_OPCODE.MULTI_COMMAND: {
        const txid = packed(c, 'journal txid');
        const shardCount = packed(c, 'journal shard count');
        const args = readArgs(c);
        const op =
          opcode === JOURNAL_OPCODE.COMMAND
            ? 'command'
            : opcode === JOURNAL_OPCODE.EXPIRED
              ? 'expired'
              : 'multi_command';
        state.db = db;
        return { kind: 'record', record: { op, db, txid, shardCount, args } };
      }
      case JOURNAL_OPCODE.EXEC: {
        const txid = packed(c, 'journal txid');
        const shardCount = packed(c, 'journal shard count');
        state.db = db;
        return { kind: 'record', record: { op: 'exec', db, txid, shardCount } };
      }
      case JOURNAL_OPCODE.PING:
        state.db = db;
        return { kind: 'record', record: { op: 'ping' } };
      case JOURNAL_OPCODE.NOOP:
        state.db = db;
        return { kind: 'record', record: { op: 'noop' } };
      case JOURNAL_OPCODE.FIN:
        state.db = db;
        return { kind: 'record', record: { op: 'fin' } };
      case JOURNAL_OPCODE.LSN: {
        const lsn = packed(c, 'journal LSN');
        state.db = db;
        return { kind: 'lsn', lsn };
      }
      default:
        throw c.error(
          'journal entry',
          `unknown journal opcode ${opcode} (known: 0, 6, 9-15); the stream is corrupt or from an unsupported version`,
          at,
        );
    }
  }
}

/**
 * `nargs`, `total_len`, then nargs × (len, bytes). Checks and waits for the whole payload before
 * copying anything, so a record arriving in many small reads is not copied again on every retry.
 * The arguments are views into one copy of the payload.
 */
function readArgs(c: Cursor): Buffer[] {
  const nargsAt = c.pos;
  const nargs = packed(c, 'journal nargs');
  if (nargs < 1 || nargs > MAX_JOURNAL_ARGS) {
    throw c.error(
      'journal nargs',
      `1 to ${MAX_JOURNAL_ARGS} arguments (command name included), got ${nargs}`,
      nargsAt,
    );
  }
  const totalAt = c.pos;
  const totalLen = packed(c, 'journal total_len');
  if (totalLen > MAX_JOURNAL_TOTAL_LEN) {
    throw c.error(
      'journal total_len',
      `at most ${MAX_JOURNAL_TOTAL_LEN} bytes of arguments, got ${totalLen}`,
      totalAt,
    );
  }
  // every argument has at least a 1-byte length prefix: a lower bound for the rest of the record
  c.ensure(totalLen + nargs);
  const argsStart = c.pos;
  let sum = 0;
  for (let i = 0; i < nargs; i++) {
    const lenAt = c.pos;
    const len = packed(c, 'journal argument length');
    if (len > totalLen - sum) {
      throw c.error(
        'journal argument length',
        `argument ${i + 1} of ${nargs} to fit the remaining ${totalLen - sum} of total_len ${totalLen}, got ${len}`,
        lenAt,
      );
    }
    c.skip(len);
    sum += len;
  }
  if (sum !== totalLen) {
    throw c.error(
      'journal total_len',
      `total_len ${totalLen} to equal the sum of the argument lengths ${sum}`,
      totalAt,
    );
  }
  const end = c.pos;
  const payload = Buffer.allocUnsafe(totalLen);
  const args = new Array<Buffer>(nargs);
  c.pos = argsStart;
  let filled = 0;
  for (let i = 0; i < nargs; i++) {
    const len = packed(c, 'journal argument length');
    copyBytes(c.buf, c.pos, payload, filled, len);
    args[i] = payload.subarray(filled, filled + len);
    c.pos += len;
    filled += len;
  }
  c.pos = end;
  return args;
}

/**
 * A packed uint with the 1- and 2-byte forms read inline: journal fields are almost always below
 * 16384, and this is the hot path of stable sync. Longer forms (and errors) go through the cursor.
 */
function packed(c: Cursor, item: string): number {
  const { buf, pos } = c;
  if (pos < c.end) {
    const b0 = buf[pos]!;
    if (b0 < 0x40) {
      c.pos = pos + 1;
      return b0;
    }
    if (b0 < 0x80 && pos + 1 < c.end) {
      c.pos = pos + 2;
      return ((b0 & 0x3f) << 8) | buf[pos + 1]!;
    }
  }
  return c.packed(item);
}
