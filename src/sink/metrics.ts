/**
 * The sink's metrics (dragonfly_cdc_sink_*), registered once per process.
 */
import { counter, gauge } from '../observability/metrics';

export const sinkMetrics = {
  eventsApplied: counter(
    'sink_events_applied_total',
    'events applied to the target (or skipped on purpose)',
    ['topic'],
  ),
  batches: counter('sink_batches_total', 'apply-script calls (one batch of one partition each)', ['topic']),
  translations: counter('sink_translations_total', 'events by translation-table row and exactness', [
    'row',
    'exact',
  ]),
  skipped: counter('sink_skipped_total', 'events with nothing to apply on this target, by row', ['row']),
  deadLetters: counter('sink_dead_letters_total', 'events sent to the dead-letter topic (or only logged)', [
    'topic',
    'kind',
  ]),
  retries: counter('sink_retries_total', 'batches retried after a transient target failure', ['topic']),
  barriers: counter(
    'sink_barriers_total',
    'barriers passed (FLUSHALL/FLUSHDB, new epoch), by what this process did',
    ['kind', 'outcome'],
  ),
  lag: gauge('sink_lag_events', 'events in the partition after the last applied one', ['topic', 'partition']),
};
