/**
 * Encode/decode throughput of the event codec: `npx tsx bench/event-codec.ts [events]`.
 * Journal SETs (the stable-sync hot path) and small snapshot hashes, single-object encoding.
 */
import { EventCodec } from '../src/events/codec';
import {
  eventKey,
  journalRecordToEvents,
  snapshotEntryToEvents,
  type ChangeEvent,
  type EventPosition,
} from '../src/events/model';

const count = Number(process.argv[2] ?? 200_000);
const position: EventPosition = {
  origin: {
    sourceId: 'bench',
    masterId: 'a'.repeat(40),
    dragonflyVersion: 'v1.40.1',
    epoch: 1,
    flow: 0,
    shardCount: 4,
  },
  phase: 'STABLE',
  lsn: 1,
  index: 0,
  timestampMs: Date.now(),
};

function journalEvents(): ChangeEvent[] {
  return Array.from({ length: count }, (_, i) =>
    journalRecordToEvents(
      {
        op: 'command',
        db: 0,
        txid: 0,
        shardCount: 1,
        args: [Buffer.from('SET'), Buffer.from(`key:${i}`), Buffer.alloc(100, 1)],
      },
      false,
      { ...position, lsn: i + 1 },
      1 << 20,
    ),
  ).flat();
}

function snapshotEvents(): ChangeEvent[] {
  return Array.from({ length: count }, (_, i) =>
    snapshotEntryToEvents(
      {
        db: 0,
        key: Buffer.from(`hash:${i}`),
        expireAtMs: null,
        flags: { sticky: false, mcFlags: null },
        rdbType: 16,
        value: {
          type: 'hash',
          fields: Array.from({ length: 10 }, (_, f) => ({
            field: Buffer.from(`f${f}`),
            value: Buffer.alloc(20, f),
          })),
        },
      },
      { ...position, phase: 'SNAPSHOT', lsn: 0, index: i },
      1 << 20,
    ),
  ).flat();
}

async function measure(name: string, events: ChangeEvent[], codec: EventCodec): Promise<void> {
  let bytes = 0;
  const started = process.hrtime.bigint();
  const encoded = events.map((e) => {
    const value = codec.encodeValue(e);
    bytes += value.length + codec.encodeKey(eventKey(e)).length;
    return value;
  });
  const encodeSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const decodeStarted = process.hrtime.bigint();
  for (const message of encoded) await codec.decodeValue(message);
  const decodeSeconds = Number(process.hrtime.bigint() - decodeStarted) / 1e9;
  const rate = (seconds: number): string =>
    `${Math.round(events.length / seconds).toLocaleString('en')} events/s`;
  console.log(
    `${name}: ${events.length} events, ${(bytes / events.length).toFixed(0)} bytes each (key + value); ` +
      `encode ${rate(encodeSeconds)}, decode ${rate(decodeSeconds)}`,
  );
}

async function main(): Promise<void> {
  const codec = await EventCodec.create();
  await measure('journal SET', journalEvents(), codec);
  await measure('snapshot hash (10 fields)', snapshotEvents(), codec);
}

void main();
