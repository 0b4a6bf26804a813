import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureDirection, DFCAP_MAGIC, encodeCaptureRecord } from '../../../src/capture/dfcap';
import { createCaptureDecodeCommand } from '../../../src/cli/commands/capture-decode';

const MASTER = 'b'.repeat(40);
const TOKEN = 'c'.repeat(40);

function captureWithFlowBytes(flowBytes: Buffer): Buffer {
  const records = [
    [CaptureDirection.ReplicaToMaster, 0, 'REPLCONF capa dragonfly\r\n'],
    [CaptureDirection.MasterToReplica, 0, `*5\r\n+${MASTER}\r\n+SYNC1\r\n:1\r\n:5\r\n+${MASTER}\r\n`],
    [CaptureDirection.ReplicaToMaster, 1, `DFLY FLOW ${MASTER} SYNC1 0\r\n`],
    [CaptureDirection.MasterToReplica, 1, `*2\r\n+FULL\r\n+${TOKEN}\r\n`],
    [CaptureDirection.MasterToReplica, 1, flowBytes],
  ] as const;
  return Buffer.concat([
    DFCAP_MAGIC,
    ...records.map(([direction, connection, payload], i) =>
      encodeCaptureRecord({ direction, connection, micros: i * 100, payload: Buffer.from(payload) }),
    ),
  ]);
}

async function runDecode(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const command = createCaptureDecodeCommand({
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    now: () => 0,
  });
  const code = await command.run(args);
  return { code, stderr, stdout };
}

test('capture decode: usage errors exit 2 and point to --help', async () => {
  for (const args of [
    [],
    ['a.dfcap'],
    ['a.dfcap', 'b.dfcap', '--out', 'x'],
    ['a.dfcap', '--out', 'x', '--at', 'soon'],
  ]) {
    const r = await runDecode(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /capture decode --help/);
  }
});

test('capture decode: a missing file or a file that is no capture exits 1 with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'decode-cli-'));
  try {
    const missing = await runDecode([join(dir, 'nope.dfcap'), '--out', join(dir, 'o.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read capture .*nope\.dfcap/);
    writeFileSync(join(dir, 'junk.dfcap'), 'hello');
    const junk = await runDecode([join(dir, 'junk.dfcap'), '--out', join(dir, 'o.json')]);
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /not a dragonfly-cdc capture/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('capture decode: a protocol error names the session, flow and byte offset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'decode-cli-'));
  try {
    const path = join(dir, 'bad.dfcap');
    writeFileSync(path, captureWithFlowBytes(Buffer.from('REDIS0009\x77', 'latin1')));
    const r = await runDecode([path, '--out', join(dir, 'o.json'), '--start-ms', '1000']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /session SYNC1, flow 0 .*byte 9/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('capture decode: an empty master decodes to {} (and --out - writes to stdout)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'decode-cli-'));
  try {
    const path = join(dir, 'empty.dfcap');
    const aux = (k: string, v: string) =>
      Buffer.from([0xfa, k.length, ...Buffer.from(k), v.length, ...Buffer.from(v)]);
    const flow = Buffer.concat([
      Buffer.from('REDIS0009'),
      aux('ctime', '1700000000'),
      Buffer.from([0xc8, 0, 0, 0, 0, 0, 0, 0, 0, 0xd3, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from(TOKEN),
    ]);
    writeFileSync(path, captureWithFlowBytes(flow));
    const toFile = await runDecode([path, '--out', join(dir, 'o.json')]);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'o.json'), 'utf8')), {});
    const toStdout = await runDecode([path, '--out', '-']);
    assert.equal(toStdout.stdout, '{}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
