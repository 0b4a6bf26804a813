/**
 * One side of the comparison: a connection to a Redis-protocol server (Dragonfly or Redis) that
 * selects databases and reads key metadata in pipelines. Connecting checks reachability and
 * authentication up front, so a bad URL fails with a clear message before any work starts.
 */
import Redis from 'ioredis';
import { ABSENT, type KeyMeta } from './types';

/** The server cannot be reached or refuses us: exit code 3. */
export class ConnectError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectError';
  }
}

/** The length command of each type verify compares by length. */
const LENGTH_COMMANDS: Record<string, string> = {
  string: 'STRLEN',
  list: 'LLEN',
  set: 'SCARD',
  zset: 'ZCARD',
  hash: 'HLEN',
  stream: 'XLEN',
};

const CONNECT_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 60_000;

type PipelineReplies = [Error | null, unknown][];

export class VerifyServer {
  private constructor(
    /** "source" or "target", for messages */
    readonly role: string,
    readonly redis: Redis,
    /** PEXPIRETIME (Redis >= 7.0, Dragonfly) reads expiries exactly; older servers: now + PTTL */
    private readonly absoluteExpiry: boolean,
  ) {}

  static async connect(role: string, url: string): Promise<VerifyServer> {
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    });
    let lastError: Error | undefined;
    redis.on('error', (error: Error) => {
      lastError = error;
    });
    const where = safeUrl(url);
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      const reason = (lastError ?? (error as Error)).message;
      const auth = /NOAUTH|WRONGPASS|invalid password|invalid username/i.test(reason);
      throw new ConnectError(
        auth
          ? `the ${role} at ${where} refused the credentials (${reason}): put user:password@ into --${role}-url`
          : `cannot connect to the ${role} at ${where}: ${reason}; check --${role}-url and that the server is running and reachable`,
        { cause: error },
      );
    }
    const absoluteExpiry = await redis.call('PEXPIRETIME', '__dragonfly-cdc-verify-probe__').then(
      () => true,
      () => false,
    );
    return new VerifyServer(role, redis, absoluteExpiry);
  }

  /** Databases holding keys, from INFO keyspace. */
  async databases(): Promise<number[]> {
    const info = await this.redis.info('keyspace');
    return [...info.matchAll(/^db(\d+):keys=(\d+)/gm)].filter((m) => m[2] !== '0').map((m) => Number(m[1]));
  }

  async select(db: number): Promise<void> {
    try {
      await this.redis.select(db);
    } catch (error) {
      throw new Error(
        `the ${this.role} cannot select database ${db} (${(error as Error).message}): both servers need the same databases`,
        { cause: error },
      );
    }
  }

  /** Type, absolute expiry and length of each key, in two pipelined round trips. */
  async readMetas(keys: Buffer[]): Promise<KeyMeta[]> {
    if (keys.length === 0) return [];
    const now = Date.now();
    const first = this.redis.pipeline();
    for (const key of keys) {
      first.type(key);
      if (this.absoluteExpiry) first.call('PEXPIRETIME', key);
      else first.pttl(key);
    }
    const replies = checked(await first.exec(), this.role);
    const metas: KeyMeta[] = keys.map((_, i) => {
      const type = String(replies[2 * i]![1]);
      if (type === 'none') return ABSENT;
      const expiry = Number(replies[2 * i + 1]![1]);
      const expireAtMs = expiry < 0 ? null : this.absoluteExpiry ? expiry : now + expiry;
      return { type, expireAtMs, length: null };
    });
    const second = this.redis.pipeline();
    const asked: number[] = [];
    metas.forEach((meta, i) => {
      const command = LENGTH_COMMANDS[meta.type];
      if (command === undefined) return;
      second.call(command, keys[i]!);
      asked.push(i);
    });
    if (asked.length === 0) return metas;
    const lengths = (await second.exec()) ?? [];
    asked.forEach((index, j) => {
      const [error, length] = lengths[j] ?? [new Error('no reply'), null];
      // the key changed type between the two round trips: an impossible length makes it differ and be re-checked
      metas[index] = { ...metas[index]!, length: error ? -1 : Number(length) };
    });
    return metas;
  }

  /** Which keys exist, one EXISTS per key (Dragonfly counts a multi-key EXISTS across shards). */
  async existing(keys: Buffer[]): Promise<boolean[]> {
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.exists(key);
    const replies = checked(await pipeline.exec(), this.role);
    return replies.map(([, count]) => Number(count) > 0);
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** Replies of a pipeline whose commands cannot fail on a sound server; a failure is a runtime error. */
export function checked(replies: PipelineReplies | null, role: string): PipelineReplies {
  if (replies === null) throw new Error(`the ${role} connection closed during a read`);
  const failed = replies.find(([error]) => error !== null);
  if (failed) throw new Error(`the ${role} failed a read: ${failed[0]!.message}`);
  return replies;
}

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
