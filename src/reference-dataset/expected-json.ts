import { TextDecoder } from 'node:util';
import type { Dataset } from './dataset';
import type { KeyRecord } from './keyspace';
import { compareZsetMembers } from './commands/zsets';
import { ModelValue, streamIdText } from './values';

/**
 * The fixtures' `expected.json` format (shared/fixtures/README.md): db → key → { type, expireAtMs,
 * value, memberExpireAtMs? }, byte strings as UTF-8 text or {"b64"}, keys as text or "b64:<base64>".
 */

export type ByteText = string | { b64: string };

export interface ExpectedKey {
  type: string;
  expireAtMs: number | null;
  value: unknown;
  memberExpireAtMs?: Record<string, number>;
}

export type ExpectedDataset = Record<string, Record<string, ExpectedKey>>;

/** How TYPE names the Dragonfly-only sketches (RedisBloom module type names). */
const SKETCH_TYPE_NAMES: Record<string, string> = {
  SBF: 'MBbloom--',
  SBF2: 'MBbloom--',
  CUCKOO: 'MBbloomCF',
  CMS: 'CMSk-TYPE',
  TOPK: 'TopK-TYPE',
};

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8Text(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

export function byteText(bytes: Buffer): ByteText {
  return utf8Text(bytes) ?? { b64: bytes.toString('base64') };
}

export function keyText(bytes: Buffer): string {
  return utf8Text(bytes) ?? `b64:${bytes.toString('base64')}`;
}

function live(expireAtMs: number | null, nowMs: number): boolean {
  return expireAtMs === null || expireAtMs > nowMs;
}

function typeName(value: ModelValue): string {
  if (value.type === 'json') return 'ReJSON-RL';
  if (value.type === 'sketch') return SKETCH_TYPE_NAMES[value.kind] ?? value.kind;
  return value.type;
}

/** Value and member TTLs of one key; null when every member has expired (the key is gone). */
function convertValue(value: ModelValue, nowMs: number): Omit<ExpectedKey, 'type' | 'expireAtMs'> | null {
  switch (value.type) {
    case 'string':
      return { value: byteText(value.value) };
    case 'list':
      return { value: value.items.map(byteText) };
    case 'set':
    case 'hash': {
      const elements =
        value.type === 'set'
          ? [...value.members.values()].map((m) => ({
              name: m.member,
              value: null,
              expireAtMs: m.expireAtMs,
            }))
          : [...value.fields.values()].map((f) => ({
              name: f.field,
              value: f.value,
              expireAtMs: f.expireAtMs,
            }));
      const alive = elements
        .filter((e) => live(e.expireAtMs, nowMs))
        .sort((a, b) => Buffer.compare(a.name, b.name));
      if (alive.length === 0) return null;
      const out: Omit<ExpectedKey, 'type' | 'expireAtMs'> = {
        value: alive.map((e) =>
          e.value === null ? byteText(e.name) : [byteText(e.name), byteText(e.value)],
        ),
      };
      const ttls = alive.filter((e) => e.expireAtMs !== null);
      if (ttls.length > 0)
        out.memberExpireAtMs = Object.fromEntries(ttls.map((e) => [keyText(e.name), e.expireAtMs!]));
      return out;
    }
    case 'zset':
      return {
        value: [...value.members.values()]
          .sort(compareZsetMembers)
          .map((m) => [byteText(m.member), Number.isFinite(m.score) ? m.score : null]),
      };
    case 'stream':
      return {
        value: {
          entries: value.entries.map((e) => [streamIdText(e.id), e.fields.map(byteText)]),
          groups: [...value.groups.values()]
            .sort((a, b) => Buffer.compare(a.name, b.name))
            .map((g) => ({
              name: byteText(g.name),
              lastDeliveredId: streamIdText(g.lastDeliveredId),
              pending: g.pending.size,
            })),
        },
      };
    case 'json':
      return { value: [structuredClone(value.doc)] };
    case 'sketch':
      return { value: { unsupportedType: typeName(value) } };
  }
}

function convertKey(rec: KeyRecord, nowMs: number): ExpectedKey | null {
  if (!live(rec.expireAtMs, nowMs)) return null;
  const converted = convertValue(rec.value, nowMs);
  return converted && { type: typeName(rec.value), expireAtMs: rec.expireAtMs, ...converted };
}

/** The dataset as expected.json describes it at time `nowMs` (expired keys and members left out). */
export function toExpectedJson(dataset: Dataset, nowMs: number): ExpectedDataset {
  const out: ExpectedDataset = {};
  for (const db of [...dataset.dbs.keys()].sort((a, b) => a - b)) {
    const keys: Record<string, ExpectedKey> = {};
    const records = [...dataset.dbs.get(db)!.values()].sort((a, b) => Buffer.compare(a.key, b.key));
    for (const rec of records) {
      const converted = convertKey(rec, nowMs);
      if (converted) keys[keyText(rec.key)] = converted;
    }
    if (Object.keys(keys).length > 0) out[String(db)] = keys;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Comparison (README "Comparing against expected.json")

export const TTL_TOLERANCE_MS = 2000;

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** Path and both sides of the first difference between two JSON values; null when equal. */
export function firstDifference(actual: unknown, expected: unknown, path = ''): string | null {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    for (let i = 0; i < Math.min(actual.length, expected.length); i++) {
      const d = firstDifference(actual[i], expected[i], `${path}[${i}]`);
      if (d) return d;
    }
    if (actual.length !== expected.length) {
      return `${path || 'value'}: ${expected.length} elements expected, got ${actual.length}`;
    }
    return null;
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObject(expected) && isObject(actual) && !Array.isArray(expected) && !Array.isArray(actual)) {
    for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      if (!(k in actual)) return `${path}.${k}: missing (expected ${show(expected[k])})`;
      if (!(k in expected)) return `${path}.${k}: unexpected ${show(actual[k])}`;
      const d = firstDifference(actual[k], expected[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(actual, expected) || actual === expected
    ? null
    : `${path || 'value'}: expected ${show(expected)}, got ${show(actual)}`;
}

function ttlClose(a: number | null, b: number | null): boolean {
  return a === null || b === null ? a === b : Math.abs(a - b) <= TTL_TOLERANCE_MS;
}

function memberName(element: unknown): string {
  const name = Array.isArray(element) ? element[0] : element;
  return typeof name === 'string' ? name : `b64:${(name as { b64: string }).b64}`;
}

/**
 * Drops the members of an expected set/hash whose TTL has passed at `nowMs` (they must be absent):
 * returns the members still alive and their TTLs.
 */
function liveExpectedMembers(
  exp: ExpectedKey,
  nowMs: number,
): { value: unknown[]; ttls: Record<string, number> } {
  const ttls = exp.memberExpireAtMs ?? {};
  const value = (exp.value as unknown[]).filter((m) => live(ttls[memberName(m)] ?? null, nowMs));
  const alive = Object.fromEntries(Object.entries(ttls).filter(([, t]) => live(t, nowMs)));
  return { value, ttls: alive };
}

function compareKey(where: string, act: ExpectedKey, exp: ExpectedKey, nowMs: number): string[] {
  const diffs: string[] = [];
  if (act.type !== exp.type) return [`${where}: type ${exp.type} expected, got ${act.type}`];
  if (!ttlClose(act.expireAtMs, exp.expireAtMs)) {
    diffs.push(
      `${where}: expireAtMs ${exp.expireAtMs} expected (±${TTL_TOLERANCE_MS} ms), got ${act.expireAtMs}`,
    );
  }
  if (isUnsupported(exp.value)) return diffs;
  let expectedValue = exp.value;
  if (exp.memberExpireAtMs || act.memberExpireAtMs) {
    const { value, ttls } = liveExpectedMembers(exp, nowMs);
    expectedValue = value;
    const actualTtls = act.memberExpireAtMs ?? {};
    for (const name of new Set([...Object.keys(ttls), ...Object.keys(actualTtls)])) {
      if (!ttlClose(actualTtls[name] ?? null, ttls[name] ?? null)) {
        diffs.push(
          `${where}: member ${show(name)} expireAtMs ${ttls[name] ?? null} expected (±${TTL_TOLERANCE_MS} ms), ` +
            `got ${actualTtls[name] ?? null}`,
        );
      }
    }
  }
  const d = firstDifference(act.value, expectedValue);
  if (d) diffs.push(`${where}: ${d}`);
  return diffs;
}

function isUnsupported(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'unsupportedType' in value;
}

/** True when the expected key is gone at `nowMs`: its TTL passed, or every member's TTL did. */
function expectedGone(exp: ExpectedKey, nowMs: number): boolean {
  if (!live(exp.expireAtMs, nowMs)) return true;
  return exp.memberExpireAtMs !== undefined && liveExpectedMembers(exp, nowMs).value.length === 0;
}

/**
 * Compares a produced dataset with expected.json under the README's rules: a key whose TTL has passed
 * at `nowMs` must be absent; other TTLs (key and member) must agree within 2 s; expired members must
 * be absent; sketches compare by presence, type and TTL; everything else exactly. Returns one readable
 * line per difference (empty when the datasets agree).
 */
export function compareDatasets(actual: ExpectedDataset, expected: ExpectedDataset, nowMs: number): string[] {
  const diffs: string[] = [];
  for (const db of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const expKeys = expected[db] ?? {};
    const actKeys = actual[db] ?? {};
    for (const [key, exp] of Object.entries(expKeys)) {
      const where = `db ${db} key ${show(key)}`;
      const act = actKeys[key];
      if (expectedGone(exp, nowMs)) {
        if (act)
          diffs.push(`${where}: expired at ${exp.expireAtMs ?? 'its last member TTL'}, must be absent`);
        continue;
      }
      if (!act) {
        diffs.push(`${where}: missing (expected a ${exp.type})`);
        continue;
      }
      diffs.push(...compareKey(where, act, exp, nowMs));
    }
    for (const key of Object.keys(actKeys)) {
      if (!(key in expKeys)) diffs.push(`db ${db} key ${show(key)}: unexpected ${actKeys[key]!.type}`);
    }
  }
  return diffs;
}
