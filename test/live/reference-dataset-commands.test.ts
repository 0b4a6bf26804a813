/**
 * Live proof of the reference dataset: a replica session records the journal of a real Dragonfly
 * while every journaled command (and each form the master rewrites) runs on it; the reference dataset
 * applied to the recording equals the master's dataset (keys, values, TTLs; member TTLs via FIELDTTL).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type Redis from 'ioredis';
import { decodeDumpPayload } from '../../src/protocol/rdb/dump';
import { COMMANDS as COMMAND_TABLE } from '../../src/reference-dataset/commands';
import { Dataset } from '../../src/reference-dataset/dataset';
import {
  compareDatasets,
  type ExpectedDataset,
  toExpectedJson,
} from '../../src/reference-dataset/expected-json';
import { FlowBarrierError, replayFlows, type TimedItem } from '../../src/reference-dataset/replay';
import type { PositionedItem } from '../../src/replica/flow';
import { ReplicaSession } from '../../src/replica/session';
import { dragonflies, dumpServer, liveSkip } from '../support/live-dragonfly';
import { replicaOptions } from '../support/replica-harness';

const SHARDS = 2;

/**
 * Handlers for forms a v1.40.1 master never journals (Redis commands the sink writes, UNLINK which
 * becomes DEL, a PING command which only a JSON.MSET that stored nothing journals), and the search
 * commands, which the test binary is built without: unit tests cover them.
 */
const NOT_JOURNALED = new Set([
  'HPEXPIRE',
  'HEXPIREAT',
  'HPEXPIREAT',
  'HPERSIST',
  'EXPIREAT',
  'UNLINK',
  'PING',
  'FT.CREATE',
  'FT.ALTER',
  'FT.DROPINDEX',
  'FT.SYNUPDATE',
]);
const FUTURE_S = Math.floor(Date.now() / 1000) + 3600;

/** Commands run on the master in order (`SELECT n` switches the connection's db). */
const COMMANDS: (string | number)[][] = [
  ['SET', 'gone:a', '1'],
  ['FLUSHALL'],
  // strings and their rewrites (SET ... PXAT, PEXPIREAT, DEL)
  ['SET', 's:a', '1'],
  ['SET', 's:ex', 'v', 'EX', 100, 'NX', 'GET'],
  ['SET', 's:px', 'v', 'PX', 500000],
  ['SET', 's:exat', 'v', 'EXAT', FUTURE_S],
  ['SET', 's:ex', 'w', 'KEEPTTL'],
  ['SET', 's:stick', 'v', 'STICK'],
  ['SETEX', 's:setex', 100, 'v'],
  ['PSETEX', 's:psetex', 100000, 'v'],
  ['SETNX', 's:setnx', 'v'],
  ['GETSET', 's:a', '5'],
  ['MSET', 's:m1', '1', 's:m2', '2', 's:m3', '3'],
  ['MSETNX', 's:n1', 'a', 's:n2', 'b'],
  ['INCR', 's:a'],
  ['INCRBY', 's:a', 10],
  ['DECR', 's:a'],
  ['DECRBY', 's:a', 3],
  ['INCRBYFLOAT', 's:f', '1.25'],
  ['INCRBYFLOAT', 's:f', '1e3'],
  ['APPEND', 's:app', 'abc'],
  ['PREPEND', 's:app', 'xy'],
  ['SETRANGE', 's:app', 10, 'zz'],
  ['SETBIT', 's:bits', 7, 1],
  ['SETBIT', 's:bits', 100, 1],
  ['BITFIELD', 's:bf', 'SET', 'u8', 0, 255, 'INCRBY', 'u8', 0, 10, 'GET', 'u4', 0],
  ['BITFIELD', 's:bf', 'OVERFLOW', 'SAT', 'INCRBY', 'i8', 8, 200, 'SET', 'i16', '#2', -1234],
  ['BITFIELD', 's:bf', 'OVERFLOW', 'FAIL', 'INCRBY', 'u4', 60, 100],
  ['BITOP', 'OR', 's:bitop', 's:bits', 's:bf'],
  ['BITOP', 'AND', 's:bitop-empty', 's:nothing', 's:nothing2'],
  ['GETDEL', 's:m3'],
  ['GETEX', 's:a', 'EX', 200],
  ['GETEX', 's:ex', 'PERSIST'],
  ['GETEX', 's:m1'],
  ['EXPIRE', 's:m1', 100],
  ['PEXPIRE', 's:m2', 500000],
  ['EXPIREAT', 's:n1', FUTURE_S],
  ['PEXPIREAT', 's:n2', FUTURE_S * 1000],
  ['EXPIRE', 's:setnx', -1],
  ['PERSIST', 's:m1'],
  ['STICK', 's:a', 's:m2'],
  ['DELEX', 's:n1', 'IFEQ', 'a'],
  ['DELEX', 's:n2', 'IFNE', 'b'],
  ['SET', 's:del1', 'x'],
  ['SET', 's:del2', 'y'],
  ['DEL', 's:del1', 's:missing'],
  ['UNLINK', 's:del2'],
  ['PFADD', 'h:{hll}1', 'a', 'b', 'c'],
  ['PFADD', 'h:{hll}2', 'c', 'd'],
  ['PFMERGE', 'h:{hll}m', 'h:{hll}1', 'h:{hll}2'],
  // keys: RENAME/COPY/MOVE/RESTORE
  ['SET', 'k:r1', 'v', 'PX', 600000],
  ['RENAME', 'k:r1', 'k:r2'],
  ['RENAMENX', 'k:r2', 'k:r3'],
  ['HSET', 'k:{t}h', 'f', 'v'],
  ['RENAME', 'k:{t}h', 'k:{t}h2'],
  ['RENAMENX', 'k:{t}h2', 'k:{t}h3'],
  ['COPY', 'k:r3', 'k:copy'],
  ['MOVE', 'k:copy', 3],
  // lists and their pop/push rewrites
  ['RPUSH', 'l:a', 'a', 'b', 'c', 'd', 'e', 'f'],
  ['LPUSH', 'l:a', 'z'],
  ['LPUSHX', 'l:a', 'y'],
  ['RPUSHX', 'l:none', 'y'],
  ['LPOP', 'l:a'],
  ['RPOP', 'l:a', 2],
  ['LSET', 'l:a', 0, 'X'],
  ['LINSERT', 'l:a', 'BEFORE', 'c', 'c0'],
  ['LREM', 'l:a', 0, 'b'],
  ['LMOVE', 'l:a', 'l:b', 'LEFT', 'RIGHT'],
  ['BLMOVE', 'l:a', 'l:b', 'RIGHT', 'LEFT', 0],
  ['RPOPLPUSH', 'l:a', 'l:a'],
  ['BRPOPLPUSH', 'l:b', 'l:a', 0],
  ['BLPOP', 'l:b', 0],
  ['BRPOP', 'l:a', 0],
  ['LMPOP', 1, 'l:a', 'LEFT'],
  ['RPUSH', 'l:c', '1', '2', '3', '4', '5'],
  ['LTRIM', 'l:c', 1, -2],
  ['SORT', 'l:{s}src', 'ALPHA', 'STORE', 'l:{s}dst'],
  ['RPUSH', 'l:{s}src', 'b', 'a', 'c'],
  ['SORT', 'l:{s}src', 'ALPHA', 'DESC', 'STORE', 'l:{s}dst'],
  // sets
  ['SADD', 'e:a', 'a', 'b', 'c', 'd'],
  ['SADD', 'e:b', 'c', 'd', 'e'],
  ['SREM', 'e:a', 'zz'],
  ['SPOP', 'e:a'],
  ['SMOVE', 'e:b', 'e:a', 'e'],
  ['SINTERSTORE', 'e:i', 'e:a', 'e:b'],
  ['SUNIONSTORE', 'e:u', 'e:a', 'e:b'],
  ['SDIFFSTORE', 'e:d', 'e:a', 'e:b'],
  ['SADDEX', 'e:ttl', 600, 'm1', 'm2'],
  ['SADD', 'e:fe', 'x', 'y'],
  ['FIELDEXPIRE', 'e:fe', 900, 'x'],
  // sorted sets and geo
  ['ZADD', 'z:a', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e', 6, 'f'],
  ['ZADD', 'z:a', 'GT', 'CH', 10, 'a'],
  ['ZINCRBY', 'z:a', 2.5, 'b'],
  ['ZREM', 'z:a', 'nothing'],
  ['ZPOPMIN', 'z:a'],
  ['ZPOPMAX', 'z:a', 1],
  ['ZADD', 'z:b', 1, 'c', 2, 'x', 1234567.891, 'y'],
  ['ZUNIONSTORE', 'z:u', 2, 'z:a', 'z:b'],
  ['ZINTERSTORE', 'z:i', 2, 'z:a', 'z:b'],
  ['ZDIFFSTORE', 'z:d', 2, 'z:a', 'z:b'],
  ['ZRANGESTORE', 'z:r', 'z:a', 0, 1],
  ['BZPOPMIN', 'z:u', 0],
  ['BZPOPMAX', 'z:u', 0],
  ['ZMPOP', 1, 'z:u', 'MIN', 'COUNT', 2],
  ['BZMPOP', 0, 1, 'z:b', 'MAX'],
  ['ZADD', 'z:lex', 0, 'a', 0, 'b', 0, 'c', 0, 'd', 0, 'e'],
  ['ZREMRANGEBYLEX', 'z:lex', '[b', '(d'],
  ['ZREMRANGEBYRANK', 'z:a', 0, 0],
  ['ZREMRANGEBYSCORE', 'z:r', '-inf', '(3'],
  ['GEOADD', 'g:{g}a', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania'],
  ['GEOADD', 'g:{g}a', 'NX', 2.349014, 48.864716, 'Paris'],
  ['GEORADIUS', 'g:{g}a', 15, 37, 200, 'km', 'STORE', 'g:{g}near'],
  ['GEORADIUS', 'g:{g}a', 15, 37, 200, 'km', 'ASC', 'COUNT', 1, 'STOREDIST', 'g:{g}dist'],
  ['GEORADIUSBYMEMBER', 'g:{g}a', 'Palermo', 300, 'km', 'STORE', 'g:{g}bym'],
  ['GEORADIUS', 'g:{g}a', 15, 37, 200, 'km'],
  // hashes and field TTLs
  ['HSET', 'h:a', 'f1', 'v1', 'f2', 'v2', 'f3', 'v3', 'n', '5'],
  ['HMSET', 'h:a', 'f4', 'v4'],
  ['HSETNX', 'h:a', 'f1', 'other'],
  ['HINCRBY', 'h:a', 'n', 7],
  ['HINCRBYFLOAT', 'h:a', 'fl', '1.5e3'],
  ['HDEL', 'h:a', 'f4', 'missing'],
  ['HEXPIRE', 'h:a', 600, 'FIELDS', 2, 'f1', 'f2'],
  ['HEXPIRE', 'h:a', 900, 'GT', 'FIELDS', 1, 'f1'],
  ['HEXPIRE', 'h:a', 100, 'NX', 'FIELDS', 2, 'f1', 'f3'],
  ['HEXPIRE', 'h:a', 0, 'FIELDS', 1, 'f2'],
  ['HGETEX', 'h:a', 'PX', 700500, 'FIELDS', 1, 'n'],
  ['HGETEX', 'h:a', 'PERSIST', 'FIELDS', 1, 'f3'],
  ['HGETEX', 'h:a', 'FIELDS', 1, 'f1'],
  ['HSETEX', 'h:ex', 600, 'a', '1', 'b', '2'],
  ['HSETEX', 'h:ex', 'NX', 100, 'a', 'x', 'c', '3'],
  ['HSETEX', 'h:ex2', 'EX', 300, 'FIELDS', 1, 'a', '1'],
  ['HSETEX', 'h:ex2', 'FXX', 'KEEPTTL', 'FIELDS', 1, 'a', '2'],
  ['FIELDEXPIRE', 'h:ex', 1200, 'c'],
  // streams
  ['XADD', 'x:a', '1-1', 'f', 'v1'],
  ['XADD', 'x:a', 'MAXLEN', '~', 100, '2-*', 'f', 'v2'],
  ['XADD', 'x:a', '5-1', 'f', 'v3'],
  ['XADD', 'x:a', '*', 'f', 'v4'],
  ['XADD', 'x:none', 'NOMKSTREAM', '*', 'f', 'v'],
  ['XGROUP', 'CREATE', 'x:a', 'g1', '0'],
  ['XGROUP', 'CREATE', 'x:new', 'g1', '$', 'MKSTREAM'],
  ['XREADGROUP', 'GROUP', 'g1', 'c1', 'COUNT', 2, 'STREAMS', 'x:a', '>'],
  ['XREADGROUP', 'GROUP', 'g1', 'c2', 'NOACK', 'COUNT', 1, 'STREAMS', 'x:a', '>'],
  ['XACK', 'x:a', 'g1', '5-1'],
  ['XGROUP', 'CREATECONSUMER', 'x:a', 'g1', 'c3'],
  ['XCLAIM', 'x:a', 'g1', 'c3', 0, '5-1'],
  ['XAUTOCLAIM', 'x:a', 'g1', 'c2', 0, '0-0', 'COUNT', 10],
  ['XDEL', 'x:a', '5-1'],
  ['XGROUP', 'SETID', 'x:a', 'g1', '$'],
  ['XGROUP', 'DELCONSUMER', 'x:a', 'g1', 'c3'],
  ['XTRIM', 'x:a', 'MAXLEN', 2],
  ['XADD', 'x:b', '1-1', 'f', 'v'],
  ['XSETID', 'x:b', '10-0'],
  ['XADD', 'x:b', '*', 'f', 'w'],
  ['XGROUP', 'CREATE', 'x:b', 'gone', '0'],
  ['XGROUP', 'DESTROY', 'x:b', 'gone'],
  // JSON
  ['JSON.SET', 'j:a', '$', '{"a":[1,2,3],"b":"x","c":{"d":1,"e":[true,false]},"n":null,"k":{"a":5}}'],
  ['JSON.ARRAPPEND', 'j:a', '$.a', '4', '"five"'],
  ['JSON.ARRINSERT', 'j:a', '$.a', 1, '1.5'],
  ['JSON.ARRPOP', 'j:a', '$.a'],
  ['JSON.ARRTRIM', 'j:a', '$.a', 1, 3],
  ['JSON.NUMINCRBY', 'j:a', '$.c.d', 10],
  ['JSON.NUMMULTBY', 'j:a', '$..a', 2],
  ['JSON.STRAPPEND', 'j:a', '$.b', '"yz"'],
  ['JSON.TOGGLE', 'j:a', '$.c.e[0]'],
  ['JSON.SET', 'j:a', '$.new', '{"x":1}'],
  ['JSON.MERGE', 'j:a', '$', '{"c":{"d":null,"f":2},"m":[1]}'],
  ['JSON.CLEAR', 'j:a', '$.k'],
  ['JSON.DEL', 'j:a', '$.n'],
  ['JSON.FORGET', 'j:a', '$.new.x'],
  ['JSON.SET', 'j:b', '.', '[1,2]'],
  ['JSON.MSET', 'j:c', '$', '{"a":1}', 'j:d', '$', '"s"'],
  ['JSON.SET', 'j:e', '$', '{"x":1}'],
  ['JSON.DEL', 'j:e'],
  // sketches
  ['BF.RESERVE', 'p:bf', 0.01, 1000],
  ['BF.ADD', 'p:bf', 'x'],
  ['BF.MADD', 'p:bf2', 'x', 'y'],
  ['CF.RESERVE', 'p:cf', 1000],
  ['CF.ADD', 'p:cf2', 'x'],
  ['CF.ADDNX', 'p:cf2', 'y'],
  ['CF.INSERT', 'p:cf3', 'ITEMS', 'a', 'b'],
  ['CF.DEL', 'p:cf2', 'x'],
  ['CF.INSERTNX', 'p:cf4', 'ITEMS', 'a'],
  ['CF.COMPACT', 'p:cf2'],
  ['CMS.INITBYDIM', 'p:cms', 100, 5],
  ['CMS.INCRBY', 'p:cms', 'a', 3],
  ['CMS.INITBYPROB', 'p:cms2', 0.01, 0.01],
  ['CMS.INITBYDIM', 'p:{c}1', 100, 5],
  ['CMS.INITBYDIM', 'p:{c}2', 100, 5],
  ['CMS.INCRBY', 'p:{c}2', 'b', 2],
  ['CMS.MERGE', 'p:{c}1', 1, 'p:{c}2'],
  ['TOPK.RESERVE', 'p:topk', 5],
  ['TOPK.ADD', 'p:topk', 'a', 'b'],
  ['TOPK.INCRBY', 'p:topk', 'a', 5],
  // other dbs, FLUSHDB, transactions and scripts
  ['SELECT', 2],
  ['SET', 'db2:a', '1'],
  ['SET', 'db2:b', '2'],
  ['FLUSHDB'],
  ['SET', 'db2:c', '3'],
  ['SELECT', 0],
  ['EVAL', "redis.call('SET', KEYS[1], 'lua'); return redis.call('SPOP', KEYS[2])", 2, 'lua:a', 'e:u'],
  ['SCRIPT', 'LOAD', 'return 1'],
  ['SHRINK', 'e:a'],
];

/** BF.SCANDUMP of one filter loaded into another with BF.LOADCHUNK, chunk by chunk. */
async function copyBloomFilter(m: Redis, from: string, to: string): Promise<void> {
  for (let iter = 0; ;) {
    const [next, data] = (await m.callBuffer('BF.SCANDUMP', from, String(iter))) as [Buffer, Buffer];
    iter = Number(next.toString());
    if (iter === 0) return;
    await m.call('BF.LOADCHUNK', to, String(iter), data);
  }
}

interface Recorder {
  flows: TimedItem[][];
  session: ReplicaSession;
  stable: Promise<void>;
}

/** A replica session that keeps every flow's items with the time they arrived. */
function record(url: string): Recorder {
  const flows: TimedItem[][] = [];
  let onStable = (): void => undefined;
  const stable = new Promise<void>((resolve) => (onStable = resolve));
  const session = new ReplicaSession(replicaOptions(url), {
    onSyncStart: (start) => {
      flows.length = 0;
      for (let i = 0; i < start.info.flowCount; i++) flows.push([]);
    },
    onItems: (flowId: number, items: PositionedItem[]) => {
      const atMs = Date.now();
      flows[flowId]!.push(...items.map((p) => ({ item: p.item, atMs })));
    },
    onStable: () => onStable(),
    onError: () => undefined,
    onStateChange: () => undefined,
  });
  session.start();
  return { flows, session, stable };
}

/**
 * The reference dataset's view, with member TTLs checked against the master's FIELDTTL (the dump does
 * not read them) and then left out of the comparison.
 */
async function modelView(
  master: Redis,
  flows: TimedItem[][],
  nowMs: number,
): Promise<{ view: ExpectedDataset; ttlDiffs: string[] }> {
  const dataset = new Dataset({ decodeDump: decodeDumpPayload });
  replayFlows(dataset, flows);
  const view = toExpectedJson(dataset, nowMs);
  const ttlDiffs: string[] = [];
  for (const [db, keys] of Object.entries(view)) {
    await master.select(Number(db));
    for (const [key, k] of Object.entries(keys)) {
      for (const [member, at] of Object.entries(k.memberExpireAtMs ?? {})) {
        const seconds = Number(await master.call('FIELDTTL', key, member));
        const expected = nowMs + seconds * 1000;
        if (Math.abs(expected - at) > 2000)
          ttlDiffs.push(`db ${db} ${key} member ${member}: TTL ${at}, master ${expected}`);
      }
      delete k.memberExpireAtMs;
    }
  }
  await master.select(0);
  return { view, ttlDiffs };
}

const STOREDIST_KEY = 'g:{g}dist';

/**
 * GEORADIUS ... STOREDIST stores haversine distances: JavaScript's and the C library's sin/cos/asin
 * may differ in the last bit, so these scores are compared within 1e-12 (and left out of the rest).
 */
function storedDistances(model: ExpectedDataset, master: ExpectedDataset): string[] {
  const ours = model['0']?.[STOREDIST_KEY];
  const theirs = master['0']?.[STOREDIST_KEY];
  delete model['0']?.[STOREDIST_KEY];
  delete master['0']?.[STOREDIST_KEY];
  const pairs = (k: typeof ours): [string, number][] => (k?.value ?? []) as [string, number][];
  const a = pairs(ours);
  const b = pairs(theirs);
  const close =
    a.length === b.length &&
    a.every(([m, d], i) => m === b[i]![0] && Math.abs(d - b[i]![1]) <= 1e-12 * Math.abs(d));
  return !theirs || !close ? [`${STOREDIST_KEY}: ${JSON.stringify(a)} vs master ${JSON.stringify(b)}`] : [];
}

describe('live: the reference dataset executes every journaled command', { skip: liveSkip }, () => {
  const servers = dragonflies();

  test(
    'the recorded journal applied to the reference dataset equals the master',
    { timeout: 120_000 },
    async () => {
      // hash tags put {g}-style keys on one shard, as STORE within one shard needs
      const master = await servers.start({ shards: SHARDS, extraArgs: ['--lock_on_hashtags'] });
      const m = master.client();
      const recorder = record(master.url);
      try {
        await recorder.stable;
        const refused: string[] = [];
        for (const command of COMMANDS) {
          try {
            await m.call(String(command[0]), ...command.slice(1).map(String));
          } catch (e) {
            refused.push(`${command.join(' ')}: ${(e as Error).message}`);
          }
        }
        assert.deepEqual(refused, [], 'the master refused commands of the list');
        await copyBloomFilter(m, 'p:bf', 'p:bfcopy');
        let diffs: string[] = [];
        for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
          const nowMs = Date.now();
          try {
            const { view, ttlDiffs } = await modelView(m, recorder.flows, nowMs);
            const dump = await dumpServer(m);
            const distanceDiffs = storedDistances(view, dump);
            diffs = [...compareDatasets(view, dump, nowMs), ...ttlDiffs, ...distanceDiffs];
          } catch (e) {
            // one flow may not have received a FLUSH yet that another already has
            if (!(e instanceof FlowBarrierError)) throw e;
            diffs = [e.message];
          }
          if (diffs.length === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        assert.deepEqual(diffs, [], 'reference dataset vs master');
        const journaled = new Set(
          recorder.flows
            .flat()
            .flatMap(({ item }) =>
              item.kind === 'journal' && 'args' in item.record
                ? [item.record.args[0]!.toString('latin1').toUpperCase()]
                : [],
            ),
        );
        const handled = [...COMMAND_TABLE.keys()].filter((name) => journaled.has(name));
        console.log(`# journaled command names replayed: ${handled.length}: ${handled.join(' ')}`);
        const missing = [...COMMAND_TABLE.keys()].filter(
          (name) => !journaled.has(name) && !NOT_JOURNALED.has(name),
        );
        assert.deepEqual(missing, [], 'handlers this test never exercised');
      } finally {
        await recorder.session.stop();
        m.disconnect();
      }
    },
  );
});
