import { test } from 'node:test';
import assert from 'node:assert';
import { commandKey } from '../../../src/testmaster/command-key';

test('matches exchanges by command and subcommand', () => {
  const key = (s: string) => commandKey(s.split(' ').map((w) => Buffer.from(w)));
  assert.strictEqual(key('replconf capa dragonfly'), 'REPLCONF CAPA');
  assert.strictEqual(key('DFLY FLOW x SYNC1 0'), 'DFLY FLOW');
  assert.strictEqual(key('ping'), 'PING');
  assert.strictEqual(key('AUTH secret'), 'AUTH');
});
