import { Cursor } from '../cursor';
import { ProtocolError } from '../errors';
import { decodeIntset } from '../intset';
import { decodeListpack } from '../listpack';
import { RdbValue } from '../types';
import { decodeZiplist } from '../ziplist';
import { parseScore } from './text';
import { decodeStringBlob, readString } from './strings';

/**
 * Values that are one RDB string on the wire (spec 4.4): plain strings, JSON, and small containers
 * packed into a listpack, ziplist or intset. Dragonfly never splits these across tagged chunks, so
 * each is read in a single step.
 */

type Decoder = (buf: Buffer, base?: number) => Buffer[];

export function readStringValue(c: Cursor): RdbValue {
  return { type: 'string', value: readString(c, 'STRING value') };
}

export function readJsonValue(c: Cursor): RdbValue {
  return { type: 'json', json: readString(c, 'JSON value') };
}

export function readIntsetValue(c: Cursor): RdbValue {
  return { type: 'set', members: decodeStringBlob(c, 'SET_INTSET blob', decodeIntset) };
}

export function readListpackSetValue(c: Cursor): RdbValue {
  return { type: 'set', members: decodeStringBlob(c, 'SET_LISTPACK blob', decodeListpack) };
}

function readPairs(c: Cursor, item: string, decode: Decoder): { at: number; elements: Buffer[] } {
  const at = c.offset;
  const elements = decodeStringBlob(c, item, decode);
  if (elements.length % 2 !== 0) {
    throw new ProtocolError({ offset: at, item, expected: `pairs of elements, got ${elements.length}` });
  }
  return { at, elements };
}

function hashValue(c: Cursor, item: string, decode: Decoder): RdbValue {
  const { elements } = readPairs(c, item, decode);
  const fields: { field: Buffer; value: Buffer }[] = [];
  for (let i = 0; i < elements.length; i += 2) fields.push({ field: elements[i]!, value: elements[i + 1]! });
  return { type: 'hash', fields };
}

function zsetValue(c: Cursor, item: string, decode: Decoder): RdbValue {
  const { at, elements } = readPairs(c, item, decode);
  const entries: { member: Buffer; score: number }[] = [];
  const where = { offset: at, item: `${item} score` };
  for (let i = 0; i < elements.length; i += 2) {
    entries.push({ member: elements[i]!, score: parseScore(elements[i + 1]!, where) });
  }
  return { type: 'zset', entries };
}

export const readHashListpackValue = (c: Cursor): RdbValue =>
  hashValue(c, 'HASH_LISTPACK blob', decodeListpack);
export const readHashZiplistValue = (c: Cursor): RdbValue => hashValue(c, 'HASH_ZIPLIST blob', decodeZiplist);
export const readZsetListpackValue = (c: Cursor): RdbValue =>
  zsetValue(c, 'ZSET_LISTPACK blob', decodeListpack);
export const readZsetZiplistValue = (c: Cursor): RdbValue => zsetValue(c, 'ZSET_ZIPLIST blob', decodeZiplist);
