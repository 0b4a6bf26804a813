/**
 * Configuration of `dragonfly-cdc verify`: which two servers to compare, how thoroughly, how fast,
 * and (optionally) the sink pipeline whose position defines the cut.
 */
import { defineConfig, option, type ConfigDefinition } from '../config/define';
import { loadConfig } from '../config/loader';
import {
  kafkaConnectionOptions,
  optionalTopicOption,
  tlsPairCheck,
  type KafkaConnectionConfig,
} from '../config/shared';

export const VERIFY_MODES = ['quick', 'full'] as const;
export type VerifyMode = (typeof VERIFY_MODES)[number];
export const CUT_MODES = ['none', 'master', 'topic'] as const;
export type CutMode = (typeof CUT_MODES)[number];

export interface VerifyConfig {
  source: { url: string };
  target: { url: string };
  mode: VerifyMode;
  sample: { percent: number };
  ttl: { toleranceMs: number };
  scan: { batchKeys: number; pieceElements: number };
  rateLimit: { keysPerSecond: number };
  recheck: { attempts: number; intervalMs: number };
  ownPrefix: string;
  report: string;
  reportMaxKeys: number;
  cut: { mode: CutMode; timeoutMs: number; checkpointKey: string };
  kafka: KafkaConnectionConfig;
  topic: string;
}

function serverUrl(role: string) {
  return option({
    doc: `${role} (redis:// or rediss://, may carry user:password@); every database is compared`,
    default: '',
    format: 'url',
    schemes: ['redis', 'rediss'],
    allowEmpty: true,
    urlWithPassword: true,
  });
}

export const verifyConfig: ConfigDefinition<VerifyConfig> = defineConfig<VerifyConfig>(
  'verify',
  {
    source: { url: serverUrl('the source: the Dragonfly master (or any Redis-protocol server)') },
    target: { url: serverUrl('the target Redis the sink writes to') },
    mode: option<VerifyMode>({
      doc: 'quick = type, TTL and length of every key; full = also every value (see sample.percent), byte for byte',
      default: 'full',
      format: 'one-of',
      values: VERIFY_MODES,
    }),
    sample: {
      percent: option({
        doc: 'in full mode, the share of keys whose values are compared (chosen by a hash of the key, so the same keys on every run); the others get the quick checks',
        default: 100,
        format: 'whole-number',
        min: 1,
        max: 100,
      }),
    },
    ttl: {
      toleranceMs: option({
        doc: 'largest difference between the two absolute expiry times of a key that still counts as equal',
        default: 2000,
        format: 'whole-number',
      }),
    },
    scan: {
      batchKeys: option({
        doc: 'keys read per SCAN step and compared together (pipelined on both sides)',
        default: 500,
        format: 'whole-number',
        min: 1,
        max: 100_000,
      }),
      pieceElements: option({
        doc: 'collections longer than this are compared in windows of this many elements (HSCAN/SSCAN/ZSCAN/LRANGE/XRANGE), strings in windows of 1024 times this many bytes',
        default: 1000,
        format: 'whole-number',
        min: 1,
        max: 1_000_000,
      }),
    },
    rateLimit: {
      keysPerSecond: option({
        doc: 'most keys checked per second on each server (0 = no limit), to spare a production master',
        default: 0,
        format: 'whole-number',
      }),
    },
    recheck: {
      attempts: option({
        doc: 'times a differing key is compared again before it is reported (a live pipeline lags); 0 = report at once',
        default: 5,
        format: 'whole-number',
        max: 100,
      }),
      intervalMs: option({
        doc: 'wait before each new comparison of a differing key',
        default: 1000,
        format: 'whole-number',
      }),
    },
    ownPrefix: option({
      doc: 'keys starting with this are the sink’s own state (checkpoint, barriers) and are not compared; "" = compare every key',
      default: 'dragonfly-cdc:',
      format: 'text',
    }),
    report: option({
      doc: 'write a JSON report (summary and every differing key) to this file; "" = summary only',
      default: '',
      format: 'text',
    }),
    reportMaxKeys: option({
      doc: 'most differing keys listed in the report (all are counted); bounds memory on a very different pair',
      default: 10_000,
      format: 'whole-number',
      min: 1,
    }),
    cut: {
      mode: option<CutMode>({
        doc: 'compare a live pipeline at a cut: master = read the master’s per-flow LSNs (DFLY REPLICAOFFSET), wait until the topic holds them and the sink applied them; topic = the topic’s end at start; none = no waiting',
        default: 'none',
        format: 'one-of',
        values: CUT_MODES,
      }),
      timeoutMs: option({
        doc: 'how long to wait for the source to publish and the sink to apply the cut before giving up',
        default: 120_000,
        format: 'whole-number',
        min: 1,
      }),
      checkpointKey: option({
        doc: 'the sink’s checkpoint hash in the target (its checkpoint.key)',
        default: 'dragonfly-cdc:checkpoint',
        format: 'text',
        pattern: /^.+$/,
        patternText: 'a non-empty string',
      }),
    },
    kafka: kafkaConnectionOptions(
      'dragonfly-cdc-verify',
      'Kafka bootstrap brokers as host:port (needed by cut.mode master and topic)',
    ),
    topic: optionalTopicOption(
      'the change-event topic of the pipeline (needed by cut.mode master and topic)',
    ),
  },
  [
    ({ kafka }) => [
      ...tlsPairCheck('kafka.ssl', kafka.ssl),
      ...(kafka.sasl.mechanism !== 'none' && (kafka.sasl.username === '' || kafka.sasl.password === '')
        ? [
            `kafka.sasl.mechanism is "${kafka.sasl.mechanism}": set kafka.sasl.username and kafka.sasl.password`,
          ]
        : []),
    ],
    ({ source, target }) => [
      ...(source.url === ''
        ? ['source.url is empty: name the source, e.g. --source-url redis://df:6379']
        : []),
      ...(target.url === ''
        ? ['target.url is empty: name the target, e.g. --target-url redis://redis:6379']
        : []),
    ],
    ({ cut, kafka, topic }) =>
      cut.mode !== 'none' && (kafka.brokers.length === 0 || topic === '')
        ? [`cut.mode is "${cut.mode}": set kafka.brokers and topic of the pipeline (or use cut.mode none)`]
        : [],
  ],
);

/** Loads and validates the verify configuration from flags (argv after "verify") and env vars. */
export function loadVerifyConfig(argv: readonly string[], env: NodeJS.ProcessEnv): VerifyConfig {
  return loadConfig(verifyConfig, argv, env);
}
