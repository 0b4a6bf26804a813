/**
 * Errors of the sink. Each names where it happened (topic/partition/offset) and what to do.
 */

/** Where an event sits in Kafka. */
export interface EventLocation {
  topic: string;
  partition: number;
  offset: string;
}

export function describeLocation(at: EventLocation): string {
  return `${at.topic}/${at.partition}@${at.offset}`;
}

export class SinkError extends Error {
  readonly hint: string;

  constructor(what: string, hint: string) {
    super(`${what}. ${hint}`);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** An event could not be applied and errors.tolerance=none: the sink stops before it. */
export class EventApplyError extends SinkError {
  constructor(
    readonly at: EventLocation,
    what: string,
    hint: string,
  ) {
    super(`event ${describeLocation(at)} was not applied: ${what}`, hint);
  }
}

/** The target refused in a way retrying cannot fix (authentication, permissions, configuration). */
export class TargetError extends SinkError {}

export type RedisFailure =
  /** worth retrying with backoff: the same batch may succeed later */
  | { kind: 'transient'; what: string; hint: string }
  /** this event cannot be applied (WRONGTYPE, bad arguments ...): errors.tolerance decides */
  | { kind: 'event'; what: string; hint: string }
  /** nothing will work until the user acts */
  | { kind: 'fatal'; what: string; hint: string };

const TRANSIENT: [RegExp, string][] = [
  [/^OOM\b/, 'the target is out of memory (maxmemory reached): free memory or raise maxmemory'],
  [/^LOADING\b/, 'the target is loading its dataset; the sink waits'],
  [/^BUSY\b/, 'the target runs a long script; the sink waits'],
  [/^(MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/, 'the target is not serving writes right now'],
  [/^MISCONF\b/, 'the target cannot persist (MISCONF): check its disk and save settings'],
  [/^READONLY\b/, 'the target is a read-only replica: point redis.url at the primary'],
];

const FATAL: [RegExp, string][] = [
  [/^(NOAUTH|WRONGPASS)\b/, 'authentication failed: check redis.username/redis.password (or the URL)'],
  [
    /^NOPERM\b/,
    'the Redis user lacks a permission: allow it the data commands, EVAL/EVALSHA and the checkpoint key',
  ],
  [/^NOSCRIPT\b/, 'scripting is disabled on the target: the sink needs EVAL/EVALSHA'],
];

const CONNECTION =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection is closed|MaxRetriesPerRequest|Stream isn't writeable|connect/i;

/** Sorts an error message of Redis (or of the connection) into what the sink does about it. */
export function classifyRedisError(message: string): RedisFailure {
  for (const [pattern, hint] of TRANSIENT)
    if (pattern.test(message)) return { kind: 'transient', what: message, hint };
  for (const [pattern, hint] of FATAL)
    if (pattern.test(message)) return { kind: 'fatal', what: message, hint };
  if (CONNECTION.test(message)) {
    return {
      kind: 'transient',
      what: message,
      hint: 'the connection to the target failed; the sink reconnects',
    };
  }
  if (/^WRONGTYPE\b/.test(message)) {
    return {
      kind: 'event',
      what: message,
      hint: 'the key holds another type in the target than in the source: something else writes to the target, or the db mapping merges keys',
    };
  }
  return {
    kind: 'event',
    what: message,
    hint: 'the target rejected the command; see docs/sink.md (translation table) for what the sink sends',
  };
}

/** Where to start cannot be worked out (no topic, no complete snapshot, a topic of something else). */
export class StartPositionError extends SinkError {}
