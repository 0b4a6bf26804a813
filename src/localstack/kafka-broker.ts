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
import { lastLines, lastLogLines } from './log-tail';
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
  /** a folder with the broker jars, skipping Maven; default $KAFKA_LIBS_DIR, else the jar cache */
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
 * real admin request. On any failure the broker process is gone before the error is thrown.
 */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const log = options.log ?? (() => undefined);
  const version = options.version ?? process.env.KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
  const major = kafkaMajorVersion(version);
  const javaBin = options.javaBin ?? defaultJavaBinary();
  checkJava(javaBin);
  const libsDir =
    options.libsDir ??
    process.env.KAFKA_LIBS_DIR ??
    (await ensureKafkaJars({ version, cacheDir: options.cacheDir, mvnBin: options.mvnBin, log }));
  const classpath = join(libsDir, '*');
  const port = options.port ?? (await freeLoopbackPort());
  const controllerPort = options.controllerPort ?? (await freeLoopbackPort());

  const runDir = mkdtempSync(join(tmpdir(), 'dragonfly-cdc-kafka-'));
  const removeRunDir = (): void => rmSync(runDir, { recursive: true, force: true });
  const propertiesFile = join(runDir, 'server.properties');
  writeFileSync(
    propertiesFile,
    serverProperties({ port, controllerPort, dataDir: join(runDir, 'data'), kafkaMajor: major }),
  );
  const logging = logConfig(major);
  const logConfigFile = join(runDir, logging.fileName);
  writeFileSync(logConfigFile, logging.text);
  const loggingFlag = logging.jvmProperty(logConfigFile);

  try {
    await formatStorage(javaBin, classpath, loggingFlag, propertiesFile);
  } catch (err) {
    removeRunDir();
    throw err;
  }

  const logFile = join(runDir, 'kafka.log');
  mkdirSync(join(runDir, 'logs'));
  const logFd = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    const args = [...BROKER_JVM_FLAGS, loggingFlag, `-Dkafka.logs.dir=${join(runDir, 'logs')}`];
    args.push('-cp', classpath, 'kafka.Kafka', propertiesFile);
    child = await spawnServer(javaBin, args, { stdio: ['ignore', logFd, logFd] });
  } catch (err) {
    removeRunDir();
    throw new LocalStackError(
      'java-missing',
      `cannot start the broker with ${javaBin}: ${(err as Error).message}`,
    );
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid ?? -1;
  log(
    `Kafka ${version} broker starting (pid ${pid}) on ${HOST}:${port}, controller ${HOST}:${controllerPort}`,
  );

  const brokers = `${HOST}:${port}`;
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const outcome = await waitUntilReady(brokers, timeoutMs, () => hasExited(child));
  if (outcome !== 'ready') {
    await stopServer(child, STOP_GRACE_MS);
    const logText = readFileSync(logFile, 'utf8');
    const logLines = lastLogLines(logFile, LOG_LINES_IN_ERRORS);
    removeRunDir();
    throw startFailure(outcome, { brokers, controllerPort, timeoutMs, child, logText, logLines, pid });
  }
  return {
    brokers,
    version,
    libsDir,
    pid,
    stop: async () => {
      await stopServer(child, STOP_GRACE_MS);
      removeRunDir();
    },
  };
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
  loggingFlag: string,
  propertiesFile: string,
): Promise<void> {
  const args = ['-Xmx256m', loggingFlag, '-cp', classpath, 'kafka.tools.StorageTool'];
  args.push('format', '-t', newClusterId(), '-c', propertiesFile);
  const result = await runCommand(javaBin, args);
  if (result.code !== 0) {
    throw new LocalStackError(
      'storage-format-failed',
      `Kafka StorageTool format failed (exit ${result.code}): a missing class means the jar folder ${classpath} is incomplete; delete it to download it again`,
      lastLines(result.output, LOG_LINES_IN_ERRORS),
    );
  }
}

type ReadyOutcome = 'ready' | 'exited' | 'timeout';

/** Polls a real admin request (describeCluster) until the broker lists itself, dies, or time runs out. */
async function waitUntilReady(
  brokers: string,
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
      if (cluster.brokers.length > 0) return 'ready';
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
      `Kafka broker (${ctx.brokers}, controller port ${ctx.controllerPort}) died during start-up (${how}): see its log below`,
      ctx.logLines,
      ctx.pid,
    );
  }
  return new LocalStackError(
    'start-timeout',
    `Kafka broker at ${ctx.brokers} did not answer an admin request within ${ctx.timeoutMs / 1000} s and was stopped: the machine may be overloaded; see its log below`,
    ctx.logLines,
    ctx.pid,
  );
}
