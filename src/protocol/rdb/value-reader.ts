import { Cursor } from '../cursor';
import { RdbValue } from '../types';
import {
  HashReader,
  HashWithExpiryReader,
  Quicklist2Reader,
  QuicklistReader,
  SetReader,
  SetWithExpiryReader,
  Zset2Reader,
} from './collections';
import {
  readHashListpackValue,
  readHashZiplistValue,
  readIntsetValue,
  readJsonValue,
  readListpackSetValue,
  readStringValue,
  readZsetListpackValue,
  readZsetZiplistValue,
} from './compact';
import { CmsReader, CuckooReader, Sbf2Reader, SbfReader, TopkReader } from './sketch';
import { SingleStep, StepReader } from './steps';
import { StreamReader } from './stream';
import { RDB_TYPE } from './type-ids';

/** First RDB version in which type 20 means SET_LISTPACK instead of Dragonfly's old JSON id. */
const SET_LISTPACK_SINCE_VERSION = 10;

export const SUPPORTED_TYPES_TEXT = '0, 2, 4, 5, 11-18, 20, 21 or 30-37';

/**
 * For types whose value is a single RDB string (never split by Dragonfly): a function reading the
 * whole value at once, else null. The flow parser reads such entries in one go, without step state.
 */
export function oneStepValueReader(rdbType: number, rdbVersion: number): ((c: Cursor) => RdbValue) | null {
  switch (rdbType) {
    case RDB_TYPE.STRING:
      return readStringValue;
    case RDB_TYPE.SET_INTSET:
      return readIntsetValue;
    case RDB_TYPE.ZSET_ZIPLIST:
      return readZsetZiplistValue;
    case RDB_TYPE.HASH_ZIPLIST:
      return readHashZiplistValue;
    case RDB_TYPE.HASH_LISTPACK:
      return readHashListpackValue;
    case RDB_TYPE.ZSET_LISTPACK:
      return readZsetListpackValue;
    case RDB_TYPE.SET_LISTPACK_OR_OLD_JSON:
      return rdbVersion < SET_LISTPACK_SINCE_VERSION ? readJsonValue : readListpackSetValue;
    case RDB_TYPE.JSON:
      return readJsonValue;
    default:
      return null;
  }
}

/** A step reader for a value of the given RDB type, or null if the type is not one we can decode. */
export function createValueReader(rdbType: number, rdbVersion: number): StepReader<RdbValue> | null {
  const oneStep = oneStepValueReader(rdbType, rdbVersion);
  if (oneStep) return new SingleStep(oneStep);
  switch (rdbType) {
    case RDB_TYPE.SET:
      return new SetReader();
    case RDB_TYPE.HASH:
      return new HashReader();
    case RDB_TYPE.ZSET_2:
      return new Zset2Reader();
    case RDB_TYPE.LIST_QUICKLIST:
      return new QuicklistReader();
    case RDB_TYPE.STREAM_LISTPACKS:
    case RDB_TYPE.STREAM_LISTPACKS_3:
      return new StreamReader(rdbType);
    case RDB_TYPE.LIST_QUICKLIST_2:
      return new Quicklist2Reader();
    case RDB_TYPE.HASH_WITH_EXPIRY:
      return new HashWithExpiryReader();
    case RDB_TYPE.SET_WITH_EXPIRY:
      return new SetWithExpiryReader();
    case RDB_TYPE.SBF:
      return new SbfReader();
    case RDB_TYPE.SBF2:
      return new Sbf2Reader();
    case RDB_TYPE.CMS:
      return new CmsReader();
    case RDB_TYPE.TOPK:
      return new TopkReader();
    case RDB_TYPE.CUCKOO:
      return new CuckooReader();
    default:
      return null;
  }
}
