/**
 * Applies the events of one partition, strictly in order: decode, plan (applier), gather into
 * batches of at most batch.maxEvents, apply each batch with its new position atomically, handle
 * barriers, failures (retry, dead letter or stop) and the stored position (events below it are
 * skipped; a position behind what we expected means re-reading from there).
 */
import type { KafkaMessage } from 'kafkajs';
import type { SinkConfig } from '../config/sink';
import type { EventCodec } from '../events/codec';
import { ChunkSequenceError } from '../events/errors';
import type { ChangeEvent } from '../events/model';
import type { Logger } from '../observability/logger';
import { SchemaRegistryError } from '../schema-registry/errors';
import type {
  BatchEvent,
  BatchRequest,
  BatchResult,
  RedisStandaloneWriter,
} from '../targets/redis-standalone';
import { opensValue, type Applier, type ApplyPlan } from './applier';
import type { BarrierCoordinator, BarrierSpec } from './barrier';
import {
  epochField,
  lateExpiryCursorField,
  lateExpiryKey,
  nextOffset,
  offsetBefore,
  positionField,
  progressField,
} from './checkpoint';
import type { DeadLetterQueue } from './dead-letter';
import { classifyRedisError, EventApplyError, TargetError, type EventLocation } from './errors';
import { sinkMetrics } from './metrics';

export interface WorkerDeps {
  topic: string;
  partition: number;
  config: SinkConfig;
  writer: RedisStandaloneWriter;
  applier: Applier;
  codec: EventCodec;
  barriers: BarrierCoordinator;
  deadLetters: DeadLetterQueue;
  logger: Logger;
  now: () => number;
}

export interface BatchControl {
  /** false once the partition is revoked or the sink stops */
  active(): boolean;
  heartbeat(): Promise<void>;
  /** the message at `offset` is done (applied or dead-lettered): the group may commit past it */
  resolveOffset(offset: string): void;
  /**
   * The offset after the partition's last message when these messages were fetched (the high
   * watermark, or less when the partition ends in transaction markers, which are no messages).
   */
  endOffset: string;
}

export type ProcessResult =
  | { kind: 'done' }
  /** the stored position differs from what this process assumed: read again from `offset` */
  | { kind: 'reseek'; offset: string }
  /** the event at `offset` is a barrier other flows have not reached yet: wait, then read it again */
  | { kind: 'barrier'; offset: string; spec: BarrierSpec };

interface Pending {
  message: KafkaMessage;
  event: BatchEvent;
}

/** A batch sent to the target whose reply has not been handled yet (errors come back as values). */
interface InFlight {
  batch: Pending[];
  reply: Promise<BatchResult | Error>;
}

class Reseek extends Error {
  constructor(readonly offset: string) {
    super(`re-read from ${offset}`);
  }
}

class WaitAtBarrier extends Error {
  constructor(
    readonly offset: string,
    readonly spec: BarrierSpec,
  ) {
    super(`wait at barrier ${spec.id}`);
  }
}

/** A batch is applied once its arguments reach this many bytes, even with fewer events. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** Batches of one partition sent before waiting for the oldest reply (hides the round trip). */
const MAX_IN_FLIGHT = 4;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class PartitionWorker {
  /** the position stored in the target (next offset to apply); null = none yet */
  position: string | null = null;
  /** source epoch of the last applied event */
  epoch: number | null = null;
  private openValueStart: string | null = null;
  private pending: Pending[] = [];
  private inFlight: InFlight[] = [];
  /** the position the last batch in flight stores once applied */
  private sentPosition: string | null = null;
  /** the offset after the last event of the last batch in flight */
  private sentNext: string | null = null;
  /** the last batch reached the end and the sweep of the late-expiry hash has more steps */
  private sweepMore = false;
  private pendingBytes = 0;
  private readonly loggedRows = new Set<string>();
  private readonly positionKey: string;
  private readonly epochKey: string;
  private readonly progressKey: string;
  private readonly lateExpiryKey: string;
  private readonly lateExpiryCursorKey: string;
  private endOffset = '0';

  constructor(private readonly deps: WorkerDeps) {
    this.positionKey = positionField(deps.topic, deps.partition);
    this.epochKey = epochField(deps.topic, deps.partition);
    this.progressKey = progressField(deps.topic, deps.partition);
    this.lateExpiryCursorKey = lateExpiryCursorField(deps.topic, deps.partition);
    this.lateExpiryKey = lateExpiryKey(deps.config.checkpoint.key, deps.topic, deps.partition);
  }

  /** Reads the stored position and epoch; forgets anything half-read before. */
  async load(): Promise<string | null> {
    const [position, epoch] = await this.deps.writer.readFields(this.deps.config.checkpoint.key, [
      this.positionKey,
      this.epochKey,
    ]);
    this.position = position ?? null;
    this.epoch = epoch === null || epoch === undefined ? null : Number(epoch);
    this.openValueStart = null;
    this.pending = [];
    this.inFlight = [];
    return this.position;
  }

  private at(message: KafkaMessage): EventLocation {
    return { topic: this.deps.topic, partition: this.deps.partition, offset: message.offset };
  }

  async process(messages: KafkaMessage[], control: BatchControl): Promise<ProcessResult> {
    this.endOffset = control.endOffset;
    try {
      for (const message of messages) {
        if (!control.active()) break;
        if (this.position !== null && offsetBefore(message.offset, this.position)) continue;
        await this.take(message, control);
        if (this.pending.length >= this.deps.config.batch.maxEvents || this.pendingBytes >= MAX_BATCH_BYTES)
          await this.send(control);
      }
      await this.flush(control);
      await this.finishSweep();
      return { kind: 'done' };
    } catch (e) {
      if (e instanceof WaitAtBarrier) return { kind: 'barrier', offset: e.offset, spec: e.spec };
      if (!(e instanceof Reseek)) throw e;
      this.pending = [];
      this.inFlight = [];
      this.openValueStart = null;
      return { kind: 'reseek', offset: e.offset };
    }
  }

  private async take(message: KafkaMessage, control: BatchControl): Promise<void> {
    let event: ChangeEvent;
    let plan: ApplyPlan;
    try {
      if (message.value === null) throw new Error('the message has no value (a tombstone)');
      event = await this.deps.codec.decodeValue(message.value);
    } catch (e) {
      // an unreachable registry is no fault of the event: stop without passing it (nothing lost)
      if (e instanceof SchemaRegistryError && e.transient) throw e;
      const what = (e as Error).message;
      await this.refuse(message, control, 'decode-error', what, 'the event cannot be read as a change event');
      return;
    }
    try {
      plan = this.deps.applier.plan(event, this.deps.now());
    } catch (e) {
      if (e instanceof ChunkSequenceError)
        await this.refuse(message, control, 'chunk-sequence', e.what, e.hint);
      else
        await this.refuse(
          message,
          control,
          'translation-error',
          (e as Error).message,
          'the sink could not translate this event: report it with the event (its partition and offset)',
        );
      return;
    }
    this.count(plan);
    switch (plan.kind) {
      case 'commands':
        this.push(message, event, plan.commands);
        return;
      case 'skip':
      case 'pending':
        this.push(message, event, []);
        return;
      case 'barrier':
        await this.pass(message, control, {
          id: `flush:${event.source.epoch}:${event.source.txid ?? 0}:${plan.scope.all ? 'all' : `db${plan.scope.db}`}`,
          kind: 'flush',
          scope: plan.scope.all ? { all: true } : { all: false, sourceDb: plan.scope.db },
          flow: event.source.flow,
          flows: event.source.shardCount,
          wipe: true,
        });
        this.push(message, event, []);
        return;
      case 'snapshotStarted':
        // a partition with no epoch yet joins too (voting for no wipe): flows that start in
        // different epochs must not wait for each other forever
        if (this.deps.config.epochPolicy === 'flush' && (this.epoch === null || plan.epoch > this.epoch)) {
          await this.pass(message, control, {
            id: `epoch:${plan.epoch}`,
            kind: 'epoch',
            scope: { all: true },
            flow: event.source.flow,
            flows: plan.flows,
            wipe: this.epoch !== null,
            epoch: plan.epoch,
          });
        }
        this.push(message, event, []);
        return;
      case 'deadLetter':
        await this.flush(control);
        await this.deadLetter(message, 'policy', plan.reason);
        this.push(message, event, []);
        return;
      case 'unsupported':
        await this.flush(control);
        await this.eventFailed(
          message,
          'unsupported',
          plan.reason,
          'see docs/sink.md for what the sink can translate for this target',
        );
        this.push(message, event, []);
        return;
    }
  }

  /** An event that cannot be planned: what is queued is applied first, then errors.tolerance decides. */
  private async refuse(
    message: KafkaMessage,
    control: BatchControl,
    kind: string,
    what: string,
    hint: string,
  ): Promise<void> {
    await this.flush(control);
    await this.eventFailed(message, kind, what, hint);
    this.push(message, null, []);
  }

  /** Applies what is queued, then goes past the barrier if every flow has reached it, else stops here. */
  private async pass(message: KafkaMessage, control: BatchControl, spec: BarrierSpec): Promise<void> {
    await this.flush(control);
    if (!(await this.deps.barriers.arrive(spec))) throw new WaitAtBarrier(message.offset, spec);
  }

  /** Queues an event; its `after` keeps the position at the start of a value still being written. */
  private push(message: KafkaMessage, event: ChangeEvent | null, commands: BatchEvent['commands']): void {
    let after = nextOffset(message.offset);
    if (event !== null && opensValue(event)) {
      const payload = event.payload as { chunk: { index: number } };
      if (payload.chunk.index === 0 || this.openValueStart === null) this.openValueStart = message.offset;
      after = this.openValueStart;
    } else {
      this.openValueStart = null;
    }
    const epoch = event?.source.epoch ?? this.epoch ?? 0;
    if (event !== null) this.epoch = event.source.epoch;
    this.pending.push({ message, event: { offset: message.offset, after, epoch, commands } });
    for (const c of commands) for (const a of c.args) this.pendingBytes += a.length;
  }

  private count(plan: ApplyPlan): void {
    if (plan.kind === 'commands') {
      sinkMetrics.translations.inc({ row: plan.row, exact: String(plan.exact) });
      if (!plan.exact)
        this.logOnce(
          plan.row,
          `events of row "${plan.row}" are written inexactly to this target (see docs/sink.md)`,
        );
    } else if (plan.kind === 'skip') {
      sinkMetrics.skipped.inc({ row: plan.row });
      if (plan.row === 'cross-shard-store-piece')
        this.deps.logger.warn(`skipped a journaled command: ${plan.reason}`);
      else if (plan.row !== 'marker')
        this.logOnce(plan.row, `skipping events of row "${plan.row}": ${plan.reason}`);
    }
  }

  private logOnce(row: string, message: string): void {
    if (this.loggedRows.has(row)) return;
    this.loggedRows.add(row);
    this.deps.logger.warn({ row, partition: this.deps.partition }, message);
  }

  /**
   * Sends what is queued as one batch without waiting for its reply: batches of a partition are
   * pipelined on the one connection, each continuing from the position the previous one will
   * store. Redis runs them in order; after a failure the position check makes every later batch
   * apply nothing, and they are applied again one by one (settle). Waits for the oldest batch once
   * MAX_IN_FLIGHT are out.
   */
  private async send(control: BatchControl): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const pipelined = this.inFlight.length > 0;
    const request = this.request(
      pipelined ? this.sentPosition : this.position,
      batch,
      pipelined ? this.sentNext : null,
    );
    const reply = this.deps.writer.apply(request).catch((e: unknown) => e as Error);
    this.inFlight.push({ batch, reply });
    const last = batch[batch.length - 1] as Pending;
    this.sentPosition = last.event.after;
    this.sentNext = nextOffset(last.message.offset);
    while (this.inFlight.length >= MAX_IN_FLIGHT) await this.settleOldest(control);
  }

  private request(expected: string | null, batch: Pending[], expectedNext: string | null): BatchRequest {
    const last = batch[batch.length - 1];
    return {
      checkpointKey: this.deps.config.checkpoint.key,
      positionField: this.positionKey,
      epochField: this.epochKey,
      expected,
      progressField: this.progressKey,
      expectedNext,
      lateExpiryKey: this.lateExpiryKey,
      lateExpiryCursorField: this.lateExpiryCursorKey,
      // an empty batch continues the sweep of one that reached the end
      sweepLateExpiries: last === undefined || !offsetBefore(nextOffset(last.message.offset), this.endOffset),
      events: batch.map((p) => p.event),
    };
  }

  /**
   * The partition reached its end and the sweep of its late-expiry hash has more steps: takes them,
   * one script call (with no events) each, so that no call blocks Redis for long. A failure leaves
   * the rest to the next batch that reaches the end.
   */
  private async finishSweep(): Promise<void> {
    while (this.sweepMore) {
      const result = await this.deps.writer
        .apply(this.request(this.position, [], null))
        .catch((e: unknown) => e as Error);
      if (result instanceof Error || result.status !== 'ok') {
        this.sweepMore = false;
        return;
      }
      this.sweepMore = result.sweepMore;
    }
  }

  /** Applies what is queued; on return everything queued is applied or dead-lettered. */
  private async flush(control: BatchControl): Promise<void> {
    await this.send(control);
    while (this.inFlight.length > 0) await this.settleOldest(control);
  }

  /** Waits for the oldest batch in flight; anything but a clean apply is redone in order (applyInOrder). */
  private async settleOldest(control: BatchControl): Promise<void> {
    const oldest = this.inFlight[0] as InFlight;
    const result = await oldest.reply;
    if (!(result instanceof Error) && result.status === 'ok') {
      this.inFlight.shift();
      this.applied(oldest.batch, oldest.batch.length, result, control);
      await control.heartbeat();
      return;
    }
    const unsettled = this.inFlight;
    this.inFlight = [];
    await Promise.all(unsettled.map((f) => f.reply));
    this.pending = unsettled.flatMap((f) => f.batch);
    await this.applyInOrder(control, { size: oldest.batch.length, result });
  }

  private applied(
    batch: Pending[],
    count: number,
    result: { position: string; sweepError: string; sweepMore: boolean },
    control: BatchControl,
  ): void {
    sinkMetrics.batches.inc({ topic: this.deps.topic });
    this.position = result.position;
    this.sweepMore = result.sweepMore;
    if (result.sweepError !== '' && !this.loggedRows.has('late-expiry-sweep')) {
      this.loggedRows.add('late-expiry-sweep');
      this.deps.logger.warn(
        { key: this.lateExpiryKey, error: result.sweepError },
        `the late-expiry hash ${this.lateExpiryKey} could not be swept (${result.sweepError}): keys whose expiry passed may stay with a TTL of centuries; delete that key if it is not a hash (the sink recreates it)`,
      );
    }
    if (count === 0) return;
    sinkMetrics.eventsApplied.inc({ topic: this.deps.topic }, count);
    control.resolveOffset((batch[count - 1] as Pending).message.offset);
  }

  /**
   * Applies the queue one batch at a time, each waiting for the previous: after a failure, with
   * retries (transient errors), dead letters or a stop (event errors). `known` is the reply already
   * received for the first `size` events.
   */
  private async applyInOrder(
    control: BatchControl,
    known: { size: number; result: BatchResult | Error },
  ): Promise<void> {
    let transientFailures = 0;
    const { maxAttempts, initialBackoffMs } = this.deps.config.retry;
    const retry = async (what: string, hint: string): Promise<void> => {
      transientFailures++;
      sinkMetrics.retries.inc({ topic: this.deps.topic });
      if (transientFailures >= maxAttempts) {
        throw new TargetError(`writing to the target failed ${transientFailures} times, last: ${what}`, hint);
      }
      const wait = initialBackoffMs * 2 ** (transientFailures - 1);
      this.deps.logger.warn(
        { attempt: transientFailures, waitMs: wait },
        `target write failed (${what}); retrying`,
      );
      await control.heartbeat();
      await sleep(wait);
    };
    let next: typeof known | null = known;
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, next?.size ?? this.deps.config.batch.maxEvents);
      const result =
        next?.result ??
        (await this.deps.writer
          .apply(this.request(this.position, batch, null))
          .catch((e: unknown) => e as Error));
      next = null;
      if (result instanceof Error) {
        const failure = classifyRedisError(result.message);
        if (failure.kind === 'transient') {
          await retry(failure.what, failure.hint);
          continue;
        }
        throw new TargetError(`the target refused the batch: ${failure.what}`, failure.hint);
      }
      if (result.status === 'behind') {
        this.deps.logger.warn(
          { stored: result.position, expected: this.position },
          'the stored position is behind this batch (another process or a failed batch): re-reading from it',
        );
        this.position = result.position;
        throw new Reseek(result.position ?? '0');
      }
      const count = result.status === 'ok' ? batch.length : result.eventIndex;
      this.applied(batch, count, result, control);
      if (result.status === 'ok') {
        this.pending = this.pending.slice(batch.length);
        continue;
      }
      const failed = batch[result.eventIndex] as Pending;
      const failure = classifyRedisError(result.error);
      if (failure.kind === 'fatal')
        throw new TargetError(`the target refused a command: ${failure.what}`, failure.hint);
      if (failure.kind === 'transient') {
        this.pending = this.pending.slice(result.eventIndex);
        await retry(failure.what, failure.hint);
        continue;
      }
      const command = failed.event.commands[result.commandIndex];
      const what = `${command?.name ?? 'a command'} failed: ${failure.what}`;
      if (result.commandIndex > 0) this.partlyApplied(failed, result.commandIndex, what, failure.hint);
      await this.eventFailed(failed.message, 'redis-error', what, failure.hint);
      this.pending = [
        { ...failed, event: { ...failed.event, commands: [] } },
        ...this.pending.slice(result.eventIndex + 1),
      ];
    }
    this.pendingBytes = 0;
  }

  /**
   * An event whose first commands were applied before one failed cannot be dead-lettered: skipping it
   * would leave half of it in the target. The sink stops whatever errors.tolerance says; the stored
   * progress points at the failed command, so a restart applies the rest once (nothing twice).
   */
  private partlyApplied(failed: Pending, commandIndex: number, what: string, hint: string): never {
    const count = failed.event.commands.length;
    throw new EventApplyError(
      this.at(failed.message),
      `${what} (command ${commandIndex + 1} of ${count}; the ${commandIndex} before it are applied)`,
      `${hint}. A partly applied event is never skipped or dead-lettered: fix the cause and restart (the sink resumes at command ${commandIndex + 1} of this event)`,
    );
  }

  /** errors.tolerance: none stops here (the position stays at this event), all dead-letters it. */
  private async eventFailed(message: KafkaMessage, kind: string, what: string, hint: string): Promise<void> {
    if (this.deps.config.errors.tolerance === 'none') {
      throw new EventApplyError(
        this.at(message),
        what,
        `${hint}. Fix the cause and restart (the sink resumes at this event), or set errors.tolerance=all to dead-letter such events`,
      );
    }
    await this.deadLetter(message, kind, what);
  }

  private async deadLetter(message: KafkaMessage, kind: string, reason: string): Promise<void> {
    await this.deps.deadLetters.send({
      at: this.at(message),
      kind,
      reason,
      key: message.key ?? null,
      value: message.value ?? null,
      headers: message.headers,
    });
  }
}
