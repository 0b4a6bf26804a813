/**
 * Where a source database's keys go in the target: the same database number (keep), or database 0
 * with a per-database key prefix (all-to-0-with-prefix, for targets with one database).
 */
import type { SinkConfig } from '../config/sink';

export interface KeyMapping {
  readonly prefixed: boolean;
  /** target database for a source database */
  db(sourceDb: number): number;
  /** the key as written in the target */
  key(sourceDb: number, key: Buffer): Buffer;
  /** glob matching every target key of a source database (null: the whole database) */
  dbPattern(sourceDb: number): string | null;
  /** glob matching every target key this mapping writes (null: every database) */
  allPattern(): string | null;
}

const GLOB_SPECIAL = /[*?[\]\\]/g;

function escapeGlob(text: string): string {
  return text.replace(GLOB_SPECIAL, (c) => `\\${c}`);
}

export function keyMapping(config: SinkConfig['db']): KeyMapping {
  if (config.mapping === 'keep') {
    return {
      prefixed: false,
      db: (sourceDb) => sourceDb,
      key: (_db, key) => key,
      dbPattern: () => null,
      allPattern: () => null,
    };
  }
  const prefixes = new Map<number, Buffer>();
  const prefixOf = (db: number): Buffer => {
    let prefix = prefixes.get(db);
    if (prefix === undefined) {
      prefix = Buffer.from(config.prefix.replaceAll('{db}', String(db)), 'utf8');
      prefixes.set(db, prefix);
    }
    return prefix;
  };
  const [before, after] = splitOnce(config.prefix, '{db}');
  return {
    prefixed: true,
    db: () => 0,
    key: (sourceDb, key) => Buffer.concat([prefixOf(sourceDb), key]),
    dbPattern: (sourceDb) => `${escapeGlob(prefixOf(sourceDb).toString('utf8'))}*`,
    allPattern: () => `${escapeGlob(before)}*${after.split('{db}').map(escapeGlob).join('*')}*`,
  };
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + separator.length)];
}
