/**
 * Commands that give hash fields / set members a TTL of their own. Dragonfly journals them with
 * relative TTLs, counted here from the event's time (when the master ran them). A target with
 * HPEXPIREAT (Redis >= 7.4) gets the exact absolute expiry; otherwise degrade.memberTtl decides:
 * drop-ttl writes without expiry, skip writes nothing. Set members never have TTLs in Redis.
 */
import { command, SCRIPT_OPS, upperName } from '../commands';
import type { Translation, TranslateContext } from './context';
import { verbatim } from './verbatim';

function number(arg: Buffer | undefined): number | null {
  if (arg === undefined) return null;
  const text = arg.toString('latin1');
  return /^-?\d+$/.test(text) ? Number(text) : null;
}

/** EX/PX/EXAT/PXAT value → absolute ms; relative ones count from the event time. */
function absoluteMs(unit: string, value: number, ctx: TranslateContext): number {
  switch (unit) {
    case 'EX':
      return ctx.eventTimeMs + value * 1000;
    case 'PX':
      return ctx.eventTimeMs + value;
    case 'EXAT':
      return value * 1000;
    default:
      return value;
  }
}

const TTL_UNITS = new Set(['EX', 'PX', 'EXAT', 'PXAT']);

interface HsetexParts {
  key: Buffer;
  mode: 'nx' | 'xx' | 'any';
  keepTtl: boolean;
  expireAtMs: number | null;
  pairs: Buffer[];
}

/**
 * Both forms Dragonfly accepts: `HSETEX key [NX] [KEEPTTL] <sec> f v ...` (its own) and
 * `HSETEX key [FNX|FXX] [EX|PX|EXAT|PXAT t | KEEPTTL] FIELDS n f v ...` (Redis 8).
 */
function parseHsetex(args: Buffer[], ctx: TranslateContext): HsetexParts | string {
  const key = args[0];
  if (key === undefined) return 'no key';
  const parts: HsetexParts = { key, mode: 'any', keepTtl: false, expireAtMs: null, pairs: [] };
  for (let i = 1; i < args.length; i++) {
    const word = upperName(args[i]);
    if (word === 'NX' || word === 'FNX') parts.mode = 'nx';
    else if (word === 'FXX') parts.mode = 'xx';
    else if (word === 'KEEPTTL') parts.keepTtl = true;
    else if (TTL_UNITS.has(word)) {
      const value = number(args[++i]);
      if (value === null) return `${word} needs a whole number`;
      parts.expireAtMs = absoluteMs(word, value, ctx);
    } else if (word === 'FIELDS') {
      parts.pairs = args.slice(i + 2);
      break;
    } else {
      const seconds = number(args[i]);
      if (seconds === null) return `unexpected argument ${JSON.stringify(word.slice(0, 40))}`;
      parts.expireAtMs = absoluteMs('EX', seconds, ctx);
      parts.pairs = args.slice(i + 1);
      break;
    }
  }
  if (parts.pairs.length === 0 || parts.pairs.length % 2 !== 0) return 'field/value pairs expected';
  return parts;
}

function hsetex(sourceDb: number, args: Buffer[], ctx: TranslateContext): Translation {
  const parts = parseHsetex(args, ctx);
  if (typeof parts === 'string') return { kind: 'unsupported', row: 'hsetex', reason: `HSETEX: ${parts}` };
  const db = ctx.keys.db(sourceDb);
  const key = ctx.keys.key(sourceDb, parts.key);
  const withTtl = parts.expireAtMs !== null;
  const ttlKept = !withTtl || ctx.capabilities.hashFieldTtl;
  if (!ttlKept && ctx.degrade.memberTtl === 'skip') {
    return {
      kind: 'skip',
      row: 'hsetex',
      reason: 'fields with a TTL are not written (degrade.memberTtl=skip)',
    };
  }
  const at = ttlKept && parts.expireAtMs !== null ? parts.expireAtMs : -1;
  if (parts.mode === 'any' && !parts.keepTtl) {
    const commands = [command(db, 'HSET', key, ...parts.pairs)];
    if (at >= 0) {
      const fields = parts.pairs.filter((_, i) => i % 2 === 0);
      commands.push(command(db, 'HPEXPIREAT', key, at, 'FIELDS', fields.length, ...fields));
    }
    return { kind: 'commands', row: 'hsetex', exact: ttlKept, commands };
  }
  const keep = parts.keepTtl ? 1 : 0;
  return {
    kind: 'commands',
    row: 'hsetex',
    exact: ttlKept,
    commands: [command(db, SCRIPT_OPS.hsetex, key, parts.mode, keep, at, ...parts.pairs)],
  };
}

/** SADDEX key [KEEPTTL] <sec> member ...: Redis has no member TTLs. */
function saddex(sourceDb: number, args: Buffer[], ctx: TranslateContext): Translation {
  const at = upperName(args[1]) === 'KEEPTTL' ? 3 : 2;
  const key = args[0];
  if (key === undefined || args.length <= at) {
    return { kind: 'unsupported', row: 'saddex', reason: 'SADDEX: key, seconds and members expected' };
  }
  if (ctx.degrade.memberTtl === 'skip') {
    return {
      kind: 'skip',
      row: 'saddex',
      reason: 'members with a TTL are not written (degrade.memberTtl=skip)',
    };
  }
  const db = ctx.keys.db(sourceDb);
  return {
    kind: 'commands',
    row: 'saddex',
    exact: false,
    commands: [command(db, 'SADD', ctx.keys.key(sourceDb, key), ...args.slice(at))],
  };
}

function noFieldTtls(row: string): Translation {
  return { kind: 'skip', row, reason: 'the target has no per-field TTLs (needs HPEXPIREAT, Redis >= 7.4)' };
}

/** FIELDEXPIRE key <sec> field ...: Dragonfly's TTL for hash fields or set members. */
function fieldexpire(sourceDb: number, args: Buffer[], ctx: TranslateContext): Translation {
  const [key, secondsArg, ...fields] = args;
  const seconds = number(secondsArg);
  if (key === undefined || seconds === null || fields.length === 0) {
    return {
      kind: 'unsupported',
      row: 'fieldexpire',
      reason: 'FIELDEXPIRE: key, seconds and fields expected',
    };
  }
  if (!ctx.capabilities.hashFieldTtl) return noFieldTtls('fieldexpire');
  const db = ctx.keys.db(sourceDb);
  const target = ctx.keys.key(sourceDb, key);
  const at = absoluteMs('EX', seconds, ctx);
  return {
    kind: 'commands',
    row: 'fieldexpire',
    exact: true,
    commands: [
      command(
        db,
        SCRIPT_OPS.ifType,
        'hash',
        target,
        'HPEXPIREAT',
        target,
        at,
        'FIELDS',
        fields.length,
        ...fields,
      ),
    ],
  };
}

const HEXPIRE_UNITS: Record<string, string> = {
  HEXPIRE: 'EX',
  HPEXPIRE: 'PX',
  HEXPIREAT: 'EXAT',
  HPEXPIREAT: 'PXAT',
};

/** HEXPIRE/HPEXPIRE/HEXPIREAT/HPEXPIREAT key t [NX|XX|GT|LT] FIELDS n f ...: made absolute. */
function hexpire(name: string, sourceDb: number, args: Buffer[], ctx: TranslateContext): Translation {
  const [key, timeArg, ...rest] = args;
  const time = number(timeArg);
  if (key === undefined || time === null) {
    return { kind: 'unsupported', row: 'hexpire', reason: `${name}: key and time expected` };
  }
  if (!ctx.capabilities.hashFieldTtl) return noFieldTtls('hexpire');
  const at = absoluteMs(HEXPIRE_UNITS[name] ?? 'PXAT', time, ctx);
  const db = ctx.keys.db(sourceDb);
  return {
    kind: 'commands',
    row: 'hexpire',
    exact: true,
    commands: [command(db, 'HPEXPIREAT', ctx.keys.key(sourceDb, key), at, ...rest)],
  };
}

/** HGETEX key [EX|PX|EXAT|PXAT t | PERSIST] FIELDS n f ...: only its TTL change is a write. */
function hgetex(sourceDb: number, args: Buffer[], ctx: TranslateContext): Translation {
  const [key, option] = args;
  const word = upperName(option);
  if (key === undefined) return { kind: 'unsupported', row: 'hgetex', reason: 'HGETEX: no key' };
  if (word === 'FIELDS') return { kind: 'skip', row: 'hgetex', reason: 'read without a TTL change' };
  if (!ctx.capabilities.hashFieldTtl) return noFieldTtls('hgetex');
  const db = ctx.keys.db(sourceDb);
  const target = ctx.keys.key(sourceDb, key);
  if (word === 'PERSIST') {
    return {
      kind: 'commands',
      row: 'hgetex',
      exact: true,
      commands: [command(db, 'HPERSIST', target, ...args.slice(2))],
    };
  }
  const time = number(args[2]);
  if (!TTL_UNITS.has(word) || time === null) {
    return { kind: 'unsupported', row: 'hgetex', reason: `HGETEX: unexpected option ${word.slice(0, 40)}` };
  }
  const at = absoluteMs(word, time, ctx);
  return {
    kind: 'commands',
    row: 'hgetex',
    exact: true,
    commands: [command(db, 'HPEXPIREAT', target, at, ...args.slice(3))],
  };
}

export function fieldTtlTranslation(
  name: string,
  sourceDb: number,
  args: Buffer[],
  ctx: TranslateContext,
): Translation | undefined {
  switch (name) {
    case 'HSETEX':
      return hsetex(sourceDb, args, ctx);
    case 'SADDEX':
      return saddex(sourceDb, args, ctx);
    case 'FIELDEXPIRE':
      return fieldexpire(sourceDb, args, ctx);
    case 'HEXPIRE':
    case 'HPEXPIRE':
    case 'HEXPIREAT':
    case 'HPEXPIREAT':
      return hexpire(name, sourceDb, args, ctx);
    case 'HGETEX':
      return hgetex(sourceDb, args, ctx);
    case 'HPERSIST':
      return ctx.capabilities.hashFieldTtl
        ? verbatim('hpersist', sourceDb, name, args, ctx)
        : noFieldTtls('hpersist');
    default:
      return undefined;
  }
}
