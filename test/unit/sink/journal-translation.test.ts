/**
 * Each row of the journal translation table (spec 5.5/5.6), on Redis 7.0, 7.4 and Redis Stack.
 */
import assert from 'node:assert';
import { test } from 'node:test';
import type { JournalCommand } from '../../../src/events/model';
import { crc64Jones } from '../../../src/protocol/rdb/crc64';
import type { Translation } from '../../../src/sink/translate/context';
import { journalTranslation } from '../../../src/sink/translate/journal';
import { b, context, NOW, redis74, redisStack, text } from './support';

function journal(command: string, args: string[] | Buffer[], db = 0): JournalCommand {
  return {
    type: 'JournalCommand',
    db,
    command,
    args: args.map((a) => (Buffer.isBuffer(a) ? a : b(a))),
    txid: 7,
    shardCount: 4,
    inSnapshot: false,
    multi: false,
    chunk: { index: 0, count: 1, mode: 'REPLACE' },
  };
}

function commands(t: Translation): string[] {
  assert.strictEqual(t.kind, 'commands', JSON.stringify(t));
  return text((t as Extract<Translation, { kind: 'commands' }>).commands);
}

test('plain commands are replayed verbatim in their db', () => {
  const t = journalTranslation(journal('INCR', ['k'], 3), context());
  assert.deepStrictEqual(commands(t), ['db3 INCR k']);
  assert.strictEqual(t.kind === 'commands' && t.exact, true);
});

test('SET drops STICK and _MCFLAGS, keeps PXAT', () => {
  const t = journalTranslation(
    journal('SET', ['k', 'v', 'PXAT', '1795305663200', 'STICK', '_MCFLAGS', '9']),
    context(),
  );
  assert.deepStrictEqual(commands(t), ['db0 __LATE_EXPIRY 4 SET k v PXAT 1795305663200']);
  assert.strictEqual(t.row, 'set-dragonfly-options');
});

test('absolute expiries alive at the event time go through the late-expiry op', () => {
  const ctx = context(); // event time NOW - 1000, apply time NOW
  const plan = (name: string, args: string[], db = 0): string[] =>
    commands(journalTranslation(journal(name, args, db), ctx));
  assert.deepStrictEqual(plan('PEXPIREAT', ['k', String(NOW - 500)], 2), [
    `db2 __LATE_EXPIRY 2 PEXPIREAT k ${NOW - 500}`,
  ]);
  assert.deepStrictEqual(plan('EXPIREAT', ['k', String((NOW + 5000) / 1000), 'NX']), [
    `db0 __LATE_EXPIRY 2 PEXPIREAT k ${NOW + 5000} NX`,
  ]);
  assert.deepStrictEqual(plan('SET', ['k', 'v', 'EXAT', String(NOW / 1000), 'GET']), [
    `db0 __LATE_EXPIRY 4 SET k v PXAT ${NOW} GET`,
  ]);
});

test('journaled expiries already past at the event time still go through the late-expiry op (event times are read times)', () => {
  // a recording replayed today, or a source catching up: the event time says nothing about when
  // the master ran the command, and Dragonfly journals DEL for an expiry that had passed
  const ctx = context();
  assert.deepStrictEqual(commands(journalTranslation(journal('PEXPIREAT', ['k', String(NOW - 1000)]), ctx)), [
    `db0 __LATE_EXPIRY 2 PEXPIREAT k ${NOW - 1000}`,
  ]);
  assert.deepStrictEqual(
    commands(journalTranslation(journal('SET', ['k', 'v', 'PXAT', String(NOW - 2000)]), ctx)),
    [`db0 __LATE_EXPIRY 4 SET k v PXAT ${NOW - 2000}`],
  );
});

test('late expiries keep the db mapping: the prefixed key in db 0', () => {
  const ctx = context({}, ['--db-mapping', 'all-to-0-with-prefix']);
  assert.deepStrictEqual(commands(journalTranslation(journal('PEXPIREAT', ['k', String(NOW)], 5), ctx)), [
    `db0 __LATE_EXPIRY 2 PEXPIREAT db5:k ${NOW}`,
  ]);
});

test('a key named STICK is not an option', () => {
  assert.deepStrictEqual(commands(journalTranslation(journal('SET', ['STICK', 'STICK']), context())), [
    'db0 SET STICK STICK',
  ]);
});

test('FLUSHALL and FLUSHDB are barriers', () => {
  assert.deepStrictEqual(journalTranslation(journal('FLUSHALL', []), context()), {
    kind: 'barrier',
    row: 'flush',
    scope: { all: true },
  });
  assert.deepStrictEqual(journalTranslation(journal('flushdb', [], 3), context()), {
    kind: 'barrier',
    row: 'flush',
    scope: { all: false, db: 3 },
  });
});

function dump(type: number, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([type]), value, Buffer.from([9, 0])]);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64Jones(body));
  return Buffer.concat([body, crc]);
}

test('RESTORE with a relative TTL: absolute from the event time (ABSTTL), via the late-expiry op', () => {
  const payload = dump(0, Buffer.from([0x01, 0x78]));
  const t = journalTranslation(journal('RESTORE', [b('k'), b('3000'), payload, b('REPLACE')]), context());
  assert.deepStrictEqual(commands(t), [
    `db0 __LATE_EXPIRY 2 RESTORE k ${NOW + 2000} ${payload.toString('latin1')} REPLACE ABSTTL`,
  ]);
});

test('RESTORE of a standard type is verbatim, STICK dropped', () => {
  const payload = dump(0, Buffer.from([0x01, 0x78]));
  const t = journalTranslation(
    journal('RESTORE', [b('k'), b('0'), payload, b('REPLACE'), b('ABSTTL'), b('STICK')]),
    context(),
  );
  assert.strictEqual(t.row, 'restore-stick');
  assert.deepStrictEqual(commands(t), [`db0 RESTORE k 0 ${payload.toString('latin1')} REPLACE ABSTTL`]);
});

test('RESTORE of a Dragonfly-only type is decoded and written typed', () => {
  // type 30 = JSON: a string holding the document
  const doc = '{"a":1}';
  const payload = dump(30, Buffer.concat([Buffer.from([doc.length]), b(doc)]));
  const t = journalTranslation(
    journal('RESTORE', [b('j'), b(String(NOW + 5000)), payload, b('REPLACE'), b('ABSTTL')]),
    context(),
  );
  assert.strictEqual(t.row, 'restore-typed');
  assert.deepStrictEqual(commands(t), [
    'db0 DEL j',
    `db0 SET j ${doc}`,
    `db0 __LATE_EXPIRY 2 PEXPIREAT j ${NOW + 5000}`,
  ]);
});

test('RESTORE with a corrupt payload is unsupported (error policy)', () => {
  const t = journalTranslation(
    journal('RESTORE', [b('k'), b('0'), Buffer.from([30, 1, 2, 3]), b('REPLACE')]),
    context(),
  );
  assert.strictEqual(t.kind, 'unsupported');
});

test('HSETEX (Dragonfly form) on Redis 7.0: HSET without TTL (drop-ttl) or nothing (skip)', () => {
  const t = journalTranslation(journal('HSETEX', ['h', '100', 'f', 'v', 'g', 'w']), context());
  assert.deepStrictEqual(commands(t), ['db0 HSET h f v g w']);
  assert.strictEqual(t.kind === 'commands' && t.exact, false);
  const skipped = journalTranslation(
    journal('HSETEX', ['h', '100', 'f', 'v']),
    context({}, ['--degrade-member-ttl', 'skip']),
  );
  assert.strictEqual(skipped.kind, 'skip');
});

test('HSETEX on Redis 7.4: HSET + HPEXPIREAT at event time + TTL', () => {
  const t = journalTranslation(
    journal('HSETEX', ['h', '100', 'f', 'v']),
    context({ capabilities: redis74() }),
  );
  assert.deepStrictEqual(commands(t), [
    'db0 HSET h f v',
    `db0 HPEXPIREAT h ${NOW - 1000 + 100_000} FIELDS 1 f`,
  ]);
});

test('HSETEX NX / KEEPTTL / Redis-8 form go through the script op', () => {
  const nx = journalTranslation(
    journal('HSETEX', ['h', 'NX', 'KEEPTTL', '10', 'f', 'v']),
    context({ capabilities: redis74() }),
  );
  assert.deepStrictEqual(commands(nx), [`db0 __HSETEX h nx 1 ${NOW - 1000 + 10_000} f v`]);
  const redis8 = journalTranslation(
    journal('HSETEX', ['h', 'FXX', 'PX', '500', 'FIELDS', '1', 'f', 'v']),
    context({ capabilities: redis74() }),
  );
  assert.deepStrictEqual(commands(redis8), [`db0 __HSETEX h xx 0 ${NOW - 1000 + 500} f v`]);
});

test('SADDEX: SADD without member TTLs (no Redis has them), or skipped', () => {
  assert.deepStrictEqual(commands(journalTranslation(journal('SADDEX', ['s', '100', 'm', 'n']), context())), [
    'db0 SADD s m n',
  ]);
  assert.deepStrictEqual(
    commands(journalTranslation(journal('SADDEX', ['s', 'KEEPTTL', '100', 'm']), context())),
    ['db0 SADD s m'],
  );
  assert.strictEqual(
    journalTranslation(journal('SADDEX', ['s', '1', 'm']), context({}, ['--degrade-member-ttl', 'skip']))
      .kind,
    'skip',
  );
});

test('FIELDEXPIRE: HPEXPIREAT on hashes where supported, else skipped', () => {
  assert.strictEqual(journalTranslation(journal('FIELDEXPIRE', ['h', '100', 'f']), context()).kind, 'skip');
  const t = journalTranslation(
    journal('FIELDEXPIRE', ['h', '100', 'f']),
    context({ capabilities: redis74() }),
  );
  assert.deepStrictEqual(commands(t), [
    `db0 __IF_TYPE hash h HPEXPIREAT h ${NOW - 1000 + 100_000} FIELDS 1 f`,
  ]);
});

test('HEXPIRE relative TTL made absolute; HGETEX TTL change; HGETEX read skipped', () => {
  const caps = { capabilities: redis74() };
  assert.deepStrictEqual(
    commands(journalTranslation(journal('HEXPIRE', ['h', '100', 'FIELDS', '1', 'f']), context(caps))),
    [`db0 HPEXPIREAT h ${NOW - 1000 + 100_000} FIELDS 1 f`],
  );
  assert.deepStrictEqual(
    commands(journalTranslation(journal('HGETEX', ['h', 'PX', '50', 'FIELDS', '1', 'f']), context(caps))),
    [`db0 HPEXPIREAT h ${NOW - 1000 + 50} FIELDS 1 f`],
  );
  assert.strictEqual(
    journalTranslation(journal('HGETEX', ['h', 'FIELDS', '1', 'f']), context(caps)).kind,
    'skip',
  );
  assert.strictEqual(
    journalTranslation(journal('HEXPIRE', ['h', '100', 'FIELDS', '1', 'f']), context()).kind,
    'skip',
  );
});

test('STICK, SHRINK, SCRIPT, PING change no data', () => {
  for (const name of ['STICK', 'SHRINK', 'SCRIPT', 'PING']) {
    assert.strictEqual(journalTranslation(journal(name, ['x']), context()).kind, 'skip', name);
  }
});

test('PREPEND becomes the script op', () => {
  assert.deepStrictEqual(commands(journalTranslation(journal('PREPEND', ['k', 'pre']), context())), [
    'db0 __PREPEND k pre',
  ]);
});

test('JSON.* without RedisJSON: root writes as strings, others skipped as diverged; verbatim with it', () => {
  assert.deepStrictEqual(
    commands(journalTranslation(journal('JSON.SET', ['j', '$', '{"a":1}']), context())),
    ['db0 SET j {"a":1} KEEPTTL'],
  );
  assert.deepStrictEqual(commands(journalTranslation(journal('JSON.DEL', ['j']), context())), ['db0 DEL j']);
  assert.deepStrictEqual(
    commands(journalTranslation(journal('JSON.MSET', ['a', '$', '1', 'b', '.', '2']), context())),
    ['db0 SET a 1 KEEPTTL', 'db0 SET b 2 KEEPTTL'],
  );
  assert.strictEqual(
    journalTranslation(journal('JSON.NUMINCRBY', ['j', '$.a', '1']), context()).row,
    'json-diverged',
  );
  assert.strictEqual(
    journalTranslation(journal('JSON.SET', ['j', '$', '1']), context({}, ['--degrade-json', 'skip'])).kind,
    'skip',
  );
  assert.deepStrictEqual(
    commands(
      journalTranslation(
        journal('JSON.ARRAPPEND', ['j', '$.l', '1']),
        context({ capabilities: redisStack() }),
      ),
    ),
    ['db0 JSON.ARRAPPEND j $.l 1'],
  );
});

test('BF/CF/CMS/TOPK: skipped, dead-lettered, or verbatim with RedisBloom', () => {
  assert.strictEqual(journalTranslation(journal('BF.ADD', ['bf', 'x']), context()).kind, 'skip');
  const dlq = context({}, ['--degrade-sketch', 'dlq', '--errors-dead-letter-topic', 'dlq']);
  assert.strictEqual(journalTranslation(journal('CMS.INCRBY', ['c', 'x', '1']), dlq).kind, 'deadLetter');
  assert.deepStrictEqual(
    commands(journalTranslation(journal('BF.ADD', ['bf', 'x']), context({ capabilities: redisStack() }))),
    ['db0 BF.ADD bf x'],
  );
  assert.strictEqual(journalTranslation(journal('FT.CREATE', ['idx']), context()).kind, 'skip');
});

test('cross-shard GEORADIUS/SORT STORE pieces are skipped; complete STORE verbatim; read-only skipped', () => {
  const piece = journalTranslation(journal('GEORADIUS', ['x4']), context());
  assert.strictEqual(piece.kind === 'skip' && piece.row, 'cross-shard-store-piece');
  assert.strictEqual(
    journalTranslation(journal('GEORADIUSBYMEMBER', ['x7']), context()).row,
    'cross-shard-store-piece',
  );
  assert.strictEqual(journalTranslation(journal('SORT', ['x54']), context()).row, 'read-only');
  assert.strictEqual(
    journalTranslation(journal('GEORADIUS', ['g', '15', '37', '200', 'km']), context()).row,
    'read-only',
  );
  assert.deepStrictEqual(
    commands(journalTranslation(journal('SORT', ['l', 'ALPHA', 'STORE', 'dst']), context())),
    ['db0 SORT l ALPHA STORE dst'],
  );
});

test('an unknown command is unsupported (error policy)', () => {
  const t = journalTranslation(journal('DELEX', ['k']), context());
  assert.strictEqual(t.kind, 'unsupported');
});

test('db mapping all-to-0-with-prefix: keys prefixed by spec, MOVE as RENAMENX, SORT STORE destination', () => {
  const ctx = context({}, ['--db-mapping', 'all-to-0-with-prefix']);
  assert.deepStrictEqual(commands(journalTranslation(journal('MSET', ['a', '1', 'b', '2'], 2), ctx)), [
    'db0 MSET db2:a 1 db2:b 2',
  ]);
  assert.deepStrictEqual(commands(journalTranslation(journal('MOVE', ['k', '4'], 2), ctx)), [
    'db0 RENAMENX db2:k db4:k',
  ]);
  assert.deepStrictEqual(
    commands(journalTranslation(journal('SORT', ['l', 'BY', 'w_*', 'STORE', 'd'], 1), ctx)),
    ['db0 SORT db1:l BY db1:w_* STORE db1:d'],
  );
});

test('a command with too many elements is split into equivalent ones', () => {
  const args = Array.from({ length: 8000 }, (_, i) => `k${i}`);
  const t = commands(journalTranslation(journal('DEL', args), context()));
  assert.strictEqual(t.length, 16);
  assert.ok(t[0]!.startsWith('db0 DEL k0 k1 '));
});
