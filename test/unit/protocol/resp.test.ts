import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ProtocolError } from '../../../src/protocol/errors';
import { encodeCommand, RespError, RespReader, RespValue } from '../../../src/protocol/resp';
import { readFlowStreams, readMainConnectionReplies } from '../../support/fixture-frames';
import { findFixture } from '../../support/fixtures';

const isProtocolError = (e: unknown): boolean => e instanceof ProtocolError;

/** Feeds the chunks in order and collects every complete reply. */
function readAll(chunks: Buffer[]): { replies: RespValue[]; rest: Buffer } {
  const r = new RespReader();
  const replies: RespValue[] = [];
  for (const chunk of chunks) {
    r.feed(chunk);
    for (let v = r.next(); v !== undefined; v = r.next()) replies.push(v);
  }
  return { replies, rest: r.takeRest() };
}

const KINDS: [string, string, RespValue][] = [
  ['simple string', '+PONG\r\n', 'PONG'],
  ['empty simple string', '+\r\n', ''],
  ['error', '-ERR syncid not found\r\n', new RespError('ERR syncid not found')],
  ['integer', ':4\r\n', 4],
  ['negative integer', ':-17\r\n', -17],
  ['integer beyond 2^53 → bigint', ':9007199254740993\r\n', 9007199254740993n],
  ['int64 minimum → bigint', ':-9223372036854775808\r\n', -9223372036854775808n],
  ['bulk string', '$5\r\nhe\r\no\r\n', Buffer.from('he\r\no')],
  ['empty bulk string', '$0\r\n\r\n', Buffer.alloc(0)],
  ['null bulk string', '$-1\r\n', null],
  ['null array', '*-1\r\n', null],
  ['empty array', '*0\r\n', []],
  [
    'nested array with every kind',
    '*3\r\n*2\r\n:1\r\n$1\r\nx\r\n*-1\r\n-ERR e\r\n',
    [[1, Buffer.from('x')], null, new RespError('ERR e')],
  ],
];

for (const [name, wire, expected] of KINDS) {
  test(`RESP ${name}: whole, split at every byte boundary, and byte by byte`, () => {
    const bytes = Buffer.from(wire, 'latin1');
    assert.deepEqual(readAll([bytes]).replies, [expected]);
    for (let k = 0; k <= bytes.length; k++) {
      const { replies, rest } = readAll([bytes.subarray(0, k), bytes.subarray(k)]);
      assert.deepEqual(replies, [expected], `split at ${k}`);
      assert.equal(rest.length, 0);
    }
    assert.deepEqual(readAll([...bytes].map((b) => Buffer.from([b]))).replies, [expected]);
  });
}

test('an incomplete reply gives undefined and is left for takeRest', () => {
  const r = new RespReader();
  r.feed(Buffer.from('*2\r\n+FULL\r\n+abc'));
  assert.equal(r.next(), undefined);
  assert.equal(r.takeRest().toString(), '*2\r\n+FULL\r\n+abc');
  assert.equal(r.next(), undefined);
});

test('spec 9.2: handshake replies including the v1.40 capa array and error replies', () => {
  const wire =
    '+PONG\r\n+OK\r\n+OK\r\n' +
    '*5\r\n+0123456789abcdef0123456789abcdef01234567\r\n+SYNC1\r\n:8\r\n:5\r\n+0123456789abcdef0123456789abcdef01234567\r\n' +
    '-ERR bad master id\r\n-ERR value is not an integer or out of range\r\n';
  assert.deepEqual(readAll([Buffer.from(wire)]).replies, [
    'PONG',
    'OK',
    'OK',
    ['0123456789abcdef0123456789abcdef01234567', 'SYNC1', 8, 5, '0123456789abcdef0123456789abcdef01234567'],
    new RespError('ERR bad master id'),
    new RespError('ERR value is not an integer or out of range'),
  ]);
});

test('real bytes (fixture types, spec 12.2): every reply on the main connection', () => {
  const bytes = readMainConnectionReplies(findFixture('dragonfly-v1.40.1/types').capturePath);
  const id = '1220fa30e16665f02d6a5c474854fd2e1bf7ba5b';
  const expected = ['PONG', 'OK', 'OK', [id, 'SYNC1', 4, 5, id], 'OK', 'OK', 'OK', 'OK'];
  assert.deepEqual(readAll([bytes]).replies, expected);
  for (let k = 0; k <= bytes.length; k++) {
    assert.deepEqual(readAll([bytes.subarray(0, k), bytes.subarray(k)]).replies, expected, `split at ${k}`);
  }
});

test('real bytes (fixture types, spec 12.3): the FLOW reply, then takeRest hands over the RDB stream', () => {
  const flow1 = readFlowStreams(findFixture('dragonfly-v1.40.1/types').capturePath).find(
    (f) => f.flowId === 1,
  )!;
  const head = flow1.bytes.subarray(0, 200);
  const reply = '*2\r\n+FULL\r\n+12fa787614a813881f97df694a2b783af039c5be\r\n';
  for (const split of [1, 20, reply.length, reply.length + 3, 200]) {
    const r = new RespReader();
    r.feed(head.subarray(0, split));
    let value = r.next();
    if (value === undefined) {
      r.feed(head.subarray(split));
      value = r.next();
    } else {
      r.feed(head.subarray(split));
    }
    assert.deepEqual(value, ['FULL', '12fa787614a813881f97df694a2b783af039c5be'], `split at ${split}`);
    const rest = r.takeRest();
    assert.deepEqual(rest, head.subarray(reply.length));
    assert.equal(rest.subarray(0, 9).toString('latin1'), 'REDIS0009');
  }
});

test('spec 12.3: +PARTIAL FLOW reply', () => {
  const wire = '*2\r\n+PARTIAL\r\n+0dbe2b73f75869f2ef2bb9ce2944117d12cdb36f\r\n\x06\x00\x0a';
  const r = new RespReader();
  r.feed(Buffer.from(wire, 'latin1'));
  assert.deepEqual(r.next(), ['PARTIAL', '0dbe2b73f75869f2ef2bb9ce2944117d12cdb36f']);
  // the journal stream follows at once: the caller stops reading replies and takes the rest
  assert.deepEqual(r.takeRest(), Buffer.from([0x06, 0x00, 0x0a]));
});

test('malformed replies are ProtocolErrors with the absolute offset', () => {
  const cases: [string, number][] = [
    ['+OK\r\n_\r\n', 5],
    ['$3\r\nabcd\r\n', 7],
    ['$-2\r\n', 1],
    ['*x\r\n', 1],
    [':12a\r\n', 1],
    ['+OK\n', 3],
    ['%1\r\n', 0],
  ];
  for (const [wire, offset] of cases) {
    const r = new RespReader();
    r.feed(Buffer.from(wire, 'latin1'));
    assert.throws(
      () => {
        while (r.next() !== undefined);
      },
      (e: unknown) => e instanceof ProtocolError && e.item === 'RESP reply' && e.offset === offset,
      JSON.stringify(wire),
    );
  }
});

test('deep nesting, huge lengths and endless lines are refused', () => {
  const deep = new RespReader();
  deep.feed(Buffer.from('*1\r\n'.repeat(40) + ':1\r\n'));
  assert.throws(() => deep.next(), isProtocolError);
  const huge = new RespReader();
  huge.feed(Buffer.from('$999999999999\r\n'));
  assert.throws(() => huge.next(), isProtocolError);
  const endless = new RespReader();
  endless.feed(Buffer.concat([Buffer.from('+'), Buffer.alloc(70 * 1024, 'a')]));
  assert.throws(() => endless.next(), isProtocolError);
});

test('encodeCommand: RESP array of bulk strings from strings, numbers and raw bytes', () => {
  assert.equal(encodeCommand(['PING']).toString('latin1'), '*1\r\n$4\r\nPING\r\n');
  assert.equal(
    encodeCommand(['REPLCONF', 'listening-port', 6380]).toString('latin1'),
    '*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n6380\r\n',
  );
  const password = Buffer.from([0x70, 0x20, 0x0d, 0x0a, 0xff]);
  assert.deepEqual(
    encodeCommand(['AUTH', password, '', 'é']),
    Buffer.concat([
      Buffer.from('*4\r\n$4\r\nAUTH\r\n$5\r\n'),
      password,
      Buffer.from('\r\n$0\r\n\r\n$2\r\n'),
      Buffer.from('é', 'utf8'),
      Buffer.from('\r\n'),
    ]),
  );
});

test('encodeCommand output reads back through RespReader as the same bulk strings', () => {
  const args = ['DFLY', 'FLOW', '1220fa30e16665f02d6a5c474854fd2e1bf7ba5b', 'SYNC1', '3'];
  assert.deepEqual(readAll([encodeCommand(args)]).replies, [args.map((a) => Buffer.from(a))]);
});
