/**
 * The dead-letter topic: events the sink skips (errors.tolerance=all, or degrade.sketch=dlq) go there
 * with their original key, value and headers, plus headers saying why and where from. Without a
 * topic configured they are only logged. Delivery is at-least-once: an event dead-lettered right
 * before a crash is dead-lettered again on restart.
 */
import type { IHeaders, Producer } from 'kafkajs';
import type { Logger } from '../observability/logger';
import { describeLocation, type EventLocation } from './errors';
import { sinkMetrics } from './metrics';

export interface DeadLetter {
  at: EventLocation;
  /** short class of the failure: unsupported | redis-error | decode-error | chunk-sequence | translation-error | policy */
  kind: string;
  reason: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders | undefined;
}

export const DLQ_HEADERS = {
  reason: 'dlq.reason',
  kind: 'dlq.kind',
  topic: 'dlq.source.topic',
  partition: 'dlq.source.partition',
  offset: 'dlq.source.offset',
  group: 'dlq.sink.group',
  time: 'dlq.time',
} as const;

export class DeadLetterQueue {
  constructor(
    private readonly producer: Producer | null,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly logger: Logger,
  ) {}

  async send(letter: DeadLetter): Promise<void> {
    const where = describeLocation(letter.at);
    sinkMetrics.deadLetters.inc({ topic: letter.at.topic, kind: letter.kind });
    if (this.producer === null || this.topic === '') {
      this.logger.warn({ at: where, kind: letter.kind }, `skipped event ${where}: ${letter.reason}`);
      return;
    }
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [
        {
          key: letter.key,
          value: letter.value,
          headers: {
            ...letter.headers,
            [DLQ_HEADERS.reason]: letter.reason,
            [DLQ_HEADERS.kind]: letter.kind,
            [DLQ_HEADERS.topic]: letter.at.topic,
            [DLQ_HEADERS.partition]: String(letter.at.partition),
            [DLQ_HEADERS.offset]: letter.at.offset,
            [DLQ_HEADERS.group]: this.groupId,
            [DLQ_HEADERS.time]: new Date().toISOString(),
          },
        },
      ],
    });
    this.logger.warn(
      { at: where, kind: letter.kind },
      `dead-lettered event ${where} to ${this.topic}: ${letter.reason}`,
    );
  }
}
