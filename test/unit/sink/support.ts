/**
 * Shared pieces of the sink unit tests: targets with chosen capabilities, events, readable commands.
 */
import { loadSinkConfig } from '../../../src/config/sink';
import type { ChangeEvent, EventPayload } from '../../../src/events/model';
import type { RedisCommand } from '../../../src/sink/commands';
import { keyMapping } from '../../../src/sink/db-mapping';
import type { TranslateContext } from '../../../src/sink/translate/context';
import { capabilitiesFrom, type TargetCapabilities } from '../../../src/targets/capabilities';

const BASE_COMMANDS = [
  'SET',
  'GET',
  'DEL',
  'INCR',
  'APPEND',
  'RPUSH',
  'LPUSH',
  'SADD',
  'HSET',
  'ZADD',
  'XADD',
  'XSETID',
  'XGROUP',
  'XCLAIM',
  'PEXPIREAT',
  'RESTORE',
  'MOVE',
  'RENAMENX',
  'MSET',
  'SORT',
  'GEORADIUS',
  'GEORADIUSBYMEMBER',
];

/**
 * COMMAND entries [name, arity, flags, first, last, step] for a few commands with their key specs;
 * every arity is variable unless `arities` says otherwise.
 */
function commandReply(names: string[], arities: Record<string, number> = {}): unknown[] {
  const specs: Record<string, [number, number, number, string[]]> = {
    MSET: [1, -1, 2, []],
    DEL: [1, -1, 1, []],
    SORT: [1, 1, 1, ['movablekeys']],
  };
  return names.map((n) => {
    const [first, last, step, flags] = specs[n] ?? [1, 1, 1, []];
    return [n.toLowerCase(), arities[n] ?? -2, flags, first, last, step];
  });
}

export function redis70(): TargetCapabilities {
  return capabilitiesFrom('redis_version:7.0.15\r\n', commandReply(BASE_COMMANDS), []);
}

export function redis74(): TargetCapabilities {
  return capabilitiesFrom(
    'redis_version:7.4.1\r\n',
    commandReply([...BASE_COMMANDS, 'HPEXPIREAT', 'HPERSIST']),
    [],
  );
}

/** Dragonfly v1.40.1 as a target: no HPEXPIREAT, an XSETID of fixed arity (key and id only). */
export function dragonflyTarget(): TargetCapabilities {
  return capabilitiesFrom(
    'redis_version:7.4.0\r\ndragonfly_version:df-v1.40.1\r\n',
    commandReply(BASE_COMMANDS, { XSETID: 3 }),
    [['name', 'ReJSON', 'ver', 20808]],
  );
}

export function redisStack(): TargetCapabilities {
  return capabilitiesFrom(
    'redis_version:7.4.1\r\n',
    commandReply([...BASE_COMMANDS, 'HPEXPIREAT', 'JSON.SET', 'BF.ADD']),
    [
      ['name', 'ReJSON', 'ver', 20000],
      ['name', 'bf', 'ver', 20000],
    ],
  );
}

export const NOW = 1_700_000_000_000;

export function context(overrides: Partial<TranslateContext> = {}, flags: string[] = []): TranslateContext {
  const config = loadSinkConfig(['--topic', 't', ...flags], {});
  return {
    capabilities: redis70(),
    degrade: config.degrade,
    keys: keyMapping(config.db),
    nowMs: NOW,
    eventTimeMs: NOW - 1000,
    ...overrides,
  };
}

export function event(payload: EventPayload, flow = 0): ChangeEvent {
  return {
    source: {
      sourceId: 's',
      masterId: 'm',
      dragonflyVersion: '1.40.1',
      epoch: 1,
      flow,
      shardCount: 4,
      phase: 'STABLE',
      lsn: 1,
      index: 0,
      txid: 'txid' in payload ? payload.txid : null,
      db: 'db' in payload ? payload.db : null,
      timestampMs: NOW - 1000,
    },
    payload,
  };
}

/** Commands as readable text: "db0 SET k v". */
export function text(commands: RedisCommand[]): string[] {
  return commands.map((c) => [`db${c.db}`, c.name, ...c.args.map((a) => a.toString('latin1'))].join(' '));
}

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');
