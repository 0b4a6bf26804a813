import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStackError } from './errors';
import { lastLines } from './log-tail';
import { runCommand } from './processes';

/** The repository root: this file lives in src/localstack/ (or dist/localstack/ once built). */
export const PROJECT_ROOT = join(__dirname, '..', '..');
export const KAFKA_POM = join(PROJECT_ROOT, 'infra', 'kafka', 'pom.xml');
export const DEFAULT_JAR_CACHE = join(PROJECT_ROOT, '.cache', 'kafka');

export interface KafkaJarsOptions {
  /** Apache Kafka version, e.g. "3.9.2" or "4.1.2" */
  version: string;
  /** folder holding one `<version>/libs` folder per version (default `<repo>/.cache/kafka`) */
  cacheDir?: string;
  /** the Maven binary (default `mvn` from PATH) */
  mvnBin?: string;
  log?: (message: string) => void;
}

export function kafkaMajorVersion(version: string): number {
  const match = /^(\d+)\.\d+\.\d+$/.exec(version);
  if (!match?.[1]) {
    throw new LocalStackError(
      'jar-download-failed',
      `Kafka version "${version}" is not of the form X.Y.Z (e.g. 3.9.2)`,
    );
  }
  return Number(match[1]);
}

/**
 * The folder with the broker's classpath jars for `version`, fetched from Maven Central with
 * infra/kafka/pom.xml on first use. Maven writes into a private folder that is renamed into place only
 * when complete, so an interrupted download is never mistaken for a usable classpath.
 */
export async function ensureKafkaJars(options: KafkaJarsOptions): Promise<string> {
  const major = kafkaMajorVersion(options.version);
  const versionDir = join(options.cacheDir ?? DEFAULT_JAR_CACHE, options.version);
  const libs = join(versionDir, 'libs');
  if (existsSync(libs)) return libs;

  const log = options.log ?? (() => undefined);
  const partial = join(versionDir, `libs.partial-${process.pid}`);
  mkdirSync(versionDir, { recursive: true });
  rmSync(partial, { recursive: true, force: true });
  const mvn = options.mvnBin ?? 'mvn';
  const args = ['-q', '-B', '-Dstyle.color=never', '-f', KAFKA_POM, 'dependency:copy-dependencies'];
  args.push(
    `-Dkafka.version=${options.version}`,
    `-P${major >= 4 ? 'kafka4' : 'kafka3'}`,
    `-DoutputDirectory=${partial}`,
  );
  log(`fetching Kafka ${options.version} jars with Maven into ${libs}`);
  const started = Date.now();
  let result;
  try {
    result = await runCommand(mvn, args, { cwd: PROJECT_ROOT });
  } catch (err) {
    throw new LocalStackError(
      'maven-missing',
      `Maven not found (${mvn}: ${(err as Error).message}): install Maven 3.8+ (apt-get install -y maven), or set KAFKA_LIBS_DIR to a folder holding the Kafka ${options.version} jars`,
    );
  }
  if (result.code !== 0 || !existsSync(join(partial, `kafka_2.13-${options.version}.jar`))) {
    rmSync(partial, { recursive: true, force: true });
    throw new LocalStackError(
      'jar-download-failed',
      `Maven could not fetch the Kafka ${options.version} jars (exit ${result.code}): check that this version exists on Maven Central and that the machine reaches it; the command was: ${mvn} ${args.join(' ')}`,
      lastLines(result.output, 30),
    );
  }
  try {
    renameSync(partial, libs);
  } catch (err) {
    // another process finished the same download first: keep its copy
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(libs)) throw err;
  }
  const jars = readdirSync(libs).filter((name) => name.endsWith('.jar'));
  const megabytes = jars.reduce((sum, name) => sum + statSync(join(libs, name)).size, 0) / 1024 / 1024;
  log(
    `fetched ${jars.length} jars (${megabytes.toFixed(1)} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return libs;
}
