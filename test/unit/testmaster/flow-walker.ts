import { Cursor } from '../../../src/protocol/cursor';
import { decompressLz4Frame, decompressZstdFrame } from '../../../src/protocol/compression';
import { isNeedMore } from '../../../src/protocol/errors';
import { decodeIntset } from '../../../src/protocol/intset';
import { readJournalEntry, type JournalEntry } from '../../../src/protocol/journal';
import { decodeListpack } from '../../../src/protocol/listpack';
import type { RdbValue } from '../../../src/protocol/types';
import type { EncodableEntry } from '../../../src/testmaster/encoder';

/**
 * Splits a recorded flow stream into its top-level items, each with the exact bytes it occupied, so
 * the encoder's output can be compared with the master's bytes item by item. Compressed blobs are
 * opened and their items walked the same way. Entry types the encoder does not write (streams,
 * sketches) stop the walk of that run of items; tagged chunks and LZF strings are counted, not compared.
 */

export type WalkedItem =
  | { kind: 'aux'; key: string; value: Buffer; bytes: Buffer }
  | { kind: 'selectDb'; db: number; bytes: Buffer }
  | { kind: 'entry'; entry: EncodableEntry; bytes: Buffer }
  | { kind: 'blob'; record: JournalEntry; bytes: Buffer }
  | { kind: 'fullSyncEnd'; bytes: Buffer }
  | { kind: 'journalOffset'; lsn: number; bytes: Buffer }
  | { kind: 'eof'; token: string; bytes: Buffer }
  | { kind: 'journal'; entry: JournalEntry; bytes: Buffer };

export interface WalkResult {
  items: WalkedItem[];
  /** items seen but not comparable (tagged chunks, LZF strings, unsupported types), by reason */
  skipped: Map<string, number>;
}

class Unsupported extends Error {}

const MEMBER_EXPIRY_BASE_S = 1675209600;

function parseScore(text: Buffer): number {
  const s = text.toString('latin1').toLowerCase();
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return Number(s);
}

function ttlToMs(text: Buffer): number | null {
  const n = Number(text.toString('latin1'));
  return n === -1 ? null : (n + MEMBER_EXPIRY_BASE_S) * 1000;
}

/** An RDB string, refusing LZF (the encoder never writes it, so such items are not comparable). */
function str(c: Cursor): Buffer {
  if (c.remaining > 0 && c.buf[c.pos] === 0xc3) throw new Unsupported('LZF string');
  return c.rdbString('string');
}

function readValue(c: Cursor, type: number): RdbValue {
  switch (type) {
    case 0:
      return { type: 'string', value: str(c) };
    case 30:
      return { type: 'json', json: str(c) };
    case 2: {
      const n = c.packed('set size');
      return { type: 'set', members: Array.from({ length: n }, () => str(c)) };
    }
    case 11:
      return { type: 'set', members: decodeIntset(str(c)) };
    case 32: {
      const n = c.packed('set size');
      const members: Buffer[] = [];
      const memberExpireAtMs: (number | null)[] = [];
      for (let i = 0; i < n; i++) {
        members.push(str(c));
        memberExpireAtMs.push(ttlToMs(str(c)));
      }
      return { type: 'set', members, memberExpireAtMs };
    }
    case 4:
    case 31: {
      const n = c.packed('hash size');
      const fields = Array.from({ length: n }, () => {
        const field = str(c);
        const value = str(c);
        return type === 31 ? { field, value, expireAtMs: ttlToMs(str(c)) } : { field, value };
      });
      return { type: 'hash', fields };
    }
    case 16: {
      const lp = decodeListpack(str(c));
      const fields = [];
      for (let i = 0; i < lp.length; i += 2) fields.push({ field: lp[i]!, value: lp[i + 1]! });
      return { type: 'hash', fields };
    }
    case 17: {
      const lp = decodeListpack(str(c));
      const entries = [];
      for (let i = 0; i < lp.length; i += 2) entries.push({ member: lp[i]!, score: parseScore(lp[i + 1]!) });
      return { type: 'zset', entries };
    }
    case 5: {
      const n = c.packed('zset size');
      return {
        type: 'zset',
        entries: Array.from({ length: n }, () => ({ member: str(c), score: c.f64le() })),
      };
    }
    case 18: {
      const nodes = c.packed('quicklist nodes');
      const items: Buffer[] = [];
      for (let i = 0; i < nodes; i++) {
        const container = c.packed('quicklist container');
        const node = str(c);
        if (container === 2) items.push(...decodeListpack(node));
        else items.push(node);
      }
      return { type: 'list', items };
    }
    default:
      throw new Unsupported(`RDB type ${type}`);
  }
}

function readEntry(c: Cursor): EncodableEntry {
  let expireAtMs: number | null = null;
  let sticky = false;
  let mcFlags: number | null = null;
  for (;;) {
    const op = c.buf[c.pos]!;
    if (op === 0xfc) {
      c.skip(1);
      expireAtMs = c.i64le();
    } else if (op === 0xdc) {
      c.skip(1);
      const mask = c.u32le();
      sticky = (mask & 1) !== 0;
      if (mask & 2) mcFlags = c.u32le();
    } else break;
  }
  const rdbType = c.u8();
  if (c.buf[c.pos] === 0xc3) throw new Unsupported('LZF key');
  const key = c.rdbString('key');
  const value = readValue(c, rdbType);
  return { key, value, expireAtMs, flags: { sticky, mcFlags }, rdbType };
}

function span(c: Cursor, from: number): Buffer {
  return Buffer.from(c.buf.subarray(from, c.pos));
}

function count(skipped: Map<string, number>, reason: string): void {
  skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
}

/** Walks the items after the AUX header; returns where the RDB part ended (after EOF + token), or -1. */
function walkItems(c: Cursor, out: WalkResult, tokenLength: number): boolean {
  while (c.remaining > 0) {
    const at = c.pos;
    const op = c.u8();
    switch (op) {
      case 0xfe:
        out.items.push({ kind: 'selectDb', db: c.packed('db'), bytes: span(c, at) });
        break;
      case 0xc8:
        c.skip(8);
        out.items.push({ kind: 'fullSyncEnd', bytes: span(c, at) });
        break;
      case 0xd3:
        out.items.push({ kind: 'journalOffset', lsn: c.u64le('offset'), bytes: span(c, at) });
        break;
      case 0xff: {
        c.skip(8);
        const token = c.bytes(tokenLength).toString('latin1');
        out.items.push({ kind: 'eof', token, bytes: span(c, at) });
        return true;
      }
      case 0xd2: {
        c.packed('blob count');
        if (c.buf[c.pos] === 0xc3) {
          c.rdbString('blob');
          count(out.skipped, 'LZF journal blob');
          break;
        }
        const body = c.rdbString('blob');
        const record = readJournalEntry(new Cursor(body), { db: 0 });
        out.items.push({ kind: 'blob', record, bytes: span(c, at) });
        break;
      }
      case 0xca:
      case 0xc9: {
        const frame = c.view(c.packed('blob length'));
        const inner = op === 0xca ? decompressLz4Frame(frame) : decompressZstdFrame(frame);
        walkItems(new Cursor(inner), out, tokenLength);
        break;
      }
      case 0xe0: {
        c.u32le();
        c.skip(c.u32le());
        count(out.skipped, 'tagged chunk');
        break;
      }
      default: {
        c.pos = at;
        try {
          const entry = readEntry(c);
          out.items.push({ kind: 'entry', entry, bytes: span(c, at) });
        } catch (e) {
          if (!(e instanceof Unsupported)) throw e;
          count(out.skipped, e.message);
          return false;
        }
      }
    }
  }
  return false;
}

function walkJournal(c: Cursor, out: WalkResult): void {
  const state = { db: 0 };
  while (c.remaining > 0) {
    const at = c.pos;
    try {
      const entry = readJournalEntry(c, state);
      out.items.push({ kind: 'journal', entry, bytes: span(c, at) });
    } catch (e) {
      if (isNeedMore(e)) return;
      throw e;
    }
  }
}

/** Walks one flow's recorded stream (the bytes after the FLOW reply). */
export function walkFlow(stream: Buffer, mode: 'FULL' | 'PARTIAL', eofToken: string): WalkResult {
  const out: WalkResult = { items: [], skipped: new Map() };
  const c = new Cursor(stream);
  if (mode === 'PARTIAL') {
    walkJournal(c, out);
    return out;
  }
  c.skip(9);
  while (c.buf[c.pos] === 0xfa) {
    const at = c.pos;
    c.skip(1);
    const key = c.rdbString('aux key').toString('latin1');
    const value = c.rdbString('aux value');
    out.items.push({ kind: 'aux', key, value, bytes: span(c, at) });
  }
  if (!walkItems(c, out, eofToken.length)) {
    // lost the item boundaries: resume at the EOF marker, which is followed by the known token
    const eof = stream.indexOf(Buffer.concat([Buffer.alloc(8), Buffer.from(eofToken, 'latin1')]), c.pos);
    if (eof < 1) return out;
    c.pos = eof - 1;
    walkItems(c, out, eofToken.length);
  }
  walkJournal(c, out);
  return out;
}
