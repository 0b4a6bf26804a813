/**
 * What integration tests get from scripts/run-tests.ts, which starts the local Kafka + Redis stack
 * (src/localstack) before running anything under test/integration/ and passes its addresses here.
 */

const HOW_TO_RUN =
  'run integration tests through `npx tsx scripts/run-tests.ts test/integration` (it starts Kafka and Redis), ' +
  'or start them with `dragonfly-cdc stack --print-env` and export the two lines it prints';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: ${HOW_TO_RUN}`);
  return value;
}

/** Kafka bootstrap address, `host:port`. */
export function kafkaBrokers(): string {
  return required('KAFKA_BROKERS');
}

/** `redis://host:port` of a throw-away Redis. */
export function redisUrl(): string {
  return required('REDIS_URL');
}

/** The redis-server binary, for tests that start extra instances. */
export function redisServerBin(): string {
  return required('REDIS_SERVER_BIN');
}

/** The Kafka broker's jar folder, for tests that start extra brokers. */
export function kafkaLibsDir(): string {
  return required('KAFKA_LIBS_DIR');
}
