/**
 * The outcome for people (a summary of a few lines) and for tools (a JSON report listing every
 * differing key, up to reportMaxKeys per list).
 */
import type { Findings } from './findings';
import { DEGRADATIONS, DIFFERENCE_KINDS } from './types';

/** What the run compared, for both outputs. */
export interface RunFacts {
  source: string;
  target: string;
  mode: string;
  samplePercent: number;
  ttlToleranceMs: number;
  /** the cut the comparison waited for, in words; null = no cut */
  cut: string | null;
  startedAt: Date;
  durationMs: number;
}

const DEGRADATION_TEXT: Record<(typeof DEGRADATIONS)[number], string> = {
  'json-as-string': 'JSON documents stored as strings (equal text)',
  'json-skipped': 'JSON documents not written (degrade.json=skip)',
  'sketch-skipped': 'sketches not written (a stock Redis has none)',
};

function counts(record: Record<string, number>): string {
  return Object.entries(record)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
}

export function summaryText(findings: Findings, facts: RunFacts): string {
  const lines = [
    `verify ${facts.source} -> ${facts.target}: ${findings.equal ? 'EQUAL' : 'DIFFERENT'}`,
    `  mode ${facts.mode}${facts.mode === 'full' && facts.samplePercent < 100 ? ` (values of ${facts.samplePercent}% of keys)` : ''}, ` +
      `TTL tolerance ${facts.ttlToleranceMs} ms, databases ${findings.dbs.length > 0 ? findings.dbs.join(',') : 'none (both empty)'}, ` +
      `${(facts.durationMs / 1000).toFixed(1)} s`,
  ];
  if (facts.cut !== null) lines.push(`  cut: ${facts.cut}`);
  lines.push(
    `  ${findings.sourceKeys} source keys compared, ${findings.targetKeys} target keys looked up, ${findings.valuesCompared} values compared`,
    `  ${findings.differenceTotal} differences${findings.differenceTotal > 0 ? `: ${counts(findings.differenceCounts)}` : ''}`,
    `  ${findings.recheckedEqual} re-checked, equal later`,
  );
  if (findings.changingCount > 0) {
    lines.push(
      `  ${findings.changingCount} still different but written on the source while verify looked (not judged)`,
    );
  }
  for (const name of DEGRADATIONS) {
    const n = findings.degradedCounts[name];
    if (n > 0) lines.push(`  ${n} degraded by the sink's translation table: ${DEGRADATION_TEXT[name]}`);
  }
  const shown = findings.differences.slice(0, 10);
  for (const d of shown) lines.push(`  db ${d.db} ${JSON.stringify(d.key)}: ${d.kind}: ${d.detail}`);
  if (findings.differenceTotal > shown.length) {
    lines.push(`  … ${findings.differenceTotal - shown.length} more (see --report)`);
  }
  return `${lines.join('\n')}\n`;
}

export function reportJson(findings: Findings, facts: RunFacts): string {
  const listCapped = (count: number) => (count > findings.maxKeys ? { listedOnly: findings.maxKeys } : {});
  return `${JSON.stringify(
    {
      equal: findings.equal,
      source: facts.source,
      target: facts.target,
      mode: facts.mode,
      samplePercent: facts.samplePercent,
      ttlToleranceMs: facts.ttlToleranceMs,
      cut: facts.cut,
      startedAt: facts.startedAt.toISOString(),
      durationMs: facts.durationMs,
      databases: findings.dbs,
      sourceKeys: findings.sourceKeys,
      targetKeys: findings.targetKeys,
      valuesCompared: findings.valuesCompared,
      recheckedEqual: findings.recheckedEqual,
      differenceCounts: Object.fromEntries(DIFFERENCE_KINDS.map((k) => [k, findings.differenceCounts[k]])),
      differences: findings.differences,
      ...listCapped(findings.differenceTotal),
      degradedCounts: findings.degradedCounts,
      degraded: findings.degraded,
      writtenDuringVerification: findings.changing,
    },
    null,
    2,
  )}\n`;
}
