import { Cursor } from '../cursor';
import { FlowItem } from '../types';
import { StepReader } from './steps';
import { readStringView } from './strings';

/**
 * Search-index items (spec 3.10, v1.37+ with --serialize_hnsw_index). They are parsed to find their
 * end and reported as 'skipped'. One record per step: an index of millions of nodes is read linearly.
 */

type Skipped = Extract<FlowItem, { kind: 'skipped' }>;

abstract class IndexReader implements StepReader<Skipped> {
  private bytes = 0;
  /** records left; -1 until the header was read */
  private left = -1;

  constructor(private readonly what: string) {}

  step(c: Cursor): boolean {
    const from = c.pos;
    if (this.left < 0) {
      const count = this.readHeader(c);
      this.left = count;
    } else {
      this.readRecord(c);
      this.left--;
    }
    this.bytes += c.pos - from;
    return this.left === 0;
  }

  /** Reads the opcode and header, returning the record count. */
  protected abstract readHeader(c: Cursor): number;
  protected abstract readRecord(c: Cursor): void;

  result(): Skipped {
    return { kind: 'skipped', what: this.what, bytes: this.bytes };
  }
}

/** 0xDF: packed shard id, string index name, packed M, M × (string key, packed doc id). */
export class ShardDocIndexReader extends IndexReader {
  constructor() {
    super('SHARD_DOC_INDEX');
  }

  protected readHeader(c: Cursor): number {
    c.u8();
    c.packed('SHARD_DOC_INDEX shard id');
    readStringView(c, 'SHARD_DOC_INDEX index name');
    return c.packed('SHARD_DOC_INDEX mapping count');
  }

  protected readRecord(c: Cursor): void {
    readStringView(c, 'SHARD_DOC_INDEX key');
    c.packed('SHARD_DOC_INDEX doc id');
  }
}

/**
 * 0xDE: string "<index>:<field>", packed entry point, packed K, K nodes of uint32 internal id,
 * uint64 global id, uint32 level L, then for each level 0..L a uint32 link count and the links.
 */
export class VectorIndexReader extends IndexReader {
  constructor() {
    super('VECTOR_INDEX');
  }

  protected readHeader(c: Cursor): number {
    c.u8();
    readStringView(c, 'VECTOR_INDEX name');
    c.packed('VECTOR_INDEX entry point');
    return c.packed('VECTOR_INDEX node count');
  }

  protected readRecord(c: Cursor): void {
    c.skip(4 + 8);
    const levels = c.u32le() + 1;
    for (let l = 0; l < levels; l++) c.skip(4 * c.u32le());
  }
}
