import { describeReply, RespError, type RespValue } from '../protocol/resp';
import type { CommandChannel } from './connection';
import { ReplicationError } from './errors';

/** What the master told us in its reply to `REPLCONF capa dragonfly` (spec 1.3). */
export interface MasterInfo {
  masterId: string;
  syncId: string;
  flowCount: number;
  /** the master's DflyVersion integer; null for masters <= v1.3 (3-element reply) */
  version: number | null;
  /** v1.40+: lineage id (equals masterId unless the master is a cascading replica) */
  lineageId: string | null;
  /** the release from INFO server, e.g. "v1.40.1"; null when the master did not say */
  dragonflyVersion: string | null;
}

/** Highest DflyVersion integer whose formats this client implements (VER6, spec 1.4). */
export const HIGHEST_SUPPORTED_VERSION = 5;

export interface HandshakeOptions {
  master: string;
  user: string | null;
  password: string | null;
  listeningPort: number;
  /** our replica id (40 hex chars, like a Dragonfly node id) */
  clientId: string;
}

/** AUTH when configured: sent first on every connection (main and flows). */
export async function authenticate(
  channel: CommandChannel,
  options: Pick<HandshakeOptions, 'user' | 'password' | 'master'>,
): Promise<void> {
  if (!options.password) return;
  const args = options.user ? ['AUTH', options.user, options.password] : ['AUTH', options.password];
  const reply = await channel.call(args);
  if (reply instanceof RespError) {
    throw new ReplicationError({
      master: options.master,
      message: `authentication failed: ${reply.message}`,
      hint: 'check the Dragonfly user/password in the source configuration',
      retryable: false,
    });
  }
}

/**
 * The main-connection handshake exactly as the C++ replica does it (spec 1.2):
 * PING, REPLCONF listening-port, REPLCONF capa eof capa psync2, REPLCONF capa dragonfly (alone),
 * REPLCONF CLIENT-ID, REPLCONF CLIENT-VERSION min(master version, 5); then INFO server, because the
 * events of a full sync name the master's release before its RDB header (df-ver) arrives.
 */
export async function greetMaster(channel: CommandChannel, options: HandshakeOptions): Promise<MasterInfo> {
  await authenticate(channel, options);
  const pong = await channel.call(['PING']);
  if (pong instanceof RespError) {
    const noAuth = /NOAUTH|auth/i.test(pong.message);
    throw new ReplicationError({
      master: options.master,
      message: `PING failed: ${pong.message}`,
      hint: noAuth
        ? 'the master requires a password: set the Dragonfly password in the source configuration'
        : undefined,
      retryable: !noAuth,
    });
  }
  if (pong !== 'PONG') {
    throw notDragonfly(options.master, `PING answered ${describeReply(pong)} instead of PONG`);
  }
  await channel.expectOk(['REPLCONF', 'listening-port', String(options.listeningPort)]);
  await channel.expectOk(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
  const capa = await channel.call(['REPLCONF', 'capa', 'dragonfly']);
  const info = parseCapaReply(capa, options.master);
  await channel.call(['REPLCONF', 'CLIENT-ID', options.clientId]);
  if (info.version !== null) {
    await channel.expectOk(['REPLCONF', 'CLIENT-VERSION', String(clientVersionFor(info.version))]);
  }
  const server = await channel.call(['INFO', 'server']);
  return { ...info, dragonflyVersion: parseServerVersion(server) };
}

/**
 * The release in an INFO server reply: Dragonfly reports `dragonfly_version:df-v1.40.1` (beside a
 * Redis-compatible `redis_version:7.4.0`), written as the RDB header's df-ver is ("v1.40.1"). An
 * error reply (INFO not allowed for the user) or no such line: null, the version stays unknown
 * until the RDB header names it.
 */
export function parseServerVersion(reply: RespValue): string | null {
  const text = asText(reply);
  const line = text?.split(/\r?\n/).find((l) => l.startsWith('dragonfly_version:'));
  const version = line?.slice('dragonfly_version:'.length).trim().replace(/^df-/, '');
  return version ? version : null;
}

/** What to send in CLIENT-VERSION: the master's own integer, capped at what we implement (spec 1.4). */
export function clientVersionFor(masterVersion: number): number {
  return Math.min(masterVersion, HIGHEST_SUPPORTED_VERSION);
}

/** Validates the `REPLCONF capa dragonfly` reply with the C++ replica's rules (spec 1.3). */
export function parseCapaReply(reply: RespValue, master: string): MasterInfo {
  if (reply instanceof RespError) {
    const replicaOfReplica = /replica/i.test(reply.message);
    throw new ReplicationError({
      master,
      message: `REPLCONF capa dragonfly failed: ${reply.message}`,
      hint: replicaOfReplica ? 'point the source at the primary, not at a replica' : undefined,
      retryable: !replicaOfReplica,
    });
  }
  if (!Array.isArray(reply)) {
    throw notDragonfly(master, `REPLCONF capa dragonfly answered ${describeReply(reply)}`);
  }
  if (reply.length < 3 || reply.length > 5) {
    throw notDragonfly(master, `the capa reply has ${reply.length} elements (expected 3 to 5)`);
  }
  const [masterId, syncId, flowCount, version, lineage] = reply;
  const masterIdText = asText(masterId);
  const syncIdText = asText(syncId);
  if (masterIdText === null || masterIdText.length !== 40) {
    throw notDragonfly(master, `master id ${describeReply(masterId ?? null)} is not 40 characters`);
  }
  if (syncIdText === null || !/^SYNC\d+$/.test(syncIdText)) {
    throw notDragonfly(master, `sync id ${describeReply(syncId ?? null)} is not SYNC<n>`);
  }
  if (typeof flowCount !== 'number' || !Number.isInteger(flowCount) || flowCount < 1 || flowCount > 1024) {
    throw notDragonfly(master, `flow count ${describeReply(flowCount ?? null)} is not an integer in 1..1024`);
  }
  if (version !== undefined && typeof version !== 'number') {
    throw notDragonfly(master, `version ${describeReply(version)} is not an integer`);
  }
  const lineageText = lineage === undefined ? null : asText(lineage);
  if (lineage !== undefined && lineageText === null) {
    throw notDragonfly(master, `lineage id ${describeReply(lineage)} is not a string`);
  }
  return {
    masterId: masterIdText,
    syncId: syncIdText,
    flowCount,
    version: version === undefined ? null : version,
    lineageId: lineageText,
    dragonflyVersion: null,
  };
}

function asText(v: RespValue | undefined): string | null {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return null;
}

function notDragonfly(master: string, detail: string): ReplicationError {
  return new ReplicationError({
    master,
    message: `not a Dragonfly master: ${detail}`,
    hint: 'dragonfly-cdc replicates from Dragonfly only (a Redis server answers +OK to capa dragonfly)',
    retryable: false,
  });
}
