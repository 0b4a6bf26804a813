import { Cursor } from '../cursor';
import { decodeListpack } from '../listpack';
import { ExpireAtMs, RdbValue } from '../types';
import { decodeZiplist } from '../ziplist';
import { StepReader } from './steps';
import { memberExpireAtMs } from './text';
import { copyOf } from '../bytes';
import { decodeStringBlob, readString, readStringView } from './strings';

/**
 * Containers written element by element (spec 4.4): a packed count, then that many elements. Each
 * element is one step, so a container of any size is read in linear time however it is chunked.
 */
abstract class CountedReader<T> implements StepReader<T> {
  /** elements still to read; -1 until the count was read */
  protected left = -1;

  constructor(private readonly countItem: string) {}

  step(c: Cursor): boolean {
    if (this.left < 0) {
      this.left = c.packed(this.countItem);
      return this.left === 0;
    }
    this.readElement(c);
    this.left--;
    return this.left === 0;
  }

  /** Reads one element; must change state only after all its reads succeeded. */
  protected abstract readElement(c: Cursor): void;

  abstract result(): T;
}

/** 2 SET: n × member. */
export class SetReader extends CountedReader<RdbValue> {
  private readonly members: Buffer[] = [];

  constructor() {
    super('SET length');
  }

  protected readElement(c: Cursor): void {
    this.members.push(readString(c, 'SET member'));
  }

  result(): RdbValue {
    return { type: 'set', members: this.members };
  }
}

/** 32 SET_WITH_EXPIRY: n × (member, ttl string). */
export class SetWithExpiryReader extends CountedReader<RdbValue> {
  private readonly members: Buffer[] = [];
  private readonly expiries: ExpireAtMs[] = [];

  constructor() {
    super('SET_WITH_EXPIRY length');
  }

  protected readElement(c: Cursor): void {
    const member = readString(c, 'SET_WITH_EXPIRY member');
    const ttlAt = c.offset;
    const ttl = readStringView(c, 'SET_WITH_EXPIRY member TTL');
    const expireAt = memberExpireAtMs(ttl, { offset: ttlAt, item: 'SET_WITH_EXPIRY member TTL' });
    this.members.push(member);
    this.expiries.push(expireAt);
  }

  result(): RdbValue {
    return { type: 'set', members: this.members, memberExpireAtMs: this.expiries };
  }
}

type HashField = { field: Buffer; value: Buffer; expireAtMs?: ExpireAtMs };

/** 4 HASH: n × (field, value). */
export class HashReader extends CountedReader<RdbValue> {
  private readonly fields: HashField[] = [];

  constructor() {
    super('HASH length');
  }

  protected readElement(c: Cursor): void {
    const field = readString(c, 'HASH field');
    const value = readString(c, 'HASH value');
    this.fields.push({ field, value });
  }

  result(): RdbValue {
    return { type: 'hash', fields: this.fields };
  }
}

/** 31 HASH_WITH_EXPIRY: n × (field, value, ttl string). */
export class HashWithExpiryReader extends CountedReader<RdbValue> {
  private readonly fields: HashField[] = [];

  constructor() {
    super('HASH_WITH_EXPIRY length');
  }

  protected readElement(c: Cursor): void {
    const field = readString(c, 'HASH_WITH_EXPIRY field');
    const value = readString(c, 'HASH_WITH_EXPIRY value');
    const ttlAt = c.offset;
    const ttl = readStringView(c, 'HASH_WITH_EXPIRY field TTL');
    const expireAtMs = memberExpireAtMs(ttl, { offset: ttlAt, item: 'HASH_WITH_EXPIRY field TTL' });
    this.fields.push({ field, value, expireAtMs });
  }

  result(): RdbValue {
    return { type: 'hash', fields: this.fields };
  }
}

/** 5 ZSET_2: n × (member, binary double score). */
export class Zset2Reader extends CountedReader<RdbValue> {
  private readonly entries: { member: Buffer; score: number }[] = [];

  constructor() {
    super('ZSET_2 length');
  }

  protected readElement(c: Cursor): void {
    const member = readString(c, 'ZSET_2 member');
    const scoreAt = c.pos;
    const score = c.f64le();
    if (Number.isNaN(score)) throw c.error('ZSET_2 score', 'a score that is not NaN', scoreAt);
    this.entries.push({ member, score });
  }

  result(): RdbValue {
    return { type: 'zset', entries: this.entries };
  }
}

const QUICKLIST_NODE_PLAIN = 1;
const QUICKLIST_NODE_PACKED = 2;

/** 18 LIST_QUICKLIST_2: n × (container kind, node string); PLAIN = one element, PACKED = a listpack. */
export class Quicklist2Reader extends CountedReader<RdbValue> {
  private readonly items: Buffer[] = [];

  constructor() {
    super('LIST_QUICKLIST_2 node count');
  }

  protected readElement(c: Cursor): void {
    const kindAt = c.pos;
    const kind = c.packed('LIST_QUICKLIST_2 node container');
    if (kind === QUICKLIST_NODE_PLAIN) {
      const node = readStringView(c, 'LIST_QUICKLIST_2 node');
      this.items.push(copyOf(node, 0, node.length));
    } else if (kind === QUICKLIST_NODE_PACKED) {
      for (const item of decodeStringBlob(c, 'LIST_QUICKLIST_2 node', decodeListpack)) this.items.push(item);
    } else {
      throw c.error('LIST_QUICKLIST_2 node container', `1 (PLAIN) or 2 (PACKED), got ${kind}`, kindAt);
    }
  }

  result(): RdbValue {
    return { type: 'list', items: this.items };
  }
}

/** 14 LIST_QUICKLIST: n × node string, each a ziplist. */
export class QuicklistReader extends CountedReader<RdbValue> {
  private readonly items: Buffer[] = [];

  constructor() {
    super('LIST_QUICKLIST node count');
  }

  protected readElement(c: Cursor): void {
    for (const item of decodeStringBlob(c, 'LIST_QUICKLIST node', decodeZiplist)) this.items.push(item);
  }

  result(): RdbValue {
    return { type: 'list', items: this.items };
  }
}
