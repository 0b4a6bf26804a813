import { HashField, mapKey } from '../values';
import { CommandContext, CommandHandler } from './context';

/**
 * TTLs of single hash fields and set members. Dragonfly journals these commands verbatim with their
 * relative TTLs (spec 5.5), so they are evaluated against the record's time. Dragonfly keeps field
 * TTLs in whole seconds; HPEXPIRE/HEXPIREAT/HPEXPIREAT/HPERSIST do not exist in v1.40.1 but are
 * what the sink writes to Redis, so they run with Redis's millisecond semantics.
 */

type Condition = 'NX' | 'XX' | 'GT' | 'LT' | null;

interface Member {
  expireAtMs: number | null;
}

/** The `FIELDS n f ...` tail starting at `at`; n must match. */
function fieldList(ctx: CommandContext, args: Buffer[], at: number): Buffer[] {
  if (ctx.upper(args[at]) !== 'FIELDS') ctx.fail('FIELDS is missing or not at the right position');
  const n = ctx.int(args[at + 1], 'FIELDS count');
  const fields = args.slice(at + 2);
  if (n < 1 || fields.length !== n) ctx.fail(`FIELDS says ${n} but ${fields.length} fields follow`);
  return fields;
}

/** Whether NX/XX/GT/LT lets a new expiry replace `current` (no TTL counts as infinite, as in Redis). */
function conditionHolds(condition: Condition, current: number | null, next: number): boolean {
  switch (condition) {
    case 'NX':
      return current === null;
    case 'XX':
      return current !== null;
    case 'GT':
      return current !== null && next > current;
    case 'LT':
      return current === null || next < current;
    default:
      return true;
  }
}

function hashFields(ctx: CommandContext, key: Buffer): Map<string, HashField> | undefined {
  return ctx.lookup(key, 'hash')?.fields;
}

/**
 * Gives `fields` the expiry `expireAtMs` when the condition holds; an expiry that is due deletes the
 * field (and the hash when it became empty).
 */
function expireFields(
  ctx: CommandContext,
  key: Buffer,
  fields: Buffer[],
  expireAtMs: number,
  condition: Condition,
): void {
  const hash = hashFields(ctx, key);
  if (!hash) return;
  for (const f of fields) {
    const field = hash.get(mapKey(f));
    if (!field || !conditionHolds(condition, field.expireAtMs, expireAtMs)) continue;
    if (expireAtMs <= ctx.nowMs) hash.delete(mapKey(f));
    else field.expireAtMs = expireAtMs;
  }
  ctx.deleteIfEmpty(key, hash.size);
}

/** HEXPIRE/HPEXPIRE/HEXPIREAT/HPEXPIREAT key time [NX|XX|GT|LT] FIELDS n field ... */
function hexpire(toAbsoluteMs: (ctx: CommandContext, time: number) => number): CommandHandler {
  return (ctx, args) => {
    const key = ctx.arg(args, 0, 'key');
    const time = ctx.int(args[1], 'time');
    if (time < 0) ctx.fail(`time ${time} is negative`);
    const word = ctx.upper(args[2]);
    const condition = word === 'NX' || word === 'XX' || word === 'GT' || word === 'LT' ? word : null;
    const fields = fieldList(ctx, args, condition ? 3 : 2);
    expireFields(ctx, key, fields, toAbsoluteMs(ctx, time), condition);
  };
}

function persistFields(ctx: CommandContext, key: Buffer, fields: Buffer[]): void {
  const hash = hashFields(ctx, key);
  if (!hash) return;
  for (const f of fields) {
    const field = hash.get(mapKey(f));
    if (field) field.expireAtMs = null;
  }
}

/**
 * HGETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST] FIELDS n field ...: Dragonfly rounds the
 * remaining time up to whole seconds; a time that is due deletes the fields. Without an option it
 * only reads.
 */
const hgetex: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const option = ctx.upper(args[1]);
  if (option === 'FIELDS') return;
  if (option === 'PERSIST') return persistFields(ctx, key, fieldList(ctx, args, 2));
  const time = ctx.int(args[2], option);
  const fields = fieldList(ctx, args, 3);
  let relativeMs: number;
  if (option === 'EX') relativeMs = time * 1000;
  else if (option === 'PX') relativeMs = time;
  else if (option === 'EXAT') relativeMs = time * 1000 - ctx.nowMs;
  else if (option === 'PXAT') relativeMs = time - ctx.nowMs;
  else return ctx.fail(`unknown option ${option}`);
  const expireAtMs = relativeMs <= 0 ? ctx.nowMs : ctx.nowMs + Math.ceil(relativeMs / 1000) * 1000;
  expireFields(ctx, key, fields, expireAtMs, null);
};

/**
 * FIELDEXPIRE key seconds member ... (Dragonfly): the TTL of hash fields or set members. A missing
 * key or one of another type is left alone (the command answers -2 per member, no WRONGTYPE).
 */
const fieldexpire: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const seconds = ctx.int(args[1], 'seconds');
  if (seconds < 1) ctx.fail(`seconds ${seconds} is not positive`);
  const names = args.slice(2);
  if (names.length === 0) ctx.fail('no fields or members given');
  const value = ctx.record(key)?.value;
  let members: Map<string, Member>;
  if (value?.type === 'hash') members = value.fields;
  else if (value?.type === 'set') members = value.members;
  else return;
  for (const name of names) {
    const member = members.get(mapKey(name));
    if (member) member.expireAtMs = ctx.nowMs + seconds * 1000;
  }
};

export const FIELD_TTL_COMMANDS: Record<string, CommandHandler> = {
  HEXPIRE: hexpire((ctx, seconds) => ctx.nowMs + seconds * 1000),
  HPEXPIRE: hexpire((ctx, ms) => ctx.nowMs + ms),
  HEXPIREAT: hexpire((_, seconds) => seconds * 1000),
  HPEXPIREAT: hexpire((_, ms) => ms),
  HPERSIST: (ctx, args) => persistFields(ctx, ctx.arg(args, 0, 'key'), fieldList(ctx, args, 1)),
  HGETEX: hgetex,
  FIELDEXPIRE: fieldexpire,
};
