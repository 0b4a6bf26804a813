/**
 * `dragonfly-cdc verify` from a loaded configuration to an exit code: connect to both servers,
 * optionally wait for the cut, compare, print the summary, write the report.
 */
import { writeFileSync } from 'node:fs';
import type { VerifyConfig } from './config';
import { CutError, waitForCut } from './cut';
import type { Findings } from './findings';
import { summaryText, reportJson, type RunFacts } from './report';
import { systemClock, type Clock } from './rate-limit';
import { ConnectError, safeUrl, VerifyServer } from './server';
import { Verifier } from './verifier';

export const VERIFY_EXIT = {
  equal: 0,
  different: 1,
  usage: 2,
  cannotConnect: 3,
  /** the comparison could not be completed (cut not reached, a server failed a read, report unwritable) */
  incomplete: 4,
} as const;

export interface VerifyIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  clock: Clock;
}

export const processVerifyIo: VerifyIo = {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  clock: systemClock,
};

async function connectBoth(config: VerifyConfig): Promise<[VerifyServer, VerifyServer]> {
  const [source, target] = await Promise.allSettled([
    VerifyServer.connect('source', config.source.url),
    VerifyServer.connect('target', config.target.url),
  ]);
  if (source.status === 'fulfilled' && target.status === 'fulfilled') return [source.value, target.value];
  if (source.status === 'fulfilled') source.value.close();
  if (target.status === 'fulfilled') target.value.close();
  const failed = [source, target].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  throw failed.length === 1
    ? failed[0]!.reason
    : new ConnectError(failed.map((r) => (r.reason as Error).message).join('\n'));
}

/** How often a progress line is written while verify runs. */
const PROGRESS_EVERY_MS = 10_000;

/** A progress line every PROGRESS_EVERY_MS on stderr, so a long run on a big keyspace shows its pace. */
function progressReporter(io: VerifyIo): (findings: Findings, db: number) => void {
  const startMs = io.clock.now();
  let lastMs = startMs;
  return (findings, db) => {
    const now = io.clock.now();
    if (now - lastMs < PROGRESS_EVERY_MS) return;
    lastMs = now;
    const perSecond = Math.round((findings.sourceKeys + findings.targetKeys) / ((now - startMs) / 1000));
    io.stderr(
      `verify: db ${db}: ${findings.sourceKeys} source keys compared, ${findings.targetKeys} target keys looked up ` +
        `(${perSecond} keys/s), ${findings.differenceTotal} differences so far\n`,
    );
  };
}

export async function runVerify(config: VerifyConfig, io: VerifyIo = processVerifyIo): Promise<number> {
  const fail = (code: number, message: string): number => {
    io.stderr(`dragonfly-cdc verify: ${message}\n`);
    return code;
  };
  let servers: [VerifyServer, VerifyServer];
  try {
    servers = await connectBoth(config);
  } catch (error) {
    if (error instanceof ConnectError) return fail(VERIFY_EXIT.cannotConnect, error.message);
    throw error;
  }
  const [source, target] = servers;
  const startedAt = new Date(io.clock.now());
  try {
    const cut = config.cut.mode === 'none' ? null : await waitForCut(config, source, target, io.clock);
    const findings = await new Verifier(
      source,
      target,
      {
        mode: config.mode,
        samplePercent: config.sample.percent,
        ttlToleranceMs: config.ttl.toleranceMs,
        batchKeys: config.scan.batchKeys,
        pieceElements: config.scan.pieceElements,
        keysPerSecond: config.rateLimit.keysPerSecond,
        recheckAttempts: config.recheck.attempts,
        recheckIntervalMs: config.recheck.intervalMs,
        ownPrefix: config.ownPrefix,
        reportMaxKeys: config.reportMaxKeys,
        onBatch: progressReporter(io),
      },
      io.clock,
    ).run();
    const facts: RunFacts = {
      source: safeUrl(config.source.url),
      target: safeUrl(config.target.url),
      mode: config.mode,
      samplePercent: config.sample.percent,
      ttlToleranceMs: config.ttl.toleranceMs,
      cut: cut?.description ?? null,
      startedAt,
      durationMs: io.clock.now() - startedAt.getTime(),
    };
    io.stdout(summaryText(findings, facts));
    if (config.report !== '') {
      try {
        writeFileSync(config.report, reportJson(findings, facts));
      } catch (error) {
        return fail(
          VERIFY_EXIT.incomplete,
          `cannot write the report ${config.report}: ${(error as Error).message}`,
        );
      }
    }
    return findings.equal ? VERIFY_EXIT.equal : VERIFY_EXIT.different;
  } catch (error) {
    if (error instanceof CutError) return fail(VERIFY_EXIT.incomplete, error.message);
    return fail(
      VERIFY_EXIT.incomplete,
      `the comparison stopped: ${(error as Error).message}; nothing was judged, run verify again once both servers answer`,
    );
  } finally {
    source.close();
    target.close();
  }
}
