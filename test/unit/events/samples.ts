/** Sample protocol values and positions shared by the event tests. */
import {
  journalRecordToEvents,
  markerEvent,
  snapshotEntryToEvents,
  type ChangeEvent,
  type EventPosition,
} from '../../../src/events/model';
import type { RdbValue, SnapshotEntry } from '../../../src/protocol/types';

export const position: EventPosition = {
  origin: {
    sourceId: 'src-1',
    masterId: 'f4c2a6e1d0b94d6c8a9e3b2d7c1f0e5a4b3c2d1e',
    dragonflyVersion: 'v1.40.1',
    epoch: 3,
    flow: 2,
    shardCount: 4,
  },
  phase: 'SNAPSHOT',
  lsn: 0,
  index: 17,
  timestampMs: 1_795_305_663_150,
};

const b = (text: string): Buffer => Buffer.from(text);

/** Bytes of every value 0..255, so binary safety is exercised. */
export const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

export function numbered(prefix: string, count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => b(`${prefix}${i}`));
}

/** One value of every RdbValue variant (incl. member/field TTLs, a stream with groups and 2^64-1 ids). */
export const sampleValues: Record<string, { rdbType: number; value: RdbValue }> = {
  string: {
    rdbType: 0,
    value: { type: 'string', value: Buffer.concat([allBytes, allBytes, allBytes, allBytes, b('tail')]) },
  },
  emptyString: { rdbType: 0, value: { type: 'string', value: Buffer.alloc(0) } },
  list: {
    rdbType: 18,
    value: { type: 'list', items: [...numbered('item-', 40), Buffer.alloc(0), allBytes] },
  },
  set: { rdbType: 2, value: { type: 'set', members: numbered('m', 50) } },
  setWithExpiry: {
    rdbType: 32,
    value: {
      type: 'set',
      members: numbered('sm', 30),
      memberExpireAtMs: Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? null : 1_795_305_000_000 + i)),
    },
  },
  zset: {
    rdbType: 5,
    value: {
      type: 'zset',
      entries: [
        ...numbered('z', 30).map((member, i) => ({ member, score: i / 7 })),
        { member: b('inf'), score: Infinity },
        { member: b('-inf'), score: -Infinity },
        { member: b('neg'), score: -0.5 },
      ],
    },
  },
  hash: {
    rdbType: 4,
    value: { type: 'hash', fields: numbered('f', 35).map((field, i) => ({ field, value: b(`value-${i}`) })) },
  },
  hashWithExpiry: {
    rdbType: 31,
    value: {
      type: 'hash',
      fields: numbered('hf', 25).map((field, i) => ({
        field,
        value: b(`v${i}`),
        expireAtMs: i % 2 === 0 ? 1_795_306_000_000 + i : null,
      })),
    },
  },
  stream: {
    rdbType: 21,
    value: {
      type: 'stream',
      entries: Array.from({ length: 25 }, (_, i) => ({
        id: { ms: 1_795_305_663_152n + BigInt(i), seq: BigInt(i % 3) },
        fields: [b('f'), b(`v${i}`), b('g'), allBytes.subarray(0, i)],
      })),
      length: 25,
      lastId: { ms: 1_795_305_663_176n, seq: 18_446_744_073_709_551_615n },
      firstId: { ms: 1_795_305_663_152n, seq: 0n },
      maxDeletedId: { ms: 0n, seq: 0n },
      entriesAdded: 27,
      groups: [
        {
          name: b('grp'),
          lastDeliveredId: { ms: 1_795_305_663_160n, seq: 1n },
          entriesRead: 9,
          pending: Array.from({ length: 12 }, (_, i) => ({
            id: { ms: 1_795_305_663_152n + BigInt(i), seq: 0n },
            deliveryTimeMs: 1_795_305_663_200 + i,
            deliveryCount: i + 1,
          })),
          consumers: [
            {
              name: b('alice'),
              seenTimeMs: 1_795_305_663_300,
              activeTimeMs: 1_795_305_663_301,
              pending: Array.from({ length: 8 }, (_, i) => ({ ms: 1_795_305_663_152n + BigInt(i), seq: 0n })),
            },
            {
              name: b('bob'),
              seenTimeMs: 1_795_305_663_400,
              activeTimeMs: null,
              pending: Array.from({ length: 4 }, (_, i) => ({ ms: 1_795_305_663_160n + BigInt(i), seq: 0n })),
            },
          ],
        },
        {
          name: b('empty-group'),
          lastDeliveredId: { ms: 0n, seq: 0n },
          entriesRead: null,
          pending: [],
          consumers: [],
        },
      ],
    },
  },
  json: {
    rdbType: 30,
    value: { type: 'json', json: b(JSON.stringify({ a: [1, 2, 3], b: 'x'.repeat(1000) })) },
  },
  bloom: {
    rdbType: 33,
    value: { type: 'sketch', kind: 'SBF', rdbType: 33, raw: Buffer.concat([allBytes, allBytes]) },
  },
  topk: {
    rdbType: 36,
    value: { type: 'sketch', kind: 'TOPK', rdbType: 36, raw: Buffer.concat([allBytes, allBytes, allBytes]) },
  },
};

export function entryOf(name: string, db = 5): SnapshotEntry {
  const sample = sampleValues[name];
  if (sample === undefined) throw new Error(`no sample ${name}`);
  return {
    db,
    key: Buffer.from(`key:${name}`),
    expireAtMs: name.length % 2 === 0 ? 1_795_400_000_000 : null,
    flags: { sticky: name === 'list', mcFlags: name === 'string' ? 9 : null },
    rdbType: sample.rdbType,
    value: sample.value,
  };
}

/** Deep copy into plain objects (avsc returns record class instances), Buffers kept as Buffers. */
export function plain<T>(value: T): T {
  if (Buffer.isBuffer(value)) return Buffer.from(value) as T;
  if (Array.isArray(value)) return value.map(plain) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])) as T;
  }
  return value;
}

const stable = { ...position, phase: 'STABLE' as const, lsn: 1234, index: 0 };

/** One event of every payload kind (and every value kind). */
export function everyPayload(): ChangeEvent[] {
  return [
    markerEvent(
      { ...position, index: 0 },
      { type: 'SnapshotStarted', epoch: 3, flows: 4, reason: 'RESYNC_STALE_POSITION' },
    ),
    ...Object.keys(sampleValues).flatMap((name) => snapshotEntryToEvents(entryOf(name), position, 1 << 20)),
    ...journalRecordToEvents(
      { op: 'command', db: 3, txid: 15, shardCount: 1, args: [Buffer.from('FLUSHDB')] },
      true,
      position,
      1 << 20,
    ),
    ...journalRecordToEvents(
      {
        op: 'multi_command',
        db: 0,
        txid: 9,
        shardCount: 2,
        args: ['SET', 'k', 'v'].map((s) => Buffer.from(s)),
      },
      false,
      stable,
      1 << 20,
    ),
    ...journalRecordToEvents(
      { op: 'exec', db: 0, txid: 9, shardCount: 2 },
      false,
      { ...stable, lsn: 1235 },
      1 << 20,
    ),
    ...journalRecordToEvents(
      { op: 'expired', db: 2, txid: 0, shardCount: 1, args: [Buffer.from('DEL'), Buffer.from([0xff, 0x00])] },
      false,
      { ...stable, lsn: 1236 },
      1 << 20,
    ),
    markerEvent(position, { type: 'SnapshotFinished', keys: 100, recordEvents: 130, journalRecords: 7 }),
    markerEvent(position, { type: 'StableSyncStarted', flow: 2, journalOffset: 114_641 }),
    markerEvent(stable, { type: 'Heartbeat', lsn: 1236 }),
    markerEvent(position, { type: 'Heartbeat', lsn: null }),
  ];
}
