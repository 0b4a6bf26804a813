import { test } from 'node:test';
import assert from 'node:assert';
import { CommandReader } from '../../../src/protocol/resp-commands';

const texts = (commands: Buffer[][]): string[] => commands.map((c) => c.map((a) => a.toString()).join('|'));

const STREAM = Buffer.concat([
  Buffer.from('PING\r\n'),
  Buffer.from('*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n6391\r\n'),
  Buffer.from('REPLCONF ACK 106\r\n'),
  Buffer.from('\r\n'),
  Buffer.from('*2\r\n$4\r\nAUTH\r\n$9\r\npass word\r\n'),
  Buffer.from('DFLY  FLOW a SYNC1 0 505\n'),
]);
const EXPECTED = [
  'PING',
  'REPLCONF|listening-port|6391',
  'REPLCONF|ACK|106',
  'AUTH|pass word',
  'DFLY|FLOW|a|SYNC1|0|505',
];

test('reads inline and RESP commands from one buffer', () => {
  assert.deepStrictEqual(texts(new CommandReader().feed(STREAM)), EXPECTED);
});

test('gives the same commands when the input is split at every byte', () => {
  for (let cut = 1; cut < STREAM.length; cut++) {
    const reader = new CommandReader();
    const got = [...reader.feed(STREAM.subarray(0, cut)), ...reader.feed(STREAM.subarray(cut))];
    assert.deepStrictEqual(texts(got), EXPECTED, `split at byte ${cut}`);
    assert.strictEqual(reader.buffered, 0);
  }
});

test('gives the same commands when fed one byte at a time', () => {
  const reader = new CommandReader();
  const got: Buffer[][] = [];
  for (const byte of STREAM) got.push(...reader.feed(Buffer.from([byte])));
  assert.deepStrictEqual(texts(got), EXPECTED);
});

test('keeps an unfinished command until the rest arrives', () => {
  const reader = new CommandReader();
  assert.deepStrictEqual(reader.feed(Buffer.from('REPLCONF ACK 1')), []);
  assert.strictEqual(reader.buffered, 14);
  assert.deepStrictEqual(texts(reader.feed(Buffer.from('2\r\n'))), ['REPLCONF|ACK|12']);
});
