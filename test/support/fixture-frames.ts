import { CaptureDirection, readCaptureFile } from '../../src/capture/dfcap';

export const LZ4_MAGIC = Buffer.from([0x04, 0x22, 0x4d, 0x18]);
export const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

const LZ4_BLOB_OPCODE = 0xca;
const ZSTD_BLOB_OPCODE = 0xc9;

/** Everything the master sent on one flow connection, in order, with the flow id it asked for. */
export interface FlowBytes {
  flowId: number;
  connection: number;
  bytes: Buffer;
}

/** A compressed blob found in a flow: the frame bytes and the absolute offset of its first byte. */
export interface FoundFrame {
  flowId: number;
  offset: number;
  frame: Buffer;
}

/**
 * The master → replica byte stream of every FLOW connection in a capture. A connection is a flow when
 * its first replica → master bytes are `DFLY FLOW <master_id> <sync_id> <flow_id> ...`.
 */
export function readFlowStreams(capturePath: string): FlowBytes[] {
  const records = readCaptureFile(capturePath);
  const firstCommand = new Map<number, string>();
  const chunks = new Map<number, Buffer[]>();
  for (const r of records) {
    if (r.direction === CaptureDirection.ReplicaToMaster && !firstCommand.has(r.connection)) {
      firstCommand.set(r.connection, r.payload.toString('latin1'));
    }
    if (r.direction === CaptureDirection.MasterToReplica) {
      const list = chunks.get(r.connection) ?? [];
      list.push(r.payload);
      chunks.set(r.connection, list);
    }
  }
  const flows: FlowBytes[] = [];
  for (const [connection, command] of firstCommand) {
    const m = /^DFLY FLOW \S+ \S+ (\d+)/i.exec(command);
    if (!m) continue;
    flows.push({ flowId: Number(m[1]), connection, bytes: Buffer.concat(chunks.get(connection) ?? []) });
  }
  return flows;
}

/**
 * The frames of compressed blobs (`0xC9|0xCA`, packed length, frame) in a flow stream, found by their
 * magic and checked against the packed length right before it (1-, 2- or 5-byte form).
 */
export function findBlobFrames(flow: FlowBytes, kind: 'lz4' | 'zstd'): FoundFrame[] {
  const magic = kind === 'lz4' ? LZ4_MAGIC : ZSTD_MAGIC;
  const opcode = kind === 'lz4' ? LZ4_BLOB_OPCODE : ZSTD_BLOB_OPCODE;
  const s = flow.bytes;
  const found: FoundFrame[] = [];
  for (let at = s.indexOf(magic); at >= 0; at = s.indexOf(magic, at + 1)) {
    const size = blobSizeBefore(s, at, opcode);
    if (size === undefined || at + size > s.length) continue;
    found.push({ flowId: flow.flowId, offset: at, frame: s.subarray(at, at + size) });
  }
  return found;
}

function blobSizeBefore(s: Buffer, at: number, opcode: number): number | undefined {
  if (at >= 2 && s[at - 2] === opcode && s[at - 1]! < 0x40) return s[at - 1]!;
  if (at >= 3 && s[at - 3] === opcode && (s[at - 2]! & 0xc0) === 0x40) {
    return ((s[at - 2]! & 0x3f) << 8) | s[at - 1]!;
  }
  if (at >= 6 && s[at - 6] === opcode && s[at - 5] === 0x80) return s.readUInt32BE(at - 4);
  return undefined;
}

/** Everything the master sent on the main connection (connection 0): the handshake replies. */
export function readMainConnectionReplies(capturePath: string): Buffer {
  const records = readCaptureFile(capturePath);
  return Buffer.concat(
    records
      .filter((r) => r.connection === 0 && r.direction === CaptureDirection.MasterToReplica)
      .map((r) => r.payload),
  );
}

/**
 * The stable-sync journal bytes of a full-sync flow: everything after the 40-byte EOF token that
 * follows the RDB EOF (the token is the second element of the `DFLY FLOW` reply at the stream start).
 */
export function stableJournalBytes(flow: FlowBytes): Buffer {
  const reply = /^\*2\r\n\+FULL\r\n\+([0-9a-f]{40})\r\n/.exec(flow.bytes.subarray(0, 64).toString('latin1'));
  if (!reply) throw new Error(`flow ${flow.flowId} does not start with a +FULL reply`);
  const token = Buffer.from(reply[1]!, 'latin1');
  const at = flow.bytes.indexOf(token, reply[0].length);
  if (at < 0) throw new Error(`flow ${flow.flowId}: EOF token not found after the RDB part`);
  return flow.bytes.subarray(at + token.length);
}
