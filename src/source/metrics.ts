/** The source's metrics (dragonfly_cdc_source_*), registered once per process. */
import { counter, gauge } from '../observability/metrics';

export function sourceMetrics() {
  return {
    bufferBytes: gauge('source_buffer_bytes', 'bytes of events waiting for Kafka in the source buffer'),
    bufferFill: gauge('source_buffer_fill_ratio', 'source buffer fill level, 0 to 1 (buffer.maxBytes)'),
    secondsToFull: gauge(
      'source_buffer_seconds_to_full',
      'estimated seconds until the buffer is full at the current in/out rates; -1 when it is not filling',
    ),
    published: counter('source_events_published_total', 'change events committed to Kafka'),
    publishedBytes: counter('source_bytes_published_total', 'bytes of change events committed to Kafka'),
    transactions: counter('source_transactions_total', 'Kafka transactions committed'),
    publishFailures: counter('source_publish_failures_total', 'failed publish attempts (each is retried)'),
    detaches: counter(
      'source_detaches_total',
      'times the source let go of the master (buffer full in stable sync, or Kafka stalled); it resumes when Kafka caught up',
    ),
    readingPaused: gauge(
      'source_reading_paused',
      "1 while reading from the master is paused for Kafka (full sync at Kafka's pace), else 0",
    ),
    readAheadBytes: gauge(
      'source_read_ahead_bytes',
      'raw bytes taken off the flow sockets while reading is paused for Kafka, not parsed yet (at most replica.readAheadBytes per flow)',
    ),
    readingPausedSeconds: counter(
      'source_reading_paused_seconds_total',
      'time reading from the master was paused for Kafka',
    ),
    attached: gauge('source_attached', '1 while the source replicates from the master, 0 while detached'),
    epoch: gauge('source_epoch', 'current snapshot epoch'),
    committedLsn: gauge('source_committed_next_lsn', 'next journal LSN committed to Kafka, per flow', [
      'flow',
    ]),
    syncs: counter('source_syncs_total', 'syncs started with the master, by mode', ['mode']),
  };
}

export type SourceMetrics = ReturnType<typeof sourceMetrics>;
