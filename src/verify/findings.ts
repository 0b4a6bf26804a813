/**
 * What a verification found: counts of everything, and lists of keys capped at `maxKeys` each so a
 * very different pair (a target missing millions of keys) cannot exhaust memory.
 */
import {
  DEGRADATIONS,
  DIFFERENCE_KINDS,
  type Degradation,
  type DegradedKey,
  type Difference,
  type DifferenceKind,
} from './types';

function zeroes<K extends string>(names: readonly K[]): Record<K, number> {
  return Object.fromEntries(names.map((name) => [name, 0])) as Record<K, number>;
}

export class Findings {
  /** databases compared */
  readonly dbs: number[] = [];
  /** keys of the source compared (the first pass) */
  sourceKeys = 0;
  /** keys of the target looked up on the source (the second pass) */
  targetKeys = 0;
  /** keys whose values were read and compared */
  valuesCompared = 0;
  /** keys that differed at first and were equal on a later look (a lagging pipeline) */
  recheckedEqual = 0;
  readonly differenceCounts = zeroes(DIFFERENCE_KINDS);
  readonly differences: Difference[] = [];
  readonly degradedCounts = zeroes(DEGRADATIONS);
  readonly degraded: DegradedKey[] = [];
  /** keys that still differed but were being written on the source while verify looked */
  changingCount = 0;
  readonly changing: Difference[] = [];

  constructor(readonly maxKeys: number) {}

  get differenceTotal(): number {
    return DIFFERENCE_KINDS.reduce((sum, kind) => sum + this.differenceCounts[kind], 0);
  }

  get degradedTotal(): number {
    return DEGRADATIONS.reduce((sum, name) => sum + this.degradedCounts[name], 0);
  }

  /** equal = no difference; degraded keys and keys written during verification do not count */
  get equal(): boolean {
    return this.differenceTotal === 0;
  }

  addDifference(difference: Difference): void {
    this.differenceCounts[difference.kind satisfies DifferenceKind]++;
    if (this.differences.length < this.maxKeys) this.differences.push(difference);
  }

  addDegraded(key: DegradedKey): void {
    this.degradedCounts[key.degradation satisfies Degradation]++;
    if (this.degraded.length < this.maxKeys) this.degraded.push(key);
  }

  addChanging(difference: Difference): void {
    this.changingCount++;
    if (this.changing.length < this.maxKeys) this.changing.push(difference);
  }
}
