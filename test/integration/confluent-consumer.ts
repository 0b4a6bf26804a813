/**
 * A standard Confluent-format Avro consumer outside our code (infra/schema-registry/confluent-consumer:
 * kafka-clients + Apicurio's Avro deserializer, from Maven Central), built once into .cache/ and run
 * against a topic. Each build is keyed by a hash of its sources, so an edited consumer is rebuilt.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CONFLUENT_API_PATH } from '../../src/localstack/schema-registry';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const SOURCES = join(ROOT, 'infra', 'schema-registry', 'confluent-consumer');
const POM = join(SOURCES, 'pom.xml');
const MAIN = join(SOURCES, 'src', 'main', 'java', 'cdc', 'ConfluentAvroDump.java');
const JAR = 'confluent-avro-dump.jar';

/** One record as the Java consumer printed it: key and value in Avro's JSON encoding. */
export interface DumpedRecord {
  partition: number;
  offset: number;
  key: { sourceId: string; epoch: number; flow: number; lsn: number; index: number };
  value: Record<string, unknown>;
}

/** The folder holding the built consumer (jar + lib/); builds it with Maven on first use. */
export async function buildConfluentConsumer(): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(POM)).update(readFileSync(MAIN)).digest('hex');
  const target = join(ROOT, '.cache', 'confluent-consumer', hash.slice(0, 16));
  if (existsSync(join(target, JAR))) return target;
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  try {
    await run('mvn', ['-q', '-B', '-f', POM, 'package', `-Dout.dir=${partial}`], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `building the Java Confluent consumer failed (needs Maven and Java 17+, Maven Central): ` +
        `${(error as Error).message}\n${stdout}${stderr}`,
      { cause: error },
    );
  }
  try {
    renameSync(partial, target);
  } catch (error) {
    if (!existsSync(join(target, JAR))) throw error;
    rmSync(partial, { recursive: true, force: true });
  }
  return target;
}

/**
 * Reads `expected` records of `topic` from its start with the Java consumer (read-committed), which
 * resolves writer schemas through the registry's own API (the same server as `confluentApiUrl`).
 */
export async function dumpWithConfluentConsumer(options: {
  brokers: string;
  topic: string;
  /** the registry's Confluent-compatible API, as our source was given it */
  confluentApiUrl: string;
  expected: number;
  timeoutMs: number;
}): Promise<DumpedRecord[]> {
  const home = await buildConfluentConsumer();
  // Apicurio's serde speaks the registry's native v2 API; the ids it reads are the Confluent ones
  const nativeApi = options.confluentApiUrl.replace(CONFLUENT_API_PATH, '/apis/registry/v2');
  const { stdout } = await run(
    'java',
    [
      '-cp',
      `${join(home, JAR)}:${join(home, 'lib', '*')}`,
      'cdc.ConfluentAvroDump',
      options.brokers,
      options.topic,
      nativeApi,
      String(options.expected),
      String(options.timeoutMs),
    ],
    { maxBuffer: 256 * 1024 * 1024, timeout: options.timeoutMs + 30_000 },
  );
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as DumpedRecord);
}
