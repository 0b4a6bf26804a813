/**
 * A real Confluent-compatible Schema Registry for tests and development: Apicurio Registry 3.0.9 with
 * in-memory storage, serving the Confluent API at /apis/ccompat/v7. No registry server is published
 * on the package registries we reach, so infra/schema-registry/build-apicurio.sh assembles it from
 * Maven Central on first use (minutes; cached under .cache/schema-registry/). Only the tests that need
 * a registry start one: the local stack (Kafka + Redis) does not.
 */
import { closeSync, existsSync, mkdtempSync, openSync, renameSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkJava, defaultJavaBinary } from './java';
import { LocalStackError } from './errors';
import { PROJECT_ROOT } from './kafka-jars';
import { lastLines, lastLogLines } from './log-tail';
import { freeLoopbackPort } from './ports';
import { hasExited, runCommand, spawnServer, stopServer } from './processes';

export const APICURIO_VERSION = '3.0.9';
export const APICURIO_BUILD_SCRIPT = join(PROJECT_ROOT, 'infra', 'schema-registry', 'build-apicurio.sh');
export const DEFAULT_REGISTRY_CACHE = join(PROJECT_ROOT, '.cache', 'schema-registry');
/** The Confluent-compatible API under the server's root. */
export const CONFLUENT_API_PATH = '/apis/ccompat/v7';

const RUNNER_JAR = 'apicurio-runner-1-runner.jar';
const HOST = '127.0.0.1';
const STOP_GRACE_MS = 5_000;
const LOG_LINES_IN_ERRORS = 30;

export interface SchemaRegistryServerOptions {
  /** folder holding the built registry (default <repo>/.cache/schema-registry) */
  cacheDir?: string;
  /** bound on waiting for the first HTTP 200 (default 90 s: a loaded 2-core machine needs ~15 s) */
  startTimeoutMs?: number;
  log?: (message: string) => void;
}

export interface SchemaRegistryServer {
  /** the Confluent-compatible API, e.g. http://127.0.0.1:PORT/apis/ccompat/v7 */
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The folder with the runnable registry (runner jar + lib/), built on first use. The build runs in a
 * private folder and only its result is renamed into place, so an interrupted build is never taken for
 * a usable one, and two processes building at once keep whichever finished first.
 */
export async function ensureSchemaRegistryBuild(options: SchemaRegistryServerOptions = {}): Promise<string> {
  const cacheDir = options.cacheDir ?? DEFAULT_REGISTRY_CACHE;
  const target = join(cacheDir, `apicurio-${APICURIO_VERSION}`);
  if (existsSync(join(target, RUNNER_JAR))) return target;
  const log = options.log ?? (() => undefined);
  const partial = join(cacheDir, `build.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  log(
    `building Apicurio Registry ${APICURIO_VERSION} from Maven Central into ${target} (takes minutes, once)`,
  );
  const started = Date.now();
  let result;
  try {
    result = await runCommand('bash', [APICURIO_BUILD_SCRIPT, partial], { cwd: PROJECT_ROOT });
  } catch (err) {
    throw new LocalStackError(
      'maven-missing',
      `cannot run bash for ${APICURIO_BUILD_SCRIPT}: ${(err as Error).message}`,
    );
  }
  const built = join(partial, 'app', 'target');
  if (result.code !== 0 || !existsSync(join(built, RUNNER_JAR))) {
    rmSync(partial, { recursive: true, force: true });
    throw new LocalStackError(
      'jar-download-failed',
      `building Apicurio Registry failed (exit ${result.code}): it needs Java 17+, Maven 3.8+ (apt-get install -y maven), ` +
        `unzip and Maven Central; run bash ${APICURIO_BUILD_SCRIPT} /tmp/apicurio to see every step`,
      lastLines(result.output, LOG_LINES_IN_ERRORS),
    );
  }
  try {
    renameSync(built, target);
  } catch (err) {
    if (!existsSync(join(target, RUNNER_JAR))) throw err;
  }
  // the Maven repository of the build (~230 MB) is not needed to run it
  rmSync(partial, { recursive: true, force: true });
  log(`built Apicurio Registry in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return target;
}

/** Starts a registry on a free loopback port; resolves once its Confluent API answers. */
export async function startSchemaRegistry(
  options: SchemaRegistryServerOptions = {},
): Promise<SchemaRegistryServer> {
  const java = defaultJavaBinary();
  checkJava(java);
  const home = await ensureSchemaRegistryBuild(options);
  const port = await freeLoopbackPort();
  const logDir = mkdtempSync(join(tmpdir(), 'schema-registry-'));
  const logFile = join(logDir, 'registry.log');
  const logFd = openSync(logFile, 'w');
  const child = await spawnServer(
    java,
    [
      '-Xmx256m',
      `-Dquarkus.http.host=${HOST}`,
      `-Dquarkus.http.port=${port}`,
      '-jar',
      join(home, RUNNER_JAR),
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  const url = `http://${HOST}:${port}${CONFLUENT_API_PATH}`;
  const stop = async (): Promise<void> => {
    await stopServer(child, STOP_GRACE_MS);
    rmSync(logDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  while (!(await answers(`${url}/subjects`))) {
    if (hasExited(child) || Date.now() > deadline) {
      const lines = lastLogLines(logFile, LOG_LINES_IN_ERRORS);
      const exitedEarly = hasExited(child);
      await stop();
      throw new LocalStackError(
        exitedEarly ? 'server-exited' : 'start-timeout',
        exitedEarly
          ? `Apicurio Registry exited while starting on port ${port} (exit ${child.exitCode})`
          : `Apicurio Registry did not answer ${url}/subjects within ${options.startTimeoutMs ?? 90_000} ms`,
        lines,
        child.pid,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, port, pid: child.pid ?? 0, stop };
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = request(url, { timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    probe.on('timeout', () => probe.destroy());
    probe.on('error', () => resolve(false));
    probe.end();
  });
}
