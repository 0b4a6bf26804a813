/**
 * The writer for a standalone Redis: one connection, batches applied through the apply script
 * (atomic with the partition's position, see apply-script.ts), barriers through the barrier script,
 * positions read back on assignment. The connection stays in database 0, where the checkpoint
 * hash lives; the scripts SELECT other databases only inside themselves.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Redis, { Command, type RedisOptions } from 'ioredis';
import type { SinkConfig } from '../config/sink';
import type { RedisCommand } from '../sink/commands';
import {
  APPLY_SCRIPT,
  BARRIER_SCRIPT,
  LATE_EXPIRY_NOTES_PER_STEP,
  LATE_EXPIRY_OFFSET_MS,
} from './apply-script';

export interface BatchEvent {
  offset: string;
  /** the position stored once this event is applied (its offset + 1, or the start of an open value) */
  after: string;
  epoch: number;
  commands: RedisCommand[];
}

export interface BatchRequest {
  checkpointKey: string;
  positionField: string;
  epochField: string;
  /** the position this batch continues from; null when none is stored yet */
  expected: string | null;
  /** the checkpoint field of the partition's progress inside an open value or a failed event */
  progressField: string;
  /**
   * The offset after the last event of the batch sent before this one while its reply is pending
   * (pipelined), else null: a stored progress below it means that batch did not get that far.
   */
  expectedNext: string | null;
  /** the partition's hash of keys given a late expiry (apply-script.ts) */
  lateExpiryKey: string;
  /** the batch reaches the end of what the partition holds: delete the keys whose late expiry stands */
  sweepLateExpiries: boolean;
  /** the checkpoint field holding the cursor of a walk over the late-expiry hash */
  lateExpiryCursorField: string;
  events: BatchEvent[];
}

/**
 * `sweepError`: why the late-expiry sweep could not run ('' when it ran or was not due);
 * `sweepMore`: the sweep of a batch that reached the end has more steps to take.
 */
export type BatchResult =
  | { status: 'ok'; position: string; sweepError: string; sweepMore: boolean }
  /**
   * Events before `eventIndex` are applied, and the commands of that event before `commandIndex`;
   * the stored progress points at the failed command.
   */
  | {
      status: 'failed';
      position: string;
      eventIndex: number;
      commandIndex: number;
      error: string;
      sweepError: string;
      sweepMore: boolean;
    }
  /** the stored position is behind what the batch expects: nothing was applied */
  | { status: 'behind'; position: string | null };

export interface BarrierRequest {
  checkpointKey: string;
  barrierKey: string;
  flow: number;
  flows: number;
  action: { kind: 'flushall' } | { kind: 'flushdb'; db: number } | { kind: 'pattern'; glob: string };
  ttlSeconds: number;
  ownKeysGlob: string;
  /** this flow applied data the wipe must remove (false: it starts at the barrier) */
  wipe: boolean;
  /** epoch barriers: the flows' checkpoint fields (prefix + flow + suffix) telling which epoch each reached */
  epoch: { epoch: number; fieldPrefix: string; epochSuffix: string; reachedSuffix: string } | null;
}

export type BarrierState = 'DONE' | 'WAITING' | 'EXECUTED' | 'SKIPPED';

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** ioredis connection options from the sink's redis settings (URL, user, password, TLS). */
export function redisOptions(config: SinkConfig['redis']): RedisOptions {
  const options: RedisOptions = {
    // commands wait for a reconnection instead of failing at once; the sink retries on top
    maxRetriesPerRequest: 3,
    enableReadyCheck: true,
    lazyConnect: true,
  };
  if (config.username) options.username = config.username;
  if (config.password) options.password = config.password;
  const tls = config.tls;
  if (tls.enabled || config.url.startsWith('rediss://')) {
    options.tls = {
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
      ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
      ...(tls.key ? { key: readFileSync(tls.key) } : {}),
    };
  }
  return options;
}

/**
 * The scripts pass their keys as arguments (the keys of a batch are only known inside it). A Dragonfly
 * target refuses a script that touches undeclared keys unless the script's first line says it may;
 * to Redis that line is a Lua comment. Dragonfly then runs the script with every shard locked, so it
 * stays atomic.
 */
const DRAGONFLY_SCRIPT_FLAGS = '--!df flags=allow-undeclared-keys';
const APPLY = `${DRAGONFLY_SCRIPT_FLAGS}${APPLY_SCRIPT}`;
const BARRIER = `${DRAGONFLY_SCRIPT_FLAGS}${BARRIER_SCRIPT}`;

export class RedisStandaloneWriter {
  private readonly applySha = sha1(APPLY);
  private readonly barrierSha = sha1(BARRIER);

  constructor(readonly redis: Redis) {}

  static async connect(config: SinkConfig['redis']): Promise<RedisStandaloneWriter> {
    const redis = new Redis(config.url, redisOptions(config));
    await redis.connect();
    const writer = new RedisStandaloneWriter(redis);
    await writer.loadScripts();
    return writer;
  }

  /**
   * Loads the scripts into the target's script cache, so that the pipelined batches of the first
   * moments do not all miss it (NOSCRIPT, then EVAL with the whole script text each).
   */
  async loadScripts(): Promise<void> {
    await this.redis.script('LOAD', APPLY);
    await this.redis.script('LOAD', BARRIER);
  }

  async apply(request: BatchRequest): Promise<BatchResult> {
    const args: (string | Buffer)[] = [
      request.checkpointKey,
      request.positionField,
      request.epochField,
      request.expected ?? '-1',
      request.lateExpiryKey,
      request.sweepLateExpiries ? '1' : '0',
      String(LATE_EXPIRY_OFFSET_MS),
      request.progressField,
      request.expectedNext ?? '-1',
      request.lateExpiryCursorField,
      String(LATE_EXPIRY_NOTES_PER_STEP),
      String(request.events.length),
    ];
    for (const event of request.events) {
      args.push(`${event.offset} ${event.after} ${event.epoch} ${event.commands.length}`);
      for (const cmd of event.commands) {
        args.push(`${cmd.db} ${cmd.args.length + 1}`, cmd.name);
        for (const arg of cmd.args) args.push(arg);
      }
    }
    const reply = (await this.runScript(this.applySha, APPLY, args)) as unknown[];
    const [status, position, eventIndex, commandIndex, error, sweepError, more] = reply.map((v) => String(v));
    const sweepMore = more === '1';
    if (status === 'BEHIND')
      return { status: 'behind', position: position === '-1' ? null : (position as string) };
    if (status === 'FAILED') {
      return {
        status: 'failed',
        position: position as string,
        eventIndex: Number(eventIndex),
        commandIndex: Number(commandIndex),
        error: error ?? '',
        sweepError: sweepError ?? '',
        sweepMore,
      };
    }
    return { status: 'ok', position: position as string, sweepError: sweepError ?? '', sweepMore };
  }

  async barrier(request: BarrierRequest): Promise<BarrierState> {
    const action = request.action;
    const argument =
      action.kind === 'flushdb' ? String(action.db) : action.kind === 'pattern' ? action.glob : '';
    const reply = await this.runScript(this.barrierSha, BARRIER, [
      request.checkpointKey,
      request.barrierKey,
      `flow:${request.flow}`,
      String(request.flows),
      action.kind,
      argument,
      String(request.ttlSeconds),
      request.ownKeysGlob,
      request.wipe ? '1' : '0',
      request.epoch === null ? '' : String(request.epoch.epoch),
      request.epoch?.fieldPrefix ?? '',
      request.epoch?.epochSuffix ?? '',
      request.epoch?.reachedSuffix ?? '',
      String(request.flow),
    ]);
    return String(reply) as BarrierState;
  }

  /** Stored values of some checkpoint fields (null where none is stored). */
  async readFields(checkpointKey: string, fields: string[]): Promise<(string | null)[]> {
    if (fields.length === 0) return [];
    return this.redis.hmget(checkpointKey, ...fields);
  }

  /** Sets fields only where none is stored yet (start positions agreed by every sink process). */
  async initFields(checkpointKey: string, values: Map<string, string>): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const [field, value] of values) pipeline.hsetnx(checkpointKey, field, value);
    await pipeline.exec();
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** EVALSHA, falling back to EVAL once when the script cache lacks it; args go as one array (no spread). */
  private async runScript(sha: string, script: string, args: (string | Buffer)[]): Promise<unknown> {
    const send = (name: string, first: string): Promise<unknown> =>
      this.redis.sendCommand(
        new Command(name, ([first, '0'] as (string | Buffer)[]).concat(args), { replyEncoding: 'utf8' }),
      ) as Promise<unknown>;
    try {
      return await send('evalsha', sha);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      return send('eval', script);
    }
  }
}
