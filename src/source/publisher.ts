/**
 * Publishes buffered units into the changes topic, each batch in one Kafka transaction. One stable
 * transactional id per source: starting a producer with it fences any older instance (which then
 * stops with ProducerFencedError) and aborts its unfinished transaction, so a topic never gets
 * interleaved events of two running sources.
 *
 * kafkajs 2.2.4 leaves gaps that are closed here: EndTxn is not retried (commit is retried on
 * CONCURRENT_TRANSACTIONS), and a producer whose commit/abort failed is unusable (it is recreated).
 * A commit that failed without a clear answer may still have happened: the topic is read back to
 * find out before anything is sent again, so nothing is written twice.
 */
import {
  CompressionTypes,
  Partitioners,
  type Kafka,
  type Message,
  type Producer,
  type Transaction,
} from 'kafkajs';
import { kafkaErrorType } from '../kafka/client';
import type { Logger } from '../observability/logger';
import type { BufferedUnit, EncodedMessage } from './event-buffer';
import { framedMessages } from './message-slab';

export interface PublisherOptions {
  topic: string;
  transactionalId: string;
  compression: 'none' | 'gzip';
  transactionTimeoutMs: number;
  /** per-partition bytes of one produce request stay below this (the topic's max.message.bytes) */
  maxMessageBytes: number;
  /** waits between failed attempts: doubling from initial to max */
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
}

/** Another source with the same id took over the topic. */
/**
 * Messages per produce request. kafkajs 2.2.4 groups a request's messages by partition by copying the
 * partition's array once per message (quadratic): ~40k small events in one request cost seconds of CPU.
 */
const MAX_REQUEST_MESSAGES = 1000;

export class ProducerFencedError extends Error {
  constructor(transactionalId: string, topic: string) {
    super(
      `another source with the same id (transactional id "${transactionalId}") started writing to topic "${topic}", ` +
        'so this one stopped without writing anything more: run one source per master and topic, ' +
        'or give each its own source.id and topic',
    );
    this.name = 'ProducerFencedError';
  }
}

/** Kafka refused the events for a reason retrying cannot fix. */
export class PublishError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'PublishError';
  }
}

/** Answers whether every unit of a batch is in the topic (after a commit whose outcome is unknown). */
export type CommitCheck = (units: BufferedUnit[]) => Promise<boolean>;

class UncertainCommit extends Error {}

const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);
const RETRY_COMMIT = new Set(['CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS']);
const FATAL: Record<string, string> = {
  MESSAGE_TOO_LARGE:
    "an event is larger than the topic accepts: raise the topic's max.message.bytes to kafka.maxMessageBytes, or lower kafka.maxMessageBytes",
  RECORD_LIST_TOO_LARGE:
    "a batch is larger than the topic accepts: raise the topic's max.message.bytes, or lower kafka.maxMessageBytes",
  TOPIC_AUTHORIZATION_FAILED: 'this client may not write to the topic: grant it WRITE on the topic',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    'this client may not use its transactional id: grant it WRITE on the transactional id (prefix = source.id)',
  CLUSTER_AUTHORIZATION_FAILED:
    'this client may not use idempotent writes: grant it IDEMPOTENT_WRITE on the cluster',
  INVALID_TRANSACTION_TIMEOUT:
    "kafka.transactionTimeoutMs is above the brokers' transaction.max.timeout.ms: lower it",
};
const COMMIT_RETRIES = 20;
const RECORD_OVERHEAD_BYTES = 100;

export interface PublishStats {
  transactions: number;
  events: number;
  bytes: number;
  failures: number;
}

export class TransactionalPublisher {
  private producer: Producer | null = null;
  private closed = false;
  readonly stats: PublishStats = { transactions: 0, events: 0, bytes: 0, failures: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly options: PublisherOptions,
    private readonly logger: Logger,
    private readonly commitCheck: CommitCheck,
  ) {}

  /** Connects and takes over the transactional id (fencing an older instance, aborting its transaction). */
  async start(): Promise<void> {
    const producer = await this.ready();
    const tx = await producer.transaction();
    await tx.abort();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.dropProducer();
  }

  /**
   * Publishes the units in one transaction; retries until it is committed. Throws ProducerFencedError,
   * PublishError, or — when `shouldGiveUp()` turns true between attempts — the last failure.
   */
  async publish(units: BufferedUnit[], shouldGiveUp: () => boolean = () => false): Promise<void> {
    const messages = units.flatMap((u) => framedMessages(u.data, u.flow));
    let delay = this.options.retryInitialDelayMs;
    for (let attempt = 1; ; attempt++) {
      const startedAt = Date.now();
      try {
        await this.attempt(messages);
        this.stats.transactions++;
        this.stats.events += messages.length;
        this.stats.bytes += units.reduce((n, u) => n + u.bytes, 0);
        return;
      } catch (error) {
        this.stats.failures++;
        const type = kafkaErrorType(error);
        if (type && FENCED.has(type) && Date.now() - startedAt < this.options.transactionTimeoutMs) {
          await this.dropProducer();
          throw new ProducerFencedError(this.options.transactionalId, this.options.topic);
        }
        const fatal = type ? FATAL[type] : undefined;
        if (fatal) throw new PublishError(`Kafka refused the events (${type}): ${fatal}`, { cause: error });
        await this.dropProducer();
        if (error instanceof UncertainCommit && (await this.committedAfterAll(units))) return;
        if (this.closed || shouldGiveUp()) throw error;
        this.logger.warn(
          { err: error, attempt, events: messages.length },
          `publishing ${messages.length} events to "${this.options.topic}" failed (attempt ${attempt}): ${(error as Error).message}; retrying in ${delay} ms`,
        );
        await sleep(delay);
        delay = Math.min(delay * 2, this.options.retryMaxDelayMs);
      }
    }
  }

  private async committedAfterAll(units: BufferedUnit[]): Promise<boolean> {
    try {
      await this.ready();
      return await this.commitCheck(units);
    } catch (error) {
      this.logger.warn(
        { err: error },
        `could not check whether a transaction was committed: ${(error as Error).message}`,
      );
      return false;
    }
  }

  private async attempt(messages: EncodedMessage[]): Promise<void> {
    const producer = await this.ready();
    const tx = await producer.transaction();
    try {
      for (const part of this.requestParts(messages)) {
        await tx.send({ topic: this.options.topic, messages: part, compression: this.compression() });
      }
    } catch (error) {
      await tx.abort().catch(() => this.dropProducer());
      throw error;
    }
    await this.commit(tx);
  }

  private async commit(tx: Transaction): Promise<void> {
    for (let retry = 0; ; retry++) {
      try {
        await tx.commit();
        return;
      } catch (error) {
        const type = kafkaErrorType(error);
        if (type && RETRY_COMMIT.has(type) && retry < COMMIT_RETRIES) {
          await sleep(50 * (retry + 1));
          continue;
        }
        if (type && FENCED.has(type)) throw error;
        throw new UncertainCommit(`the commit failed without a clear answer: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  }

  /** Cuts a batch into produce requests whose bytes per partition stay below the message size limit. */
  private requestParts(messages: EncodedMessage[]): Message[][] {
    const parts: Message[][] = [];
    let current: Message[] = [];
    const perPartition = new Map<number, number>();
    for (const m of messages) {
      const size = m.key.length + m.value.length + RECORD_OVERHEAD_BYTES;
      const used = perPartition.get(m.partition) ?? 0;
      if (
        current.length > 0 &&
        (used + size > this.options.maxMessageBytes || current.length >= MAX_REQUEST_MESSAGES)
      ) {
        parts.push(current);
        current = [];
        perPartition.clear();
      }
      current.push({ partition: m.partition, key: m.key, value: m.value });
      perPartition.set(m.partition, (perPartition.get(m.partition) ?? 0) + size);
    }
    if (current.length > 0) parts.push(current);
    return parts;
  }

  private compression(): CompressionTypes {
    return this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  private async ready(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      transactionalId: this.options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.options.transactionTimeoutMs,
      allowAutoTopicCreation: false,
      // every message names its partition (= flow); passing the partitioner silences kafkajs's v2 notice
      createPartitioner: Partitioners.DefaultPartitioner,
      // bounded, so that a failed attempt surfaces well within the transaction timeout
      retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 3000 },
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    await producer?.disconnect().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
