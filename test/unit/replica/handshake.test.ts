import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { RespError } from '../../../src/protocol/resp';
import { ReplicationError } from '../../../src/replica/errors';
import { clientVersionFor, parseCapaReply, parseServerVersion } from '../../../src/replica/handshake';
import { LsnTracker } from '../../../src/replica/lsn-tracker';
import { parseMasterUrl } from '../../../src/replica/master-address';

const ID = '1220fa30e16665f02d6a5c474854fd2e1bf7ba5b';
const M = 'redis://127.0.0.1:6379';

test('capa reply: v1.40 5 elements (fixture types), v1.4-v1.39 4 elements, <= v1.3 3 elements', () => {
  assert.deepEqual(parseCapaReply([ID, 'SYNC1', 4, 5, ID], M), {
    masterId: ID,
    syncId: 'SYNC1',
    flowCount: 4,
    version: 5,
    lineageId: ID,
    dragonflyVersion: null,
  });
  assert.equal(parseCapaReply([ID, 'SYNC7', 8, 3], M).version, 3);
  const v13 = parseCapaReply([ID, 'SYNC1', 2], M);
  assert.equal(v13.version, null);
  assert.equal(v13.lineageId, null);
});

test('capa reply: a Redis answering +OK, bad ids and flow counts are refused as not Dragonfly', () => {
  const cases: [unknown, RegExp][] = [
    ['OK', /not a Dragonfly master: REPLCONF capa dragonfly answered "OK"/],
    [['short', 'SYNC1', 4], /master id "short" is not 40 characters/],
    [[ID, 'FOO1', 4], /sync id "FOO1" is not SYNC<n>/],
    [[ID, 'SYNC1', 0], /flow count 0 is not an integer in 1..1024/],
    [[ID, 'SYNC1', 4, 'x'], /version "x" is not an integer/],
    [[ID, 'SYNC1', 4, 5, ID, 'extra'], /6 elements/],
  ];
  for (const [reply, message] of cases) {
    assert.throws(
      () => parseCapaReply(reply as never, M),
      (e: unknown) => e instanceof ReplicationError && message.test(e.message) && !e.retryable,
    );
  }
  assert.throws(
    () => parseCapaReply(new RespError('ERR Replicating a replica is unsupported'), M),
    /point the source at the primary/,
  );
});

test('INFO server: the release as Dragonfly v1.40.1 reports it; an error or no line leaves it unknown', () => {
  const info = '# Server\r\nredis_version:7.4.0\r\ndragonfly_version:df-v1.40.1\r\nredis_mode:standalone\r\n';
  assert.equal(parseServerVersion(info), 'v1.40.1');
  assert.equal(parseServerVersion(Buffer.from(info)), 'v1.40.1');
  assert.equal(parseServerVersion('# Server\r\nredis_version:7.4.0\r\n'), null);
  assert.equal(parseServerVersion(new RespError('NOPERM this user has no permissions to run INFO')), null);
});

test('CLIENT-VERSION echoes the master version, capped at the highest implemented (spec 1.4)', () => {
  assert.equal(clientVersionFor(5), 5);
  assert.equal(clientVersionFor(3), 3);
  assert.equal(clientVersionFor(9), 5);
});

test('LSN entries must carry E-1: a gap or a step backwards is an error naming the flow', () => {
  const t = new LsnTracker(M, 2);
  t.start(505);
  assert.equal(t.takeRecord(), 505);
  t.checkLsnEntry(505);
  assert.equal(t.takeRecord(), 506);
  assert.throws(
    () => t.checkLsnEntry(505),
    /flow 2: LSN went backwards: the master says the last record was 505, we counted 506/,
  );
  assert.throws(() => t.checkLsnEntry(510), /LSN skipped ahead/);
  assert.throws(() => new LsnTracker(M, 0).takeRecord(), /journal record before JOURNAL_OFFSET/);
});

test('master URLs: user/password, TLS scheme, defaults, and errors that never echo the password', () => {
  assert.deepEqual(parseMasterUrl('rediss://u:p%40ss@df.example:6380'), {
    host: 'df.example',
    port: 6380,
    tls: true,
    user: 'u',
    password: 'p@ss',
  });
  assert.equal(parseMasterUrl('redis://h').port, 6379);
  assert.equal(parseMasterUrl('redis://:a@h', { password: 'b' }).password, 'b');
  assert.throws(
    () => parseMasterUrl('http://:secret@h'),
    (e: Error) => /unsupported scheme/.test(e.message) && !/secret/.test(e.message),
  );
  assert.throws(() => parseMasterUrl('nonsense'), /not a URL/);
});
