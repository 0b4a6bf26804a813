import assert from 'node:assert';
import { ProtocolError } from '../../../../src/protocol/errors';
import { FlowParserOptions, FlowStreamParser } from '../../../../src/protocol/flow-parser';
import { FlowItem, SnapshotEntry } from '../../../../src/protocol/types';
import { cat, HEADER, TOKEN } from './bytes';

/** Test drivers around FlowStreamParser: whole input, every split point, one byte at a time. */

const OPTIONS: FlowParserOptions = { flowId: 1, start: 'rdb', eofToken: TOKEN };

export function parseAll(bytes: Buffer, opts: Partial<FlowParserOptions> = {}): FlowItem[] {
  const p = new FlowStreamParser({ ...OPTIONS, ...opts });
  const out = p.feed(bytes);
  out.push(...p.end());
  return out;
}

export function parseChunks(chunks: Buffer[], opts: Partial<FlowParserOptions> = {}): FlowItem[] {
  const p = new FlowStreamParser({ ...OPTIONS, ...opts });
  const out: FlowItem[] = [];
  for (const c of chunks) out.push(...p.feed(c));
  out.push(...p.end());
  return out;
}

/** Parses the input whole, split at every position, and byte by byte; all must agree. */
export function parseEverySplit(bytes: Buffer, opts: Partial<FlowParserOptions> = {}): FlowItem[] {
  const whole = parseAll(bytes, opts);
  for (let i = 1; i < bytes.length; i++) {
    const split = parseChunks([bytes.subarray(0, i), bytes.subarray(i)], opts);
    assert.deepStrictEqual(split, whole, `split at byte ${i} gave different items`);
  }
  const single = parseChunks(
    [...bytes].map((b) => Buffer.from([b])),
    opts,
  );
  assert.deepStrictEqual(single, whole, 'byte-by-byte feeding gave different items');
  return whole;
}

/** The one key entry of `REDIS0009 FE 00 <entryBytes>`, checked under every split. */
export function entryOf(entryBytes: Buffer, header: Buffer = HEADER): SnapshotEntry {
  const items = parseEverySplit(cat(header, 'FE 00', entryBytes));
  assert.strictEqual(items.length, 1, `expected one item, got ${items.map((i) => i.kind).join(', ')}`);
  const item = items[0]!;
  assert.strictEqual(item.kind, 'entry');
  return item.entry;
}

/** Asserts that parsing (whole input, then end()) throws a ProtocolError matching `pattern`. */
export function assertProtocolError(
  bytes: Buffer,
  pattern: RegExp,
  opts: Partial<FlowParserOptions> = {},
): void {
  assert.throws(
    () => parseAll(bytes, opts),
    (e: unknown) => {
      assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${String(e)}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}
