import { test } from 'node:test';
import assert from 'node:assert';
import { Cursor } from '../../../src/protocol/cursor';
import { readJournalEntry, type JournalEntry } from '../../../src/protocol/journal';
import { commandRecord, journalBlob } from '../../../src/testmaster/encoder';
import { JournalLog } from '../../../src/testmaster/journal-log';
import { ScriptedMaster } from '../../../src/testmaster/scripted-master';
import type { MasterScript } from '../../../src/testmaster/script';
import { RawClient } from './raw-client';

const MASTER_ID = 'ab'.repeat(20);

const script = (extra: Partial<MasterScript> = {}): MasterScript => ({
  masterId: MASTER_ID,
  flowCount: 2,
  dataset: [
    [{ key: 'a', value: { type: 'string', value: 'x' } }],
    [{ key: 'b', db: 3, value: { type: 'set', members: ['1', '2'] } }],
  ],
  fullSyncJournal: [[{ args: ['SET', 'a', 'y'] }]],
  journal: [[{ args: ['SET', 'j', '1'] }, { args: ['INCR', 'j'] }], [{ args: ['DEL', 'b'], db: 3 }]],
  ...extra,
});

/** Handshake on a new main connection; returns the client and the session's sync id. */
async function handshake(port: number): Promise<{ main: RawClient; syncId: string }> {
  const main = await RawClient.connect(port);
  await main.call('PING', '+PONG\r\n');
  await main.call('REPLCONF listening-port 1', '+OK\r\n');
  const before = main.received.length;
  main.send('REPLCONF capa dragonfly');
  await main.until('capa reply', () => /\+[0-9a-f]{40}\r\n$/.test(main.received.subarray(before).toString()));
  const syncId = /\+(SYNC\d+)\r\n/.exec(main.received.subarray(before).toString())![1]!;
  await main.call('REPLCONF CLIENT-VERSION 5', '+OK\r\n');
  return { main, syncId };
}

async function openFlow(
  port: number,
  syncId: string,
  flowId: number,
  lsn?: number,
): Promise<{ client: RawClient; mode: string; token: string }> {
  const client = await RawClient.connect(port);
  client.send(`DFLY FLOW ${MASTER_ID} ${syncId} ${flowId}${lsn === undefined ? '' : ` ${lsn}`}`);
  await client.until('FLOW reply', () =>
    /^\*2\r\n\+\w+\r\n\+[0-9a-f]{40}\r\n/.test(client.received.toString('latin1')),
  );
  const m = /^\*2\r\n\+(\w+)\r\n\+([0-9a-f]{40})\r\n/.exec(client.received.toString('latin1'))!;
  client.received = client.received.subarray(m[0].length);
  return { client, mode: m[1]!, token: m[2]! };
}

function journalEntries(bytes: Buffer): JournalEntry[] {
  const c = new Cursor(bytes);
  const out: JournalEntry[] = [];
  while (c.remaining > 0) out.push(readJournalEntry(c, { db: 0 }));
  return out;
}

const argsOf = (e: JournalEntry): string =>
  e.kind === 'lsn' ? `LSN ${e.lsn}` : e.record.op === 'command' ? e.record.args.join(' ') : e.record.op;

test('journal log: PARTIAL for the next LSN or an LSN inside the backlog ring, FULL otherwise', () => {
  const log = new JournalLog(3);
  assert.ok(log.canServeFrom(1), 'nothing logged yet: the next LSN');
  for (let i = 0; i < 5; i++) log.append(Buffer.from([0x0d]));
  assert.strictEqual(log.nextLsn, 6);
  assert.deepStrictEqual(
    [1, 2, 3, 4, 5, 6, 7].map((l) => log.canServeFrom(l)),
    [false, false, true, true, true, true, false],
  );
  assert.deepStrictEqual(
    log.from(4).map((r) => r.lsn),
    [4, 5],
  );
});

test('full sync, stable journal, then a partial sync from the ACKed LSN and a FULL for a stale one', async () => {
  const master = new ScriptedMaster(script({ backlogLen: 2 }));
  const { port } = await master.start();
  try {
    const { main, syncId } = await handshake(port);
    const flows = [await openFlow(port, syncId, 0), await openFlow(port, syncId, 1)];
    assert.deepStrictEqual(
      flows.map((f) => f.mode),
      ['FULL', 'FULL'],
    );
    await main.call(`DFLY SYNC ${syncId}`, '+OK\r\n');
    const end = Buffer.from([0xc8, 0, 0, 0, 0, 0, 0, 0, 0]);
    for (const f of flows)
      await f.client.until('FULLSYNC_END', () => f.client.received.subarray(-9).equals(end));
    const flow0 = flows[0]!.client.received;
    assert.ok(flow0.subarray(0, 9).equals(Buffer.from('REDIS0009')));
    assert.ok(flow0.includes(Buffer.from([0x00, 0x01, 0x61, 0x01, 0x78])), 'entry a = x');
    assert.ok(flow0.includes(journalBlob(commandRecord(0, ['SET', 'a', 'y']))), 'blob SET a y');
    const rdbLengths = flows.map((f) => f.client.received.length);
    await main.call(`DFLY STARTSTABLE ${syncId}`, '+OK\r\n');
    const tail0 = Buffer.concat([
      Buffer.from([0xd3, 2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from(flows[0]!.token),
    ]);
    await flows[0]!.client.until(
      'stable records',
      () => flows[0]!.client.received.length > rdbLengths[0]! + tail0.length + 20,
    );
    const stable0 = flows[0]!.client.received.subarray(rdbLengths[0]!);
    assert.ok(
      stable0.subarray(0, tail0.length).equals(tail0),
      'JOURNAL_OFFSET 2 (the blob took LSN 1), EOF, token',
    );
    assert.deepStrictEqual(journalEntries(stable0.subarray(tail0.length)).map(argsOf), [
      'SET j 1',
      'LSN 2',
      'INCR j',
    ]);

    flows[0]!.client.send('REPLCONF ACK 4');
    flows[1]!.client.send('REPLCONF ACK 2');
    await flows[1]!.client.until('ACKs', () => master.ackValues(0).length + master.ackValues(1).length === 2);
    assert.deepStrictEqual([master.ackValues(0), master.ackValues(1)], [[4], [2]]);

    main.socket.end();
    await Promise.all(flows.map((f) => f.client.closedByPeer()));
    assert.strictEqual(
      await master.connections[0]!.closed,
      'fin',
      'the client half-closed the main connection',
    );

    master.write(0, { args: ['SET', 'later', '1'] });
    master.write(0, { args: ['SET', 'later', '2'] });
    master.write(0, { args: ['SET', 'later', '3'] });
    const second = await handshake(port);
    const resumed = await openFlow(port, second.syncId, 0, 4);
    assert.strictEqual(resumed.mode, 'FULL', 'LSN 4 fell out of a backlog of 2 (LSNs 5, 6 remain)');
    const third = await handshake(port);
    const partial = [await openFlow(port, third.syncId, 0, 5), await openFlow(port, third.syncId, 1, 2)];
    assert.deepStrictEqual(
      partial.map((f) => f.mode),
      ['PARTIAL', 'PARTIAL'],
    );
    await third.main.call(`DFLY SYNC ${third.syncId}`, '-ERR invalid state\r\n');
    await third.main.call(`DFLY STARTSTABLE ${third.syncId}`, '+OK\r\n');
    await partial[0]!.client.until('backlog', () => journalEntries(partial[0]!.client.received).length === 3);
    assert.deepStrictEqual(journalEntries(partial[0]!.client.received).map(argsOf), [
      'SET later 2',
      'LSN 5',
      'SET later 3',
    ]);
    assert.deepStrictEqual(
      master.sessions.map((s) => s.modes),
      [['FULL', 'FULL'], ['FULL'], ['PARTIAL', 'PARTIAL']],
    );
    for (const c of [second.main, third.main, resumed.client, ...partial.map((f) => f.client)])
      c.socket.destroy();
  } finally {
    await master.stop();
  }
});

test('mixed FULL/PARTIAL answers make DFLY SYNC fail with invalid state', async () => {
  const master = new ScriptedMaster(script({ faults: { flowReplies: ['PARTIAL', 'FULL'] } }));
  const { port } = await master.start();
  try {
    const { main, syncId } = await handshake(port);
    const flows = [await openFlow(port, syncId, 0, 1), await openFlow(port, syncId, 1)];
    assert.deepStrictEqual(
      flows.map((f) => f.mode),
      ['PARTIAL', 'FULL'],
    );
    await main.call(`DFLY SYNC ${syncId}`, '-ERR invalid state\r\n');
    await main.call(`DFLY STARTSTABLE ${syncId}`, '-ERR invalid state\r\n');
  } finally {
    await master.stop();
  }
});

/** Runs `fn` against a started master and always stops it (a failed assertion must not leave sockets open). */
async function withMaster(
  s: MasterScript,
  fn: (port: number, master: ScriptedMaster) => Promise<void>,
): Promise<void> {
  const master = new ScriptedMaster(s);
  const { port } = await master.start();
  try {
    await fn(port, master);
  } finally {
    await master.stop();
  }
}

test('faults: wrong password, plain Redis, injected errors, silent master, RST mid-RDB', async (t) => {
  await t.test('wrong password', async () => {
    await withMaster(script({ password: 's3cret' }), async (port) => {
      const c = await RawClient.connect(port);
      await c.call('PING', '-NOAUTH Authentication required.\r\n');
      await c.call('AUTH nope', '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
      await c.call('AUTH s3cret', '+OK\r\n');
      await c.call('PING', '+PONG\r\n');
    });
  });
  await t.test('plain Redis', async () => {
    await withMaster(script({ faults: { plainRedis: true } }), async (port) => {
      const c = await RawClient.connect(port);
      await c.call('REPLCONF capa dragonfly', '+OK\r\n');
    });
  });
  await t.test('injected error, once', async () => {
    const loading = {
      command: 'DFLY SYNC',
      reply: 'LOADING Dragonfly is loading the dataset in memory',
      times: 1,
    };
    await withMaster(script({ faults: { errorReplies: [loading] } }), async (port) => {
      const { main, syncId } = await handshake(port);
      const flows = [await openFlow(port, syncId, 0), await openFlow(port, syncId, 1)];
      await main.call(`DFLY SYNC ${syncId}`, '-LOADING');
      await main.call(`DFLY SYNC ${syncId}`, '+OK\r\n');
      for (const f of flows) f.client.socket.destroy();
    });
  });
  await t.test('silent', async () => {
    await withMaster(script({ faults: { silent: true } }), async (port) => {
      const c = await RawClient.connect(port);
      c.send('PING');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.strictEqual(c.received.length, 0);
    });
  });
  await t.test('RST in the middle of the RDB part, then a clean second session', async () => {
    await withMaster(
      script({ faults: { disconnect: { phase: 'rdb', flowId: 1, how: 'rst' } } }),
      async (port) => {
        const { main, syncId } = await handshake(port);
        const flows = [await openFlow(port, syncId, 0), await openFlow(port, syncId, 1)];
        main.send(`DFLY SYNC ${syncId}`);
        await flows[1]!.client.closedByPeer();
        await main.closedByPeer();
        // the client may see the RST on a socket with unread data as a plain EOF; the main one has none
        assert.strictEqual(main.error?.code, 'ECONNRESET');
        assert.ok(flows[1]!.client.received.length > 0, 'part of the RDB arrived first');
        assert.notDeepStrictEqual(
          flows[1]!.client.received.subarray(-9),
          Buffer.from([0xc8, 0, 0, 0, 0, 0, 0, 0, 0]),
        );
        const again = await handshake(port);
        const ok = [await openFlow(port, again.syncId, 0), await openFlow(port, again.syncId, 1)];
        await again.main.call(`DFLY SYNC ${again.syncId}`, '+OK\r\n');
        for (const c of [again.main, ...ok.map((f) => f.client)]) c.socket.destroy();
      },
    );
  });
});
