/**
 * The translation table for journaled commands (spec 5.5, 5.6): replayed as recorded when the
 * target accepts them, translated exactly where possible, else handled by the configured policy.
 * Rows not listed here (the bulk: SET, INCR, LPUSH, XADD ...) are replayed verbatim if the target
 * knows the command. docs/sink.md lists every row.
 */
import { rdbValueToEventValue } from '../../events/values';
import type { JournalCommand } from '../../events/model';
import { decodeDumpPayload } from '../../protocol/rdb/dump';
import { command, SCRIPT_OPS, toArg, upperName } from '../commands';
import type { Translation, TranslateContext } from './context';
import { fieldTtlTranslation } from './field-ttl';
import { withLateExpiry } from './late-expiry';
import { moduleTranslation } from './modules';
import { snapshotTranslation } from './snapshot';
import { newStreamChunkState } from './stream';
import { verbatim } from './verbatim';

function skip(row: string, reason: string): Translation {
  return { kind: 'skip', row, reason };
}

/**
 * SET ... [STICK] [_MCFLAGS n]: Dragonfly-only options (eviction pin, memcached flags) dropped;
 * EXAT s becomes PXAT ms, and an absolute expiry goes through the late-expiry op.
 */
function set(db: number, args: Buffer[], ctx: TranslateContext): Translation {
  const kept: Buffer[] = [];
  let dropped = false;
  let expiryArg = -1;
  for (let i = 0; i < args.length; i++) {
    const word = i >= 2 ? upperName(args[i]) : '';
    if (word === 'STICK') dropped = true;
    else if (word === '_MCFLAGS') {
      dropped = true;
      i++;
    } else if ((word === 'PXAT' || word === 'EXAT') && i + 1 < args.length) {
      const at = Number((args[i + 1] as Buffer).toString('latin1')) * (word === 'EXAT' ? 1000 : 1);
      kept.push(Buffer.from('PXAT'), toArg(Number.isSafeInteger(at) ? at : (args[i + 1] as Buffer)));
      expiryArg = kept.length;
      i++;
    } else kept.push(args[i] as Buffer);
  }
  const translation = verbatim(
    dropped ? 'set-dragonfly-options' : 'verbatim',
    db,
    'SET',
    kept,
    ctx,
    !dropped,
  );
  if (expiryArg < 0) return translation;
  const at = Number((kept[expiryArg - 1] as Buffer).toString('latin1'));
  return withLateExpiry(translation, expiryArg, at);
}

/** PEXPIREAT key ms / EXPIREAT key s [options]: through the late-expiry op (EXPIREAT as PEXPIREAT). */
function expireAt(name: string, db: number, args: Buffer[], ctx: TranslateContext): Translation {
  const [key, atArg, ...options] = args;
  const at = Number(atArg?.toString('latin1')) * (name === 'EXPIREAT' ? 1000 : 1);
  if (key === undefined || !Number.isSafeInteger(at)) return verbatim('verbatim', db, name, args, ctx);
  const translation = verbatim('verbatim', db, 'PEXPIREAT', [key, toArg(at), ...options], ctx);
  return withLateExpiry(translation, 2, at);
}

/**
 * RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f] [STICK] (cross-shard RENAME/COPY):
 * verbatim (STICK dropped) when the target loads the payload's RDB type, else decoded and written
 * as typed commands with replace semantics.
 */
function restore(db: number, args: Buffer[], ctx: TranslateContext): Translation {
  const [key, ttlArg, payload, ...options] = args;
  if (key === undefined || ttlArg === undefined || payload === undefined || payload.length === 0) {
    return { kind: 'unsupported', row: 'restore', reason: 'RESTORE: key, ttl and payload expected' };
  }
  const words = options.map((o) => upperName(o));
  const kept = options.filter((_, i) => words[i] !== 'STICK');
  if (ctx.capabilities.restoreTypes.has(payload[0] as number)) {
    // a relative TTL counts from the event's time: written absolute (ABSTTL), via the late-expiry op
    const ttl = Number(ttlArg.toString('latin1'));
    const absolute = words.includes('ABSTTL');
    const at = absolute ? ttl : ctx.eventTimeMs + ttl;
    const timed = ttl > 0 && Number.isSafeInteger(at);
    const translation = verbatim(
      kept.length === options.length ? 'verbatim' : 'restore-stick',
      db,
      'RESTORE',
      timed
        ? [key, toArg(at), payload, ...kept, ...(absolute ? [] : [Buffer.from('ABSTTL')])]
        : [key, ttlArg, payload, ...kept],
      ctx,
    );
    return timed ? withLateExpiry(translation, 2, at) : translation;
  }
  let decoded;
  try {
    decoded = decodeDumpPayload(payload);
  } catch (e) {
    return { kind: 'unsupported', row: 'restore-typed', reason: `RESTORE payload: ${(e as Error).message}` };
  }
  const ttl = Number(ttlArg.toString('latin1'));
  const expireAtMs = !(ttl > 0) ? null : words.includes('ABSTTL') ? ttl : ctx.eventTimeMs + ttl;
  const translation = snapshotTranslation(
    {
      db,
      key,
      expireAtMs,
      value: rdbValueToEventValue(decoded.value),
      chunk: { index: 0, count: 1, mode: 'REPLACE' },
    },
    ctx,
    newStreamChunkState(),
  );
  return translation.kind === 'commands' ? { ...translation, row: 'restore-typed' } : translation;
}

/** Minimum argument counts of the complete commands; fewer = a cross-shard STORE piece (spec 5.5). */
const GEO_MIN_ARGS: Record<string, number> = { GEORADIUS: 5, GEORADIUSBYMEMBER: 4 };

function hasStore(args: Buffer[]): boolean {
  return args.some((a, i) => i > 0 && ['STORE', 'STOREDIST'].includes(upperName(a)));
}

function geoOrSort(name: string, db: number, args: Buffer[], ctx: TranslateContext): Translation {
  const min = GEO_MIN_ARGS[name];
  if (min !== undefined && args.length < min) {
    return skip(
      'cross-shard-store-piece',
      `${name} with ${args.length} arguments is one shard's piece of a cross-shard STORE; not executable, its destination is lost (only a new full sync repairs it)`,
    );
  }
  if (!hasStore(args)) return skip('read-only', `${name} without STORE changes nothing`);
  return verbatim('verbatim', db, name, args, ctx);
}

/** MOVE key db: verbatim, or RENAMENX between the two prefixes when every db lands in db 0. */
function move(db: number, args: Buffer[], ctx: TranslateContext): Translation {
  if (!ctx.keys.prefixed) return verbatim('verbatim', db, 'MOVE', args, ctx);
  const [key, toDbArg] = args;
  const toDb = Number(toDbArg?.toString('latin1'));
  if (key === undefined || !Number.isInteger(toDb)) {
    return { kind: 'unsupported', row: 'move', reason: 'MOVE: key and database expected' };
  }
  return {
    kind: 'commands',
    row: 'move-prefixed',
    exact: true,
    commands: [command(ctx.keys.db(db), 'RENAMENX', ctx.keys.key(db, key), ctx.keys.key(toDb, key))],
  };
}

const NO_EFFECT: Record<string, string> = {
  STICK: 'STICK pins keys against eviction in Dragonfly; nothing to do in Redis',
  SHRINK: 'SHRINK compacts memory in Dragonfly; no data change',
  SCRIPT: 'scripts are journaled by their effects; SCRIPT LOAD/CONFIG change no data',
  DFLYCLUSTER: 'Dragonfly cluster management, not data',
  PING: 'no data (JSON.MSET that stored nothing, WAIT)',
};

/** The translation of one (whole) journaled command. */
export function journalTranslation(cmd: JournalCommand, ctx: TranslateContext): Translation {
  const name = cmd.command.toUpperCase();
  const args = cmd.args;
  const db = cmd.db;
  switch (name) {
    case 'FLUSHALL':
      return { kind: 'barrier', row: 'flush', scope: { all: true } };
    case 'FLUSHDB':
      return { kind: 'barrier', row: 'flush', scope: { all: false, db } };
    case 'SET':
      return set(db, args, ctx);
    case 'RESTORE':
      return restore(db, args, ctx);
    case 'PEXPIREAT':
    case 'EXPIREAT':
      return expireAt(name, db, args, ctx);
    case 'PREPEND': {
      const [key, value] = args;
      if (key === undefined || value === undefined) {
        return { kind: 'unsupported', row: 'prepend', reason: 'PREPEND: key and value expected' };
      }
      return {
        kind: 'commands',
        row: 'prepend',
        exact: true,
        commands: [command(ctx.keys.db(db), SCRIPT_OPS.prepend, ctx.keys.key(db, key), value)],
      };
    }
    case 'GEORADIUS':
    case 'GEORADIUSBYMEMBER':
    case 'SORT':
      return geoOrSort(name, db, args, ctx);
    case 'MOVE':
      return move(db, args, ctx);
  }
  const reason = NO_EFFECT[name];
  if (reason !== undefined) return skip('no-effect', reason);
  const special = fieldTtlTranslation(name, db, args, ctx) ?? moduleTranslation(name, db, args, ctx);
  if (special !== undefined) return special;
  if (!ctx.capabilities.commands.has(name)) {
    return {
      kind: 'unsupported',
      row: 'unknown-command',
      reason: `the target does not know the command ${name}`,
    };
  }
  return verbatim('verbatim', db, name, args, ctx);
}
