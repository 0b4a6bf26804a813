/**
 * The comparison of two servers, database by database, in bounded memory:
 * 1. SCAN the source a batch at a time; read type, expiry and length of the batch on both sides
 *    (pipelined), compare; in full mode compare the values of the (sampled) keys that passed.
 * 2. SCAN the target; keys the source lacks are compared the same way (they are extra, unless the
 *    source has them by then).
 * A key that differs is not reported at once: it is compared again `recheck.attempts` times,
 * `recheck.intervalMs` apart (a live pipeline lags). Equal on a later look: counted as such. Still
 * different while the source key changed between looks (type, expiry or length): written during
 * the verification, listed apart. Still different and unchanged: a difference.
 */
import { keyText } from '../reference-dataset/expected-json';
import type { VerifyMode } from './config';
import { Findings } from './findings';
import { inSample } from './key-sample';
import { compareMeta, COMPARABLE_TYPES, JSON_TYPE } from './meta-compare';
import { RateLimiter, systemClock, type Clock } from './rate-limit';
import { scanKeys } from './scan';
import type { VerifyServer } from './server';
import { different, EQUAL, type KeyMeta, type KeyVerdict } from './types';
import { ValueComparer, type ValueTask } from './value-compare';

export interface VerifyOptions {
  mode: VerifyMode;
  samplePercent: number;
  ttlToleranceMs: number;
  batchKeys: number;
  pieceElements: number;
  keysPerSecond: number;
  recheckAttempts: number;
  recheckIntervalMs: number;
  ownPrefix: string;
  reportMaxKeys: number;
  /** called after each batch with what was found so far (progress on a big keyspace) */
  onBatch?: (findings: Findings, db: number) => void;
}

/** One key's comparison: the verdict and what the source looked like. */
interface KeyLook {
  verdict: KeyVerdict;
  source: KeyMeta;
  target: KeyMeta;
}

/** A differing key waiting for its next look. */
interface Recheck {
  key: Buffer;
  first: KeyLook;
  looks: number;
  dueAtMs: number;
}

/** Most differing keys waiting for a re-check at once; beyond, the oldest is re-checked first. */
const RECHECK_QUEUE_LIMIT = 10_000;

function sameMeta(a: KeyMeta, b: KeyMeta): boolean {
  return a.type === b.type && a.expireAtMs === b.expireAtMs && a.length === b.length;
}

export class Verifier {
  private readonly values: ValueComparer;
  private readonly limiter: RateLimiter;
  private readonly findings: Findings;
  private queue: Recheck[] = [];

  constructor(
    private readonly source: VerifyServer,
    private readonly target: VerifyServer,
    private readonly options: VerifyOptions,
    private readonly clock: Clock = systemClock,
  ) {
    this.values = new ValueComparer(source, target, options.pieceElements);
    this.limiter = new RateLimiter(options.keysPerSecond, clock);
    this.findings = new Findings(options.reportMaxKeys);
  }

  async run(): Promise<Findings> {
    const [sourceDbs, targetDbs] = await Promise.all([this.source.databases(), this.target.databases()]);
    const dbs = [...new Set([...sourceDbs, ...targetDbs])].sort((a, b) => a - b);
    for (const db of dbs) {
      this.findings.dbs.push(db);
      await Promise.all([this.source.select(db), this.target.select(db)]);
      await this.sourcePass(db);
      await this.targetPass(db);
      await this.recheck(db, 'all');
    }
    return this.findings;
  }

  private async sourcePass(db: number): Promise<void> {
    for await (const keys of scanKeys(this.source.redis, this.options.batchKeys, this.options.ownPrefix)) {
      await this.limiter.take(keys.length);
      this.findings.sourceKeys += keys.length;
      const looks = await this.look(keys);
      await this.judge(db, keys, looks);
      this.options.onBatch?.(this.findings, db);
    }
  }

  private async targetPass(db: number): Promise<void> {
    for await (const keys of scanKeys(this.target.redis, this.options.batchKeys, this.options.ownPrefix)) {
      await this.limiter.take(keys.length);
      this.findings.targetKeys += keys.length;
      const onSource = await this.source.existing(keys);
      const targetOnly = keys.filter((_, i) => !onSource[i]);
      if (targetOnly.length > 0) await this.judge(db, targetOnly, await this.look(targetOnly));
      this.options.onBatch?.(this.findings, db);
    }
  }

  /** Compares keys once: quick checks for all, then values where the mode and the sample say so. */
  private async look(keys: Buffer[]): Promise<KeyLook[]> {
    const [sources, targets] = await Promise.all([this.source.readMetas(keys), this.target.readMetas(keys)]);
    const looks: KeyLook[] = [];
    const tasks: { index: number; task: ValueTask }[] = [];
    keys.forEach((key, index) => {
      const [source, target] = [sources[index]!, targets[index]!];
      const meta = compareMeta(source, target, this.options.ttlToleranceMs);
      if (meta.outcome !== 'needsValue') {
        looks.push({ verdict: meta, source, target });
        return;
      }
      const jsonAsString = source.type === JSON_TYPE && target.type === 'string';
      const readValue =
        this.options.mode === 'full' &&
        COMPARABLE_TYPES.has(source.type) &&
        inSample(key, this.options.samplePercent);
      looks.push({
        verdict: jsonAsString ? { outcome: 'degraded', degradation: 'json-as-string' } : EQUAL,
        source,
        target,
      });
      if (readValue) {
        tasks.push({
          index,
          task: { key, sourceType: source.type, targetType: target.type, length: source.length },
        });
      }
    });
    if (tasks.length > 0) {
      const differences = await this.values.compare(tasks.map(({ task }) => task));
      this.findings.valuesCompared += tasks.length;
      tasks.forEach(({ index }, i) => {
        const difference = differences[i];
        if (difference) looks[index]!.verdict = different('value', difference);
      });
    }
    return looks;
  }

  private async judge(db: number, keys: Buffer[], looks: KeyLook[]): Promise<void> {
    const now = this.clock.now();
    keys.forEach((key, i) => {
      const look = looks[i]!;
      if (look.verdict.outcome === 'different' && this.options.recheckAttempts > 0) {
        this.queue.push({ key, first: look, looks: 0, dueAtMs: now + this.options.recheckIntervalMs });
      } else {
        this.record(db, key, look, look);
      }
    });
    await this.recheck(db, this.queue.length > RECHECK_QUEUE_LIMIT ? 'overflow' : 'due');
  }

  /** Files a key's final look (`first` = its first look, to tell keys that were being written). */
  private record(db: number, key: Buffer, first: KeyLook, last: KeyLook): void {
    const { verdict } = last;
    if (verdict.outcome === 'equal') return;
    const name = keyText(key);
    if (verdict.outcome === 'degraded') {
      this.findings.addDegraded({
        db,
        key: name,
        degradation: verdict.degradation,
        sourceType: last.source.type,
        targetType: last.target.type,
      });
      return;
    }
    const difference = {
      db,
      key: name,
      kind: verdict.kind,
      source: last.source,
      target: last.target,
      detail: verdict.detail,
    };
    if (!sameMeta(first.source, last.source)) this.findings.addChanging(difference);
    else this.findings.addDifference(difference);
  }

  /**
   * Looks again at queued keys: `due` = those whose time has come, `overflow` = also waits for the
   * oldest until the queue is back under its limit, `all` = until the queue is empty.
   */
  private async recheck(db: number, which: 'due' | 'overflow' | 'all'): Promise<void> {
    const more = (): boolean =>
      which === 'all'
        ? this.queue.length > 0
        : which === 'overflow' && this.queue.length > RECHECK_QUEUE_LIMIT;
    for (;;) {
      const head = this.queue[0];
      if (head === undefined) return;
      const now = this.clock.now();
      if (head.dueAtMs > now) {
        if (!more()) return;
        await this.clock.sleep(head.dueAtMs - now);
        continue;
      }
      const due = [];
      while (due.length < this.options.batchKeys && this.queue[0] && this.queue[0].dueAtMs <= now) {
        due.push(this.queue.shift()!);
      }
      await this.limiter.take(due.length);
      const looks = await this.look(due.map((entry) => entry.key));
      const later = this.clock.now() + this.options.recheckIntervalMs;
      due.forEach((entry, i) => {
        const look = looks[i]!;
        entry.looks++;
        if (look.verdict.outcome === 'different' && entry.looks < this.options.recheckAttempts) {
          this.queue.push({ ...entry, dueAtMs: later });
        } else if (look.verdict.outcome === 'equal') {
          this.findings.recheckedEqual++;
        } else {
          this.record(db, entry.key, entry.first, look);
        }
      });
    }
  }
}
