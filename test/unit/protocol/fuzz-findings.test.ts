import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ProtocolError } from '../../../src/protocol/errors';
import { FlowStreamParser } from '../../../src/protocol/flow-parser';
import { lzfCompress } from '../../support/fuzz-corpus';
import {
  CaseLimits,
  DEFAULT_LIMITS,
  exposeGc,
  flowCase,
  FuzzCase,
  runCase,
} from '../../support/fuzz-targets';
import { HEADER, hx as hex } from './rdb/bytes';

/**
 * Minimal reproductions of what the fuzzer (fuzz.test.ts, scripts/fuzz.ts) found in the parsers.
 * Each test states the behaviour the parsers promise; it fails until the parser is fixed.
 */

/** The fuzzer's limits, measured from a clean heap (so earlier garbage cannot hide an allocation). */
const gc = exposeGc();
const LIMITS: CaseLimits = { ...DEFAULT_LIMITS, collectGarbage: gc };

function outcomeText(c: FuzzCase): string {
  gc();
  const outcome = runCase(c, LIMITS);
  if (outcome.kind === 'finding') return `${outcome.finding.kind}: ${outcome.finding.detail}`;
  return outcome.kind;
}

/** The ProtocolError a flow parser raises for `bytes` (fed whole, then end()). */
function flowError(bytes: Buffer): ProtocolError {
  const parser = new FlowStreamParser({ flowId: 1, start: 'rdb' });
  try {
    parser.feed(bytes);
    parser.end();
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `expected a ProtocolError, got ${String(e)}`);
    return e;
  }
  assert.fail('the input was accepted');
}

test('an LZF string declaring 1 GiB with 2 bytes of data is rejected without allocating 1 GiB', () => {
  // STRING key "k", value C3 (LZF) clen 2, ulen 80 40000000 (1 GiB), data 00 61 (one literal "a").
  // Cursor.rdbString allows ulen up to its 1 GiB limit and lzfDecompress allocates ulen up front.
  const input = Buffer.concat([HEADER, hex('00 01 6B C3 02 80 40 00 00 00 00 61')]);
  assert.equal(outcomeText(flowCase('LZF ulen 1 GiB', input)), 'rejected');
});

test('a 13-byte zstd frame declaring 256 MiB is rejected without allocating the declared size twice over', () => {
  // FHD 0x80 (4-byte content size, window byte 00), content size 0x10000000, one empty last raw block.
  // decompressZstdFrame allocates 256 MiB for the output and fzstd a 512 MiB window before failing;
  // Dragonfly's blobs decompress to at most 1 MiB (spec 3.6).
  const frame = hex('28 B5 2F FD 80 00 00 00 00 10 01 00 00');
  const zstd: FuzzCase = {
    target: 'zstd',
    label: 'zstd 256 MiB',
    applied: [],
    bytes: frame,
    chunkSizes: [13],
  };
  assert.equal(outcomeText(zstd), 'rejected');
  const input = Buffer.concat([HEADER, hex('C9 0D'), frame]);
  assert.equal(outcomeText(flowCase('zstd blob 256 MiB', input)), 'rejected');
});

test('an error inside a listpack names the offset of the offending byte in the stream', () => {
  // HASH_LISTPACK "k": string length 0B at byte 12, the listpack from byte 13; its element encoding
  // byte 0xF5 (invalid) is listpack byte 6 = stream byte 19. The container decoders get the offset
  // of the string's length prefix as their base, so the error says 18.
  const input = Buffer.concat([HEADER, hex('10 01 6B 0B 0B 00 00 00 01 00 F5 00 00 00 FF')]);
  const e = flowError(input);
  assert.match(e.message, /0xF5/);
  assert.equal(e.offset, 19, e.message);
});

test('an error inside an LZF-compressed listpack names an offset within the stream', () => {
  // HASH_LISTPACK whose listpack (1208 bytes: 200 elements "aaaa", then 0xF5) is LZF-compressed to
  // a few bytes: the error offset is the string's offset plus the position in the *decompressed*
  // listpack, far beyond the 47 bytes received.
  const element = hex('84 61 61 61 61 05');
  const body = Buffer.concat([...Array<Buffer>(200).fill(element), hex('F5')]);
  const listpack = Buffer.concat([Buffer.alloc(6), body, hex('FF')]);
  listpack.writeUInt32LE(listpack.length, 0);
  listpack.writeUInt16LE(201, 4);
  const compressed = lzfCompress(listpack);
  const packed = (n: number): Buffer => Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const lzfString = Buffer.concat([
    hex('C3'),
    packed(compressed.length),
    packed(listpack.length),
    compressed,
  ]);
  const input = Buffer.concat([HEADER, hex('10 01 6B'), lzfString]);
  const e = flowError(input);
  assert.match(e.message, /0xF5/);
  assert.ok(
    e.offset < input.length,
    `offset ${e.offset} is past the ${input.length}-byte stream: ${e.message}`,
  );
});
