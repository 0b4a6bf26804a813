/**
 * What the target can do, asked once at start (never assumed from a version number alone):
 * INFO server (product and version), COMMAND (every command with its key positions), MODULE LIST
 * (ReJSON, bf, search). The applier picks exact replays or translations from this.
 */
import type Redis from 'ioredis';

/** Where a command's keys are (COMMAND's first/last/step); movable = keys found by parsing args. */
export interface KeySpec {
  first: number;
  last: number;
  step: number;
  movable: boolean;
}

export interface TargetCapabilities {
  product: 'redis' | 'dragonfly';
  version: string;
  /** upper-case command names the target knows, with their key positions */
  commands: ReadonlyMap<string, KeySpec>;
  /** lower-case module names (MODULE LIST) */
  modules: ReadonlySet<string>;
  /** per-field hash TTLs: HPEXPIREAT (Redis >= 7.4) */
  hashFieldTtl: boolean;
  /** RedisJSON loaded (JSON.* and ReJSON-RL values) */
  json: boolean;
  /** RedisBloom loaded (BF/CF/CMS/TOPK) */
  sketches: boolean;
  /** RediSearch loaded (FT.*) */
  search: boolean;
  /** RDB type ids its RESTORE accepts */
  restoreTypes: ReadonlySet<number>;
  /**
   * XSETID takes ENTRIESADDED/MAXDELETEDID (Redis >= 7.0: COMMAND gives it a variable arity);
   * Dragonfly's XSETID takes a key and an id only.
   */
  streamIdOptions: boolean;
}

/** RDB type ids a stock Redis of this version loads (0-7, 9-19 since 7.0; 20, 21 since 7.2). */
function restoreTypesFor(version: number[]): Set<number> {
  const types = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  if (atLeast(version, [7, 2])) types.push(20, 21);
  return new Set(types);
}

export function parseVersion(text: string): number[] {
  return text.split('.').map((part) => Number.parseInt(part, 10) || 0);
}

export function atLeast(version: number[], wanted: number[]): boolean {
  for (let i = 0; i < wanted.length; i++) {
    const have = version[i] ?? 0;
    const want = wanted[i] ?? 0;
    if (have !== want) return have > want;
  }
  return true;
}

function infoField(info: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
}

/** One COMMAND reply entry: [name, arity, flags, first, last, step, ...]. */
function keySpecOf(entry: unknown): [string, KeySpec] | undefined {
  if (!Array.isArray(entry) || entry.length < 6) return undefined;
  const [name, , flags, first, last, step] = entry as [unknown, unknown, unknown, unknown, unknown, unknown];
  if (typeof name !== 'string') return undefined;
  const flagList = Array.isArray(flags) ? flags.map(String) : [];
  return [
    name.toUpperCase(),
    {
      first: Number(first),
      last: Number(last),
      step: Number(step),
      movable: flagList.includes('movablekeys'),
    },
  ];
}

/** Module names out of MODULE LIST's reply (a list of [name, <n>, ver, <v>, ...] entries). */
function moduleNames(reply: unknown): Set<string> {
  const names = new Set<string>();
  if (!Array.isArray(reply)) return names;
  for (const entry of reply) {
    if (!Array.isArray(entry)) continue;
    const at = entry.findIndex((v) => String(v).toLowerCase() === 'name');
    if (at >= 0 && entry[at + 1] !== undefined) names.add(String(entry[at + 1]).toLowerCase());
  }
  return names;
}

/** Builds the capabilities from the three replies (pure; detectCapabilities does the asking). */
export function capabilitiesFrom(
  infoServer: string,
  commandReply: unknown,
  moduleReply: unknown,
): TargetCapabilities {
  const dragonflyVersion = infoField(infoServer, 'dragonfly_version');
  const version = infoField(infoServer, 'redis_version') ?? '0.0.0';
  const commands = new Map<string, KeySpec>();
  let xsetidArity = 0;
  if (Array.isArray(commandReply)) {
    for (const entry of commandReply) {
      const spec = keySpecOf(entry);
      if (spec) commands.set(spec[0], spec[1]);
      if (spec?.[0] === 'XSETID') xsetidArity = Number((entry as unknown[])[1]);
    }
  }
  const modules = moduleNames(moduleReply);
  const hasModule = (...names: string[]): boolean => names.some((n) => modules.has(n));
  return {
    product: dragonflyVersion === undefined ? 'redis' : 'dragonfly',
    version,
    commands,
    modules,
    hashFieldTtl: commands.has('HPEXPIREAT'),
    json: hasModule('rejson', 'json') || commands.has('JSON.SET'),
    sketches: hasModule('bf', 'bloom') || commands.has('BF.ADD'),
    search: hasModule('search', 'ft') || commands.has('FT.CREATE'),
    restoreTypes: restoreTypesFor(parseVersion(version)),
    streamIdOptions: xsetidArity < 0,
  };
}

/** Asks the target; MODULE LIST may be refused (no modules, or ACL): then there are none. */
export async function detectCapabilities(redis: Redis): Promise<TargetCapabilities> {
  const info = String(await redis.call('INFO', 'server'));
  const commandReply = await redis.call('COMMAND');
  const moduleReply: unknown = await redis.call('MODULE', 'LIST').catch(() => []);
  return capabilitiesFrom(info, commandReply, moduleReply);
}

/** One line for the start-up log. */
export function describeCapabilities(c: TargetCapabilities): string {
  const yes = (flag: boolean): string => (flag ? 'yes' : 'no');
  return (
    `${c.product} ${c.version}: ${c.commands.size} commands, field TTLs ${yes(c.hashFieldTtl)}, ` +
    `JSON ${yes(c.json)}, sketches ${yes(c.sketches)}, search ${yes(c.search)}`
  );
}
