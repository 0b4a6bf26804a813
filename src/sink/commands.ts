/**
 * Redis commands as data: what the applier produces and the target writer sends. Nothing here does
 * I/O. `db` is the target database the command runs in (the writer issues SELECT when it changes).
 */

export interface RedisCommand {
  db: number;
  name: string;
  args: Buffer[];
}

export type Arg = Buffer | string | number;

export function toArg(value: Arg): Buffer {
  if (Buffer.isBuffer(value)) return value;
  return Buffer.from(typeof value === 'number' ? integerText(value) : value, 'latin1');
}

/** A whole number as Redis reads it (never exponent notation). */
export function integerText(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer`);
  return value.toFixed(0);
}

/** A double as Redis reads it back exactly (shortest round-trip form; infinities as inf/-inf). */
export function scoreText(score: number): string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  return String(score);
}

export function command(db: number, name: string, ...args: Arg[]): RedisCommand {
  return { db, name, args: args.map(toArg) };
}

/**
 * Commands the writer's apply script runs itself because no single Redis command does the job
 * (see src/targets/apply-script.ts): `__PREPEND key value`, `__IF_TYPE <type> <key> <command...>`,
 * `__HSETEX key <nx|xx|any> <keepttl 0|1> <abs-ms or -1> field value ...`,
 * `__JSON_FROM_STRING key` (the key's string value becomes a RedisJSON document),
 * `__LATE_EXPIRY <n> <command...>` (the command's n-th argument is an absolute expiry: kept alive
 * with a mark if it has passed, see docs/sink.md).
 */
export const SCRIPT_OPS = {
  prepend: '__PREPEND',
  ifType: '__IF_TYPE',
  hsetex: '__HSETEX',
  jsonFromString: '__JSON_FROM_STRING',
  lateExpiry: '__LATE_EXPIRY',
} as const;

/** Most elements (members, fields, items) one generated command carries: bounded size per command. */
export const ELEMENTS_PER_COMMAND = 500;

export function upperName(bytes: Buffer | undefined): string {
  return (bytes ?? Buffer.alloc(0)).toString('latin1').toUpperCase();
}
