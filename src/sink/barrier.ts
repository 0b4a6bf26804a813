/**
 * Cross-partition order points, coordinated through the target so that several sink processes can
 * share the partitions: FLUSHALL/FLUSHDB (journaled on every flow with one txid) and the wipe for a
 * new epoch (epochPolicy=flush). Each flow records its arrival; the flow that completes the set
 * executes the wipe once; every flow waits until it is done, then goes past it. Waiting must not
 * block the consumer (kafkajs fetches the next data of every partition only once the current
 * batches are done): a flow that has to wait is paused and asks again later (consumer.ts).
 */
import type { Logger } from '../observability/logger';
import type { BarrierRequest, RedisStandaloneWriter } from '../targets/redis-standalone';
import { barrierKey, EPOCH_FIELD_SUFFIX, ownKeysGlob, REACHED_EPOCH_FIELD_SUFFIX } from './checkpoint';
import type { KeyMapping } from './db-mapping';
import { sinkMetrics } from './metrics';

export interface BarrierSpec {
  /** unique within the topic: "flush:<epoch>:<txid>:<scope>" or "epoch:<epoch>" */
  id: string;
  kind: 'flush' | 'epoch';
  /** every source database, or one */
  scope: { all: true } | { all: false; sourceDb: number };
  flow: number;
  flows: number;
  /** this flow applied data before the barrier (false: it starts here, with nothing to wipe) */
  wipe: boolean;
  /** the new epoch of an epoch barrier */
  epoch?: number;
}

/** Barrier hashes expire a week after the last flow touched them. */
const BARRIER_TTL_SECONDS = 7 * 24 * 3600;

export class BarrierCoordinator {
  constructor(
    private readonly writer: RedisStandaloneWriter,
    private readonly checkpointKey: string,
    private readonly topic: string,
    private readonly keys: KeyMapping,
    private readonly logger: Logger,
  ) {}

  private action(spec: BarrierSpec): BarrierRequest['action'] {
    if (this.keys.prefixed) {
      const glob = spec.scope.all ? this.keys.allPattern() : this.keys.dbPattern(spec.scope.sourceDb);
      return { kind: 'pattern', glob: glob ?? '*' };
    }
    return spec.scope.all ? { kind: 'flushall' } : { kind: 'flushdb', db: this.keys.db(spec.scope.sourceDb) };
  }

  /** Records this flow's arrival; true once the barrier has been executed (by this flow or another). */
  async arrive(spec: BarrierSpec): Promise<boolean> {
    const state = await this.writer.barrier({
      checkpointKey: this.checkpointKey,
      barrierKey: barrierKey(this.checkpointKey, this.topic, spec.id),
      flow: spec.flow,
      flows: spec.flows,
      action: this.action(spec),
      ttlSeconds: BARRIER_TTL_SECONDS,
      ownKeysGlob: ownKeysGlob(this.checkpointKey),
      wipe: spec.wipe,
      epoch:
        spec.epoch === undefined
          ? null
          : {
              epoch: spec.epoch,
              fieldPrefix: `${this.topic}/`,
              epochSuffix: EPOCH_FIELD_SUFFIX,
              reachedSuffix: REACHED_EPOCH_FIELD_SUFFIX,
            },
    });
    if (state === 'WAITING') return false;
    const outcome = state === 'EXECUTED' ? 'executed' : state === 'SKIPPED' ? 'skipped' : 'passed';
    sinkMetrics.barriers.inc({ kind: spec.kind, outcome });
    if (state === 'EXECUTED')
      this.logger.info({ barrier: spec.id }, `barrier ${spec.id} executed by flow ${spec.flow}`);
    if (state === 'SKIPPED')
      this.logger.warn(
        { barrier: spec.id },
        `barrier ${spec.id}: a flow's partition already holds data of the new epoch (its older events are no longer in Kafka, or it started there), so the target was not wiped; keys the master dropped between the epochs may remain: start the sink over on a fresh target (docs/sink.md) if that matters`,
      );
    return true;
  }
}
