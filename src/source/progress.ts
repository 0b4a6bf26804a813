/**
 * Progress in the log: during a full sync every few seconds (keys, keys/s, bytes per flow), and the
 * buffer's state; in stable sync a short line when something was published.
 */
import type { Logger } from '../observability/logger';
import type { SourcePipeline } from './pipeline';

const SAMPLE_MS = 1000;
const FULL_SYNC_REPORT_MS = 5000;
const STABLE_REPORT_MS = 30_000;

export function reportProgress(pipeline: SourcePipeline, logger: Logger): { stop(): void } {
  let lastReportAt = Date.now();
  let lastKeys = 0;
  let lastPublished = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    pipeline.sampleBuffer(now);
    const session = pipeline.currentSession;
    const state = session?.state;
    const every = state === 'full-sync' ? FULL_SYNC_REPORT_MS : STABLE_REPORT_MS;
    if (now - lastReportAt < every) return;
    const seconds = (now - lastReportAt) / 1000;
    lastReportAt = now;
    const flows = session?.flowStats() ?? [];
    const keys = flows.reduce((n, f) => n + f.counters.entries, 0);
    const buffer = pipeline.buffer;
    const fill = `buffer ${((100 * buffer.bytes) / buffer.maxBytes).toFixed(1)}% (${buffer.events} events)`;
    if (state === 'full-sync') {
      const mb = flows.reduce((n, f) => n + f.counters.bytes, 0) / 1e6;
      const perFlow = flows.map((f) => `${f.flowId}: ${f.counters.entries} keys`).join(', ');
      logger.info(
        `full sync: ${keys} keys (${Math.round((keys - lastKeys) / seconds)} keys/s), ${mb.toFixed(1)} MB received; ${fill}; flows ${perFlow}`,
      );
    } else {
      const total = pipeline.publishedEvents;
      if (total !== lastPublished) {
        logger.info(`${state ?? 'detached'}: ${total} events published in total; ${fill}`);
      }
      lastPublished = total;
    }
    lastKeys = keys;
  }, SAMPLE_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
