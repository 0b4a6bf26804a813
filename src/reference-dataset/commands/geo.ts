import { mapKey, ZsetMember } from '../values';
import { CommandContext, CommandHandler } from './context';

/**
 * Geo commands: sorted sets whose scores are 52-bit geohashes (Redis's encoding, which Dragonfly
 * uses). GEOADD is journaled verbatim; GEORADIUS/GEORADIUSBYMEMBER are journaled verbatim even
 * without STORE (then read-only here), and truncated to the key alone when STORE names a key on
 * another shard (spec 5.5), which no replica can execute.
 */

const LAT_MIN = -85.05112878;
const LAT_MAX = 85.05112878;
const LON_MIN = -180;
const LON_MAX = 180;
const STEP = 26;
const CELLS = 2 ** STEP;
const EARTH_RADIUS_M = 6372797.560856;
const UNITS: Record<string, number> = { M: 1, KM: 1000, FT: 0.3048, MI: 1609.34 };

/** Spreads the 26 bits of `v` to the even bit positions of a 52-bit number. */
function spread(v: number): bigint {
  let out = 0n;
  for (let bit = 0; bit < STEP; bit++) if (Math.floor(v / 2 ** bit) % 2 === 1) out |= 1n << BigInt(2 * bit);
  return out;
}

function gather(bits: bigint, from: number): number {
  let out = 0;
  for (let bit = 0; bit < STEP; bit++) if ((bits >> BigInt(2 * bit + from)) & 1n) out += 2 ** bit;
  return out;
}

/** The score GEOADD stores: latitude bits at even positions, longitude bits at odd ones. */
export function geohashScore(lon: number, lat: number): number {
  const latCell = Math.floor(((lat - LAT_MIN) / (LAT_MAX - LAT_MIN)) * CELLS);
  const lonCell = Math.floor(((lon - LON_MIN) / (LON_MAX - LON_MIN)) * CELLS);
  return Number(spread(latCell) | (spread(lonCell) << 1n));
}

/** The centre of a score's geohash cell, computed as Redis's geohashDecodeToLongLatWGS84 does. */
export function geohashCentre(score: number): { lon: number; lat: number } {
  const bits = BigInt(score);
  const latCell = gather(bits, 0);
  const lonCell = gather(bits, 1);
  const latMin = LAT_MIN + (latCell / CELLS) * (LAT_MAX - LAT_MIN);
  const latMax = LAT_MIN + ((latCell + 1) / CELLS) * (LAT_MAX - LAT_MIN);
  const lonMin = LON_MIN + (lonCell / CELLS) * (LON_MAX - LON_MIN);
  const lonMax = LON_MIN + ((lonCell + 1) / CELLS) * (LON_MAX - LON_MIN);
  return {
    lon: Math.min(Math.max((lonMin + lonMax) / 2, LON_MIN), LON_MAX),
    lat: Math.min(Math.max((latMin + latMax) / 2, LAT_MIN), LAT_MAX),
  };
}

const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Haversine distance in metres, as Redis's geohashGetDistance computes it. */
export function geoDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const v = Math.sin((rad(lon2) - rad(lon1)) / 2);
  if (v === 0) return EARTH_RADIUS_M * Math.abs(rad(lat2) - rad(lat1));
  const u = Math.sin((rad(lat2) - rad(lat1)) / 2);
  const a = u * u + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * v * v;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(a));
}

function position(
  ctx: CommandContext,
  lonArg: Buffer | undefined,
  latArg: Buffer | undefined,
): [number, number] {
  const lon = ctx.float(lonArg, 'longitude');
  const lat = ctx.float(latArg, 'latitude');
  if (lon < LON_MIN || lon > LON_MAX || lat < LAT_MIN || lat > LAT_MAX) {
    ctx.fail(`invalid longitude,latitude pair ${lon},${lat}`);
  }
  return [lon, lat];
}

/** GEOADD key [NX|XX] [CH] longitude latitude member ... */
const geoadd: CommandHandler = (ctx, args) => {
  const key = ctx.arg(args, 0, 'key');
  const flags = new Set<string>();
  let i = 1;
  while (['NX', 'XX', 'CH'].includes(ctx.upper(args[i]))) flags.add(ctx.upper(args[i++]));
  const triples = args.slice(i);
  if (triples.length === 0 || triples.length % 3 !== 0)
    ctx.fail('longitude/latitude/member triples expected');
  if (flags.has('XX') && !ctx.lookup(key, 'zset')) return;
  const zset = ctx.lookupOrCreate(key, 'zset', () => ({ type: 'zset', members: new Map() })).members;
  for (let t = 0; t < triples.length; t += 3) {
    const [lon, lat] = position(ctx, triples[t], triples[t + 1]);
    const member = triples[t + 2]!;
    const old = zset.get(mapKey(member));
    if ((flags.has('NX') && old) || (flags.has('XX') && !old)) continue;
    zset.set(mapKey(member), { member, score: geohashScore(lon, lat) });
  }
  ctx.deleteIfEmpty(key, zset.size);
};

interface Found {
  member: ZsetMember;
  distance: number;
}

/**
 * The part of GEORADIUS/GEORADIUSBYMEMBER after the centre: `radius unit [WITH...] [COUNT n [ANY]]
 * [ASC|DESC] [STORE key | STOREDIST key]`; only STORE/STOREDIST write.
 */
function radiusSearch(
  ctx: CommandContext,
  key: Buffer,
  centre: [number, number] | null,
  args: Buffer[],
): void {
  const radius = ctx.float(args[0], 'radius');
  const unit = UNITS[ctx.upper(args[1])];
  if (unit === undefined) return ctx.fail(`unsupported unit ${ctx.upper(args[1])}`);
  let count = 0;
  let any = false;
  let order: 'ASC' | 'DESC' | null = null;
  let store: { key: Buffer; dist: boolean } | null = null;
  for (let i = 2; i < args.length; i++) {
    const opt = ctx.upper(args[i]);
    if (opt === 'ASC' || opt === 'DESC') order = opt;
    else if (opt === 'COUNT') {
      count = ctx.int(args[++i], 'COUNT');
      if (ctx.upper(args[i + 1]) === 'ANY') {
        any = true;
        i++;
      }
    } else if (opt === 'STORE' || opt === 'STOREDIST') {
      store = { key: ctx.arg(args, ++i, 'destination'), dist: opt === 'STOREDIST' };
    } else if (!['WITHCOORD', 'WITHDIST', 'WITHHASH'].includes(opt)) ctx.fail(`unknown option ${opt}`);
  }
  const zset = ctx.lookup(key, 'zset')?.members;
  // A missing source answers an empty array without touching the destination.
  if (!store || !centre || !zset) return;
  let found: Found[] = [];
  for (const member of zset.values()) {
    const at = geohashCentre(member.score);
    const distance = geoDistance(centre[0], centre[1], at.lon, at.lat);
    if (distance <= radius * unit) found.push({ member, distance });
  }
  if (count > 0 && found.length > count && (any || order === null)) {
    return ctx.cannot(
      'COUNT without ASC/DESC (or with ANY) keeps matches in the order of the scan on the master',
    );
  }
  if (order) found.sort((a, b) => (order === 'ASC' ? a.distance - b.distance : b.distance - a.distance));
  if (count > 0) found = found.slice(0, count);
  if (found.length === 0) {
    ctx.delete(store.key);
    return;
  }
  const stored = new Map<string, ZsetMember>();
  for (const f of found) {
    const score = store.dist ? f.distance / unit : f.member.score;
    stored.set(mapKey(f.member.member), { member: f.member.member, score });
  }
  ctx.put(store.key, { type: 'zset', members: stored });
}

/** A GEORADIUS* record that holds only a key: what the master journals for a STORE across shards. */
function truncated(ctx: CommandContext, args: Buffer[], least: number): boolean {
  if (args.length >= least) return false;
  return ctx.cannot(
    'Dragonfly v1.40.1 journals a GEORADIUS ... STORE whose destination is on another shard as the bare ' +
      'key on each shard (spec 5.5); the stored result cannot be rebuilt, the destination diverges',
  );
}

export const GEO_COMMANDS: Record<string, CommandHandler> = {
  GEOADD: geoadd,
  GEORADIUS: (ctx, args) => {
    if (truncated(ctx, args, 5)) return;
    const key = ctx.arg(args, 0, 'key');
    radiusSearch(ctx, key, position(ctx, args[1], args[2]), args.slice(3));
  },
  GEORADIUSBYMEMBER: (ctx, args) => {
    if (truncated(ctx, args, 4)) return;
    const key = ctx.arg(args, 0, 'key');
    const member = ctx.lookup(key, 'zset')?.members.get(mapKey(ctx.arg(args, 1, 'member')));
    const centre = member ? geohashCentre(member.score) : null;
    if (ctx.lookup(key, 'zset') && !member) ctx.fail('could not decode requested zset member');
    radiusSearch(ctx, key, centre && [centre.lon, centre.lat], args.slice(2));
  },
};
