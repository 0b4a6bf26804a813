import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  decompressLz4Frame,
  decompressZstdFrame,
  MAX_DECOMPRESSED_SIZE,
} from '../../../src/protocol/compression';
import { ProtocolError } from '../../../src/protocol/errors';
import { findBlobFrames, readFlowStreams } from '../../support/fixture-frames';
import { findFixture } from '../../support/fixtures';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isProtocolError = (e: unknown): boolean => e instanceof ProtocolError;

/** xxHash32 (seed 0) of fewer than 16 bytes: enough for an LZ4 frame descriptor's header checksum. */
function xxh32Short(data: Buffer): number {
  const P1 = 2654435761;
  const P3 = 3266489917;
  const P4 = 668265263;
  const P5 = 374761393;
  const P2 = 2246822519;
  const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
  assert.ok(data.length < 16);
  let h = (P5 + data.length) | 0;
  let i = 0;
  for (; i + 4 <= data.length; i += 4)
    h = Math.imul(rotl((h + Math.imul(data.readUInt32LE(i), P3)) | 0, 17), P4);
  for (; i < data.length; i++) h = Math.imul(rotl((h + Math.imul(data[i]!, P5)) | 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An LZ4 frame with content size: FLG, BD 0x40, size, header checksum, the given blocks, end mark. */
function lz4Frame(flg: number, contentSize: number, blocks: { data: Buffer; raw: boolean }[]): Buffer {
  const descriptor = Buffer.alloc(10);
  descriptor[0] = flg;
  descriptor[1] = 0x40;
  descriptor.writeBigUInt64LE(BigInt(contentSize), 2);
  const hc = (xxh32Short(descriptor) >>> 8) & 0xff;
  const parts = [hex('04 22 4D 18'), descriptor, Buffer.from([hc])];
  for (const b of blocks) {
    const size = Buffer.alloc(4);
    size.writeUInt32LE((b.data.length | (b.raw ? 0x80000000 : 0)) >>> 0);
    parts.push(size, b.data);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** Spec 9.6: LZ4 frame with one uncompressed block holding SELECTDB 0 + foo=bar. */
const SPEC_9_6_FRAME = hex(
  '04 22 4D 18  68 40 0B 00 00 00 00 00 00 00 58  0B 00 00 80  FE 00 00 03 66 6F 6F 03 62 61 72  00 00 00 00',
);

test('spec 9.6: LZ4 frame with an uncompressed block', () => {
  assert.deepEqual(decompressLz4Frame(SPEC_9_6_FRAME), hex('FE 00 00 03 66 6F 6F 03 62 61 72'));
});

test('the test frame builder reproduces the spec 9.6 header checksum', () => {
  const content = hex('FE 00 00 03 66 6F 6F 03 62 61 72');
  assert.deepEqual(lz4Frame(0x68, 11, [{ data: content, raw: true }]), SPEC_9_6_FRAME);
});

test('linked blocks: a match in block 2 copies bytes decoded from block 1 (hand-built, FLG 0x48)', () => {
  const block1 = { data: Buffer.from('abcdefgh'), raw: true };
  // token 0x04: no literals, match length 4+4 = 8 at offset 8 (all of block 1); then 5 literals
  const block2 = { data: Buffer.concat([hex('04 08 00 50'), Buffer.from('ABCDE')]), raw: false };
  const out = decompressLz4Frame(lz4Frame(0x48, 21, [block1, block2]));
  assert.equal(out.toString('latin1'), 'abcdefghabcdefghABCDE');
  // the same blocks marked independent must not reach into block 1
  assert.throws(() => decompressLz4Frame(lz4Frame(0x68, 21, [block1, block2])), isProtocolError);
});

test('LZ4: content size different from the decoded size is a ProtocolError', () => {
  const content = hex('FE 00 00 03 66 6F 6F 03 62 61 72');
  for (const declared of [10, 12]) {
    assert.throws(
      () => decompressLz4Frame(lz4Frame(0x68, declared, [{ data: content, raw: true }]), 100),
      (e: unknown) => e instanceof ProtocolError && e.item === 'LZ4 blob' && /content/i.test(e.message),
    );
  }
});

test('LZ4: bad magic, version, missing content size, dictionary, header checksum, block size are rejected', () => {
  const mutate = (at: number, value: number): Buffer => {
    const b = Buffer.from(SPEC_9_6_FRAME);
    b[at] = value;
    return b;
  };
  const cases = [
    mutate(0, 0x05),
    mutate(4, 0xa8), // version 10
    mutate(4, 0x60), // no content size
    mutate(4, 0x69), // dictionary id
    mutate(5, 0x30), // block size code 3
    mutate(14, 0x59), // header checksum
    mutate(16, 0x01), // block of 65547 bytes > 64 KiB
  ];
  for (const c of cases) assert.throws(() => decompressLz4Frame(c), isProtocolError, c.toString('hex'));
});

test('LZ4: a content size above the bound is refused before decompressing', () => {
  const frame = lz4Frame(0x68, MAX_DECOMPRESSED_SIZE + 1, [{ data: Buffer.from('x'), raw: true }]);
  assert.throws(
    () => decompressLz4Frame(frame, 7),
    (e: unknown) => e instanceof ProtocolError && e.offset === 13 && /content size up to/.test(e.message),
  );
});

test('LZ4: every truncation and trailing bytes are ProtocolErrors', () => {
  for (let n = 0; n < SPEC_9_6_FRAME.length; n++) {
    assert.throws(() => decompressLz4Frame(SPEC_9_6_FRAME.subarray(0, n)), isProtocolError, `cut at ${n}`);
  }
  assert.throws(() => decompressLz4Frame(Buffer.concat([SPEC_9_6_FRAME, hex('00')])), isProtocolError);
});

const typesFlows = readFlowStreams(findFixture('dragonfly-v1.40.1/types').capturePath);
const bigValuesFlows = readFlowStreams(findFixture('dragonfly-v1.40.1/big_values').capturePath);
const flushesFlows = readFlowStreams(findFixture('dragonfly-v1.40.1/flushes').capturePath);

test('real bytes (fixture types): all 7 LZ4 frames decode to their content size; blobs start FE 00 or E0', () => {
  const frames = typesFlows.flatMap((f) => findBlobFrames(f, 'lz4'));
  assert.equal(frames.length, 7);
  for (const { frame, offset } of frames) {
    const out = decompressLz4Frame(frame, offset);
    assert.equal(out.length, Number(frame.readBigUInt64LE(6)));
    // a blob starts with SELECTDB 0, or continues a tagged entry with its next chunk (spec 12.6)
    assert.ok(out[0] === 0xfe ? out[1] === 0x00 : out[0] === 0xe0, out.subarray(0, 2).toString('hex'));
  }
});

test('real bytes (fixture types, flow 3, spec 12.5): linked-block frame FLG 0x48 → 160,025 bytes', () => {
  const flow3 = typesFlows.find((f) => f.flowId === 3)!;
  const linked = findBlobFrames(flow3, 'lz4').filter((f) => f.frame[4] === 0x48);
  assert.ok(linked.length >= 1);
  const { frame, offset } = linked[0]!;
  assert.equal(frame.length, 720);
  assert.deepEqual(flow3.bytes.subarray(offset - 3, offset + 6), hex('CA 42 D0 04 22 4D 18 48 40'));
  const out = decompressLz4Frame(frame, offset);
  assert.equal(out.length, 160025);
  assert.deepEqual(out.subarray(0, 4), hex('FE 00 00 10'));
  assert.ok(out.includes(Buffer.from('abcdefgh'.repeat(20000))), 'the 160 KB "abcdefgh" × 20000 string');
});

test('real bytes (fixture types, flow 0, spec 12.4): first LZ4 blob, content 33,903, starts FE 00 02', () => {
  const flow0 = typesFlows.find((f) => f.flowId === 0)!;
  const { frame, offset } = findBlobFrames(flow0, 'lz4')[0]!;
  assert.equal(frame.length, 19511);
  const out = decompressLz4Frame(frame, offset);
  assert.equal(out.length, 33903);
  assert.deepEqual(out.subarray(0, 4), Buffer.concat([hex('FE 00 02 07')]));
});

test('real bytes (fixture big_values): 179 LZ4 frames, 175 with linked blocks, all decode to their size', () => {
  const frames = bigValuesFlows.flatMap((f) => findBlobFrames(f, 'lz4'));
  assert.equal(frames.length, 179);
  assert.equal(frames.filter((f) => f.frame[4] === 0x48).length, 175);
  for (const { frame, offset } of frames) {
    assert.equal(decompressLz4Frame(frame, offset).length, Number(frame.readBigUInt64LE(6)));
  }
});

test('real bytes (fixture flushes): 28 zstd frames decode to their content size and start FE 00', () => {
  const frames = flushesFlows.flatMap((f) => findBlobFrames(f, 'zstd'));
  assert.equal(frames.length, 28);
  for (const { frame, offset } of frames) {
    assert.equal(frame[4], 0x60);
    const out = decompressZstdFrame(frame, offset);
    assert.equal(out.length, frame.readUInt16LE(5) + 256);
    assert.deepEqual(out.subarray(0, 2), hex('FE 00'));
  }
});

test('real bytes (fixture flushes, flow 0, spec 12.5): zstd frame of 1,418 bytes → 8,263 bytes', () => {
  const flow0 = flushesFlows.find((f) => f.flowId === 0)!;
  const found = findBlobFrames(flow0, 'zstd').find((f) => f.frame.length === 1418);
  assert.ok(found);
  assert.deepEqual(found.frame.subarray(0, 7), hex('28 B5 2F FD 60 47 1F'));
  assert.equal(decompressZstdFrame(found.frame, found.offset).length, 8263);
});

const zstdFrame = findBlobFrames(
  flushesFlows.find((f) => f.flowId === 0)!,
  'zstd',
)[0]!.frame;

test('zstd: a declared size larger or smaller than the content is a ProtocolError', () => {
  for (const delta of [10, -10, 1, -1]) {
    const b = Buffer.from(zstdFrame);
    b.writeUInt16LE(b.readUInt16LE(5) + delta, 5);
    assert.throws(
      () => decompressZstdFrame(b, 40),
      (e: unknown) => e instanceof ProtocolError && e.item === 'zstd blob' && e.offset === 40,
      `delta ${delta}`,
    );
  }
});

test('zstd: bad magic, reserved bit, dictionary, no content size, too large are ProtocolErrors', () => {
  const mutate = (at: number, value: number): Buffer => {
    const b = Buffer.from(zstdFrame);
    b[at] = value;
    return b;
  };
  const huge = Buffer.concat([hex('28 B5 2F FD E0'), Buffer.alloc(8, 0xff), zstdFrame.subarray(7)]);
  const cases = [mutate(0, 0x29), mutate(4, 0x68), mutate(4, 0x61), mutate(4, 0x00), huge];
  for (const c of cases)
    assert.throws(() => decompressZstdFrame(c), isProtocolError, c.subarray(0, 8).toString('hex'));
});

test('zstd: every truncation is a ProtocolError', () => {
  for (let n = 0; n < zstdFrame.length; n++) {
    assert.throws(() => decompressZstdFrame(zstdFrame.subarray(0, n)), isProtocolError, `cut at ${n}`);
  }
});

test('random mutations of real frames give the declared size or a ProtocolError, nothing else', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const lz4 = findBlobFrames(
    typesFlows.find((f) => f.flowId === 3)!,
    'lz4',
  ).find((f) => f.frame[4] === 0x48)!.frame;
  for (let i = 0; i < 400; i++) {
    const source = i % 2 === 0 ? lz4 : zstdFrame;
    const b = Buffer.from(source);
    b[rnd(b.length)] = rnd(256);
    try {
      const out = i % 2 === 0 ? decompressLz4Frame(b) : decompressZstdFrame(b);
      assert.ok(Buffer.isBuffer(out));
    } catch (e) {
      assert.ok(e instanceof ProtocolError, String(e));
    }
  }
});
