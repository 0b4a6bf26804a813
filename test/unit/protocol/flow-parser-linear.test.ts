import assert from 'node:assert';
import { test } from 'node:test';
import { FlowStreamParser } from '../../../src/protocol/flow-parser';
import { FlowItem } from '../../../src/protocol/types';
import { cat, chunk, f64le, HEADER, listpack, packed, rawStreamId, str } from './rdb/bytes';

/**
 * Big untagged containers arriving in small chunks must cost linear work: the parser drops the bytes
 * of finished elements and re-reads only the unfinished one. Work is measured with stats.scannedBytes
 * (every byte examined by every attempt), not with wall time.
 */

const KIB = 1024;

function feedInChunks(
  bytes: Buffer,
  size: number,
): { items: FlowItem[]; parser: FlowStreamParser; maxBuffered: number } {
  const parser = new FlowStreamParser({ flowId: 0, start: 'rdb' });
  const items: FlowItem[] = [];
  let maxBuffered = 0;
  for (let at = 0; at < bytes.length; at += size) {
    items.push(...parser.feed(bytes.subarray(at, at + size)));
    maxBuffered = Math.max(maxBuffered, parser.stats.buffered);
  }
  items.push(...parser.end());
  return { items, parser, maxBuffered };
}

function assertLinear(parser: FlowStreamParser, total: number): void {
  const { scannedBytes, offset } = parser.stats;
  assert.strictEqual(offset, total);
  // re-reading the unfinished element of each 1 KiB chunk costs a few bytes per chunk; a parser
  // that restarted the entry on every chunk would scan ~total²/2KiB (gigabytes here)
  assert.ok(scannedBytes < total * 1.1, `scanned ${scannedBytes} bytes for a ${total}-byte stream`);
}

test('a 200k-member untagged SET fed in 1 KiB chunks is parsed in linear work', () => {
  const members: Buffer[] = [];
  for (let i = 0; i < 200_000; i++) members.push(str(`member-${String(i).padStart(7, '0')}`));
  const bytes = cat(HEADER, 'FE 00 02', str('big:set'), packed(200_000), Buffer.concat(members));
  const { items, parser, maxBuffered } = feedInChunks(bytes, KIB);
  assert.strictEqual(items.length, 1);
  const entry = items[0]!;
  assert.ok(entry.kind === 'entry' && entry.entry.value.type === 'set');
  assert.strictEqual(entry.entry.value.members.length, 200_000);
  assert.strictEqual(entry.entry.value.members[199_999]!.toString(), 'member-0199999');
  assertLinear(parser, bytes.length);
  assert.ok(
    maxBuffered < KIB + 32,
    `buffered up to ${maxBuffered} bytes (only the unfinished element may stay)`,
  );
});

test('big untagged LIST, HASH, ZSET_2 and STREAM in 1 KiB chunks: linear work', () => {
  const n = 30_000;
  const nodes: Buffer[] = [];
  for (let i = 0; i < n / 100; i++) {
    nodes.push(cat('02', str(listpack(Array.from({ length: 100 }, (_, j) => `item-${i * 100 + j}`)))));
  }
  const fields: Buffer[] = [];
  const zset: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    fields.push(str(`field-${i}`), str(`value-${i}`));
    zset.push(str(`m-${i}`), f64le(i / 2));
  }
  const streamNodes: Buffer[] = [];
  for (let i = 0; i < n / 100; i++) {
    const lp: (string | number)[] = [100, 0, 1, 'f', 0];
    for (let j = 0; j < 100; j++) lp.push(2, j, 0, `v${i * 100 + j}`, 4);
    streamNodes.push(str(rawStreamId(1000 + i, 0)), str(listpack(lp)));
  }
  const stream = cat(
    packed(n / 100),
    Buffer.concat(streamNodes),
    packed(n),
    packed(1000 + n / 100),
    packed(0),
    '00 00 00 00',
    packed(n),
    '00',
  );
  const cases: [string, Buffer, (v: FlowItem) => number][] = [
    [
      'list',
      cat('12', str('l'), packed(n / 100), Buffer.concat(nodes)),
      (i) => (i.kind === 'entry' && i.entry.value.type === 'list' ? i.entry.value.items.length : -1),
    ],
    [
      'hash',
      cat('04', str('h'), packed(n), Buffer.concat(fields)),
      (i) => (i.kind === 'entry' && i.entry.value.type === 'hash' ? i.entry.value.fields.length : -1),
    ],
    [
      'zset',
      cat('05', str('z'), packed(n), Buffer.concat(zset)),
      (i) => (i.kind === 'entry' && i.entry.value.type === 'zset' ? i.entry.value.entries.length : -1),
    ],
    [
      'stream',
      cat('15', str('x'), stream),
      (i) => (i.kind === 'entry' && i.entry.value.type === 'stream' ? i.entry.value.entries.length : -1),
    ],
  ];
  for (const [name, entry, count] of cases) {
    const bytes = cat(HEADER, 'FE 00', entry);
    const { items, parser } = feedInChunks(bytes, KIB);
    assert.strictEqual(items.length, 1, name);
    assert.strictEqual(count(items[0]!), n, name);
    assertLinear(parser, bytes.length);
  }
});

test('a 200k-member SET in 64 KiB tagged chunks, the stream fed in 1 KiB pieces: linear work', () => {
  const members: Buffer[] = [];
  for (let i = 0; i < 200_000; i++) members.push(str(`member-${i}`));
  const payload = cat('02', str('big:set'), packed(200_000), Buffer.concat(members));
  const chunks: Buffer[] = [];
  for (let at = 0; at < payload.length; at += 64 * KIB)
    chunks.push(chunk(9, payload.subarray(at, at + 64 * KIB)));
  const bytes = cat(HEADER, 'FE 00', ...chunks);
  const { items, parser } = feedInChunks(bytes, KIB);
  assert.strictEqual(items.length, 1);
  const entry = items[0]!;
  assert.ok(entry.kind === 'entry' && entry.entry.value.type === 'set');
  assert.strictEqual(entry.entry.value.members.length, 200_000);
  // the outer stream is scanned once per chunk attempt and the payload once by the entry reader
  assert.ok(parser.stats.scannedBytes < bytes.length * 2.2, `scanned ${parser.stats.scannedBytes}`);
});
