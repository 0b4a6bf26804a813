import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { LocalStackError } from './errors';
import { checkJava, defaultJavaBinary } from './java';
import { logConfig, serverProperties } from './kafka-config';
import { ensureKafkaJars, kafkaMajorVersion } from './kafka-jars';
import { lastLines } from './log-tail';
import { freeLoopbackPort } from './ports';
import { hasExited, runCommand, spawnServer, stopServer } from './processes';

export const DEFAULT_KAFKA_VERSION = '3.9.2';

export interface KafkaBrokerOptions {
  /** Apache Kafka version; default $KAFKA_VERSION, else 3.9.2 */
  version?: string;
  /** PLAINTEXT (client) port; default a free one */
  port?: number;
  /** CONTROLLER port; default a free one */
  controllerPort?: number;
  /** java binary; default $JAVA_HOME/bin/java, else `java` */
  javaBin?: string;
  /** Maven binary, used only when the jars are not cached yet; default `mvn` */
  mvnBin?: string;
  /** a folder with the broker jars, skipping Maven; default $KAFKA_LIBS_DIR (when `version` is not given), else the jar cache */
  libsDir?: string;
  /** jar cache root (default `<repo>/.cache/kafka`) */
  cacheDir?: string;
  /** bound on waiting for the broker to answer an admin request (default 90 s) */
  startTimeoutMs?: number;
  log?: (message: string) => void;
}

export interface KafkaBroker {
  /** bootstrap address, `127.0.0.1:<port>` */
  brokers: string;
  version: string;
  libsDir: string;
  pid: number;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 15_000;
const LOG_LINES_IN_ERRORS = 30;
// modest heap: the machine (2 cores) also runs Node, Redis and Dragonfly during tests
const BROKER_JVM_FLAGS = [
  '-Xms256m',
  '-Xmx1g',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];

/**
 * Starts a single-node KRaft Kafka broker in a fresh temporary folder and resolves once it answers a
 * real admin request and its coordinators are ready. On any failure the broker process is gone and
 * its folder removed before the error is thrown.
 */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const log = options.log ?? (() => undefined);
  const version = options.version ?? process.env.KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
  const major = kafkaMajorVersion(version);
  const javaBin = options.javaBin ?? defaultJavaBinary();
  checkJava(javaBin);
  // $KAFKA_LIBS_DIR holds the jars of $KAFKA_VERSION: it does not apply to an explicitly chosen version
  const libsFromEnv = options.version === undefined ? process.env.KAFKA_LIBS_DIR : undefined;
  const libsDir =
    options.libsDir ??
    libsFromEnv ??
    (await ensureKafkaJars({ version, cacheDir: options.cacheDir, mvnBin: options.mvnBin, log }));
  const port = options.port ?? (await freeLoopbackPort());
  const controllerPort = options.controllerPort ?? (await freeLoopbackPort());
  const brokers = `${HOST}:${port}`;

  const started = Date.now();
  const run = prepareRunDir(major, port, controllerPort);
  const classpath = join(libsDir, '*');
  const clusterId = newClusterId();
  let child: ChildProcess;
  try {
    await formatStorage(javaBin, classpath, run, clusterId);
    child = await launchBroker(javaBin, classpath, run);
  } catch (err) {
    run.remove();
    throw err;
  }
  const pid = child.pid ?? -1;
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  log(`Kafka ${version} starting (pid ${pid}) on ${brokers}, controller port ${controllerPort}`);

  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const fail = async (error: (logText: string, logLines: string[]) => LocalStackError): Promise<never> => {
    await stopServer(child, STOP_GRACE_MS);
    const logText = readFileSync(run.logFile, 'utf8');
    run.remove();
    throw error(logText, lastLines(logText, LOG_LINES_IN_ERRORS));
  };
  const outcome = await waitUntilReady(brokers, clusterId, timeoutMs, () => hasExited(child));
  if (outcome !== 'ready') {
    return fail((logText, logLines) =>
      startFailure(outcome, { brokers, controllerPort, timeoutMs, child, logText, logLines, pid }),
    );
  }
  log(`Kafka answered after ${elapsed()}`);
  try {
    await warmUpCoordinators(brokers);
  } catch (err) {
    return fail(
      (_, logLines) =>
        new LocalStackError(
          'start-timeout',
          `Kafka broker at ${brokers} answered but its group/transaction coordinators did not get ready (${(err as Error).message})`,
          logLines,
          pid,
        ),
    );
  }
  log(`Kafka coordinators ready after ${elapsed()}`);
  return {
    brokers,
    version,
    libsDir,
    pid,
    stop: async () => {
      await stopServer(child, STOP_GRACE_MS);
      run.remove();
    },
  };
}

interface RunDir {
  propertiesFile: string;
  /** the JVM property that points the logging backend at our log config */
  loggingFlag: string;
  /** where the broker's stdout and stderr go */
  logFile: string;
  /** the folder for kafka.logs.dir (unused by our log config, but Kafka expects it set) */
  logsDir: string;
  remove(): void;
}

/** A fresh temporary folder with server.properties, the log config and the data folder. */
function prepareRunDir(kafkaMajor: number, port: number, controllerPort: number): RunDir {
  const dir = mkdtempSync(join(tmpdir(), 'dragonfly-cdc-kafka-'));
  const propertiesFile = join(dir, 'server.properties');
  const dataDir = join(dir, 'data');
  writeFileSync(propertiesFile, serverProperties({ port, controllerPort, dataDir, kafkaMajor }));
  const logging = logConfig(kafkaMajor);
  const logConfigFile = join(dir, logging.fileName);
  writeFileSync(logConfigFile, logging.text);
  const logsDir = join(dir, 'logs');
  mkdirSync(logsDir);
  return {
    propertiesFile,
    loggingFlag: logging.jvmProperty(logConfigFile),
    logFile: join(dir, 'kafka.log'),
    logsDir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function launchBroker(javaBin: string, classpath: string, run: RunDir): Promise<ChildProcess> {
  const args = [...BROKER_JVM_FLAGS, run.loggingFlag, `-Dkafka.logs.dir=${run.logsDir}`];
  args.push('-cp', classpath, 'kafka.Kafka', run.propertiesFile);
  const logFd = openSync(run.logFile, 'w');
  try {
    return await spawnServer(javaBin, args, { stdio: ['ignore', logFd, logFd] });
  } catch (err) {
    throw new LocalStackError(
      'java-missing',
      `cannot start the broker with ${javaBin}: ${(err as Error).message}`,
    );
  } finally {
    closeSync(logFd);
  }
}

/** A Kafka cluster id: 16 random bytes in URL-safe base64; Kafka refuses ids that start with '-'. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function formatStorage(
  javaBin: string,
  classpath: string,
  run: RunDir,
  clusterId: string,
): Promise<void> {
  const args = ['-Xmx256m', run.loggingFlag, '-cp', classpath, 'kafka.tools.StorageTool'];
  args.push('format', '-t', clusterId, '-c', run.propertiesFile);
  const result = await runCommand(javaBin, args);
  if (result.code !== 0) {
    throw new LocalStackError(
      'storage-format-failed',
      `Kafka StorageTool format failed (exit ${result.code}): a missing class means the jar folder ${classpath} is incomplete; delete it to download it again`,
      lastLines(result.output, LOG_LINES_IN_ERRORS),
    );
  }
}

/**
 * Makes the broker's coordinators ready now rather than on first use: a group lookup creates
 * __consumer_offsets, an idempotent producer makes the broker fetch its first block of producer ids,
 * and a transaction creates __transaction_state. Otherwise the first test to do each pays for it while
 * kafkajs logs "coordinator is loading" errors and retries.
 */
async function warmUpCoordinators(brokers: string): Promise<void> {
  const id = 'dragonfly-cdc-localstack-warmup';
  const kafka = new Kafka({ clientId: id, brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.connect();
    await admin.describeGroups([id]);
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.abort();
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}

type ReadyOutcome = 'ready' | 'exited' | 'timeout';

/**
 * Polls a real admin request (describeCluster) until the broker answers with our cluster id, dies, or
 * time runs out. The id check matters: when the port is taken, the program already listening there
 * (possibly another broker) answers, while ours is failing to bind.
 */
async function waitUntilReady(
  brokers: string,
  clusterId: string,
  timeoutMs: number,
  died: () => boolean,
): Promise<ReadyOutcome> {
  const deadline = Date.now() + timeoutMs;
  const kafka = new Kafka({
    clientId: 'dragonfly-cdc-localstack-probe',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  while (Date.now() < deadline) {
    if (died()) return 'exited';
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.clusterId === clusterId && cluster.brokers.length > 0) return 'ready';
    } catch {
      // not listening yet, or still electing its controller: poll again
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return died() ? 'exited' : 'timeout';
}

interface FailureContext {
  brokers: string;
  controllerPort: number;
  timeoutMs: number;
  child: ChildProcess;
  logText: string;
  logLines: string[];
  pid: number;
}

function startFailure(outcome: 'exited' | 'timeout', ctx: FailureContext): LocalStackError {
  // Kafka: "Socket server failed to bind to 127.0.0.1:9092: Address already in use."
  const bind = /failed to bind to (\S+?):? Address already in use/.exec(ctx.logText);
  if (bind) {
    return new LocalStackError(
      'port-in-use',
      `Kafka broker could not start: port ${bind[1]} is already in use (another broker or program listens there); choose another port or stop that program`,
      ctx.logLines,
      ctx.pid,
    );
  }
  if (outcome === 'exited') {
    const how = ctx.child.signalCode ?? `exit code ${ctx.child.exitCode}`;
    return new LocalStackError(
      'server-exited',
      `Kafka broker (${ctx.brokers}, controller port ${ctx.controllerPort}) died during start-up (${how})`,
      ctx.logLines,
      ctx.pid,
    );
  }
  return new LocalStackError(
    'start-timeout',
    `Kafka broker at ${ctx.brokers} did not answer an admin request within ${ctx.timeoutMs / 1000} s and was stopped: the machine may be overloaded`,
    ctx.logLines,
    ctx.pid,
  );
}
