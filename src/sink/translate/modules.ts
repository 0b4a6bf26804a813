/**
 * Module commands (JSON.*, BF/CF/CMS/TOPK.*, FT.*): replayed as recorded when the target has the
 * module; otherwise by policy. Without RedisJSON and degrade.json=string, whole-document writes
 * (JSON.SET/JSON.MSET at the root, JSON.DEL/FORGET of the root) become string writes; a change
 * inside a document cannot be made to its text and is skipped (the string copy is then stale).
 */
import { command, upperName, type RedisCommand } from '../commands';
import type { Translation, TranslateContext } from './context';
import { verbatim } from './verbatim';

const ROOT_PATHS = new Set(['$', '.']);

function isRoot(path: Buffer | undefined): boolean {
  return path === undefined || ROOT_PATHS.has(path.toString('latin1'));
}

function jsonAsString(name: string, sourceDb: number, args: Buffer[], ctx: TranslateContext): Translation {
  const db = ctx.keys.db(sourceDb);
  const key = (k: Buffer): Buffer => ctx.keys.key(sourceDb, k);
  const stale: Translation = {
    kind: 'skip',
    row: 'json-diverged',
    reason: `${name} changes part of a JSON document; the target holds it as a string (no RedisJSON), now stale`,
  };
  switch (name) {
    case 'JSON.SET': {
      const [k, path, doc, condition] = args;
      if (k === undefined || doc === undefined || !isRoot(path)) return stale;
      const cond = upperName(condition);
      const extra = cond === 'NX' || cond === 'XX' ? [cond] : [];
      return {
        kind: 'commands',
        row: 'json-as-string',
        exact: false,
        commands: [command(db, 'SET', key(k), doc, 'KEEPTTL', ...extra)],
      };
    }
    case 'JSON.MSET': {
      const commands: RedisCommand[] = [];
      for (let i = 0; i + 2 < args.length; i += 3) {
        if (!isRoot(args[i + 1])) return stale;
        commands.push(command(db, 'SET', key(args[i] as Buffer), args[i + 2] as Buffer, 'KEEPTTL'));
      }
      return { kind: 'commands', row: 'json-as-string', exact: false, commands };
    }
    case 'JSON.DEL':
    case 'JSON.FORGET': {
      const [k, path] = args;
      if (k === undefined || !isRoot(path)) return stale;
      return {
        kind: 'commands',
        row: 'json-as-string',
        exact: false,
        commands: [command(db, 'DEL', key(k))],
      };
    }
    default:
      return stale;
  }
}

const SKETCH_PREFIXES = ['BF.', 'CF.', 'CMS.', 'TOPK.'];

export function moduleTranslation(
  name: string,
  sourceDb: number,
  args: Buffer[],
  ctx: TranslateContext,
): Translation | undefined {
  if (name.startsWith('JSON.')) {
    if (ctx.capabilities.json) return verbatim('json', sourceDb, name, args, ctx);
    if (ctx.degrade.json === 'skip') {
      return { kind: 'skip', row: 'json-skipped', reason: 'no RedisJSON on the target (degrade.json=skip)' };
    }
    return jsonAsString(name, sourceDb, args, ctx);
  }
  if (SKETCH_PREFIXES.some((p) => name.startsWith(p))) {
    if (ctx.capabilities.sketches) return verbatim('sketch-command', sourceDb, name, args, ctx);
    if (ctx.degrade.sketch === 'dlq') {
      return { kind: 'deadLetter', row: 'sketch-command', reason: `${name}: no RedisBloom on the target` };
    }
    return {
      kind: 'skip',
      row: 'sketch-command',
      reason: 'no RedisBloom on the target (degrade.sketch=skip)',
    };
  }
  if (name.startsWith('FT.')) {
    if (ctx.capabilities.search) return verbatim('search-index', sourceDb, name, args, ctx);
    return {
      kind: 'skip',
      row: 'search-index',
      reason: 'search index definitions need RediSearch on the target',
    };
  }
  return undefined;
}
