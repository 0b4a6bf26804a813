import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Cursor } from '../../../src/protocol/cursor';
import { isNeedMore, ProtocolError } from '../../../src/protocol/errors';
import { lzfDecompress } from '../../../src/protocol/lzf';
import { ByteQueue } from '../../../src/protocol/byte-queue';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('packed integers decode in all four forms (spec 9.1)', () => {
  const cases: [string, number][] = [
    ['00', 0],
    ['3F', 63],
    ['4040', 64],
    ['43E8', 1000],
    ['7FFF', 16383],
    ['8000004000', 16384],
    ['8000011170', 70000],
    ['80FFFFFFFF', 4294967295],
    ['810000000100000000', 4294967296],
    ['8100000001 2A05F200', 5000000000],
  ];
  for (const [bytes, value] of cases) assert.equal(new Cursor(hex(bytes)).packed('n'), value, bytes);
});

test('a packed integer cut short asks for more bytes and says how many', () => {
  const c = new Cursor(hex('80 00 01'));
  assert.throws(() => c.packed('n'), isNeedMore);
  assert.equal(c.needed, 5);
});

test('an invalid packed length is a ProtocolError naming the offset', () => {
  const c = new Cursor(hex('00 82'), 1, 2, 100);
  assert.throws(
    () => c.packed('length'),
    (e: unknown) => e instanceof ProtocolError && e.offset === 101 && /0x82/.test(e.message),
  );
});

test('RDB strings: raw, int8/16/32 and LZF forms (spec 9.4)', () => {
  assert.equal(new Cursor(hex('03 666F6F')).rdbText('s'), 'foo');
  assert.equal(new Cursor(hex('C0 FF')).rdbText('s'), '-1');
  assert.equal(new Cursor(hex('C1 3930')).rdbText('s'), '12345');
  assert.equal(new Cursor(hex('C2 00000080')).rdbText('s'), '-2147483648');
  assert.equal(new Cursor(hex('C3 05 18 0061E00E00')).rdbText('s'), 'a'.repeat(24));
});

test('LZF fixture value from the reconnect capture decodes', () => {
  const c = new Cursor(hex('C3 13 3B 0B 76616C75652D373239382D78 E0 24 00 01 78 78'));
  assert.equal(c.rdbText('v'), 'value-7298-' + 'x'.repeat(48));
});

test('LZF with a back-reference before the start is a ProtocolError', () => {
  assert.throws(() => lzfDecompress(hex('20 05'), 4), ProtocolError);
});

test('ByteQueue keeps offsets across appends, consumes and growth', () => {
  const q = new ByteQueue(4);
  q.append(hex('01 02 03'));
  let c = q.cursor();
  assert.equal(c.u8(), 1);
  q.consumeTo(c);
  q.append(hex('04 05 06 07 08 09'));
  c = q.cursor();
  assert.equal(c.offset, 1);
  assert.deepEqual([...c.bytes(8)], [2, 3, 4, 5, 6, 7, 8, 9]);
  q.consumeTo(c);
  assert.equal(q.length, 0);
  assert.equal(q.offset, 9);
});
