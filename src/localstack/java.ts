import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LocalStackError } from './errors';

const MINIMUM_JAVA = 17;
const INSTALL_HINT = 'install a JDK 17+ (apt-get install -y openjdk-17-jdk-headless) or set JAVA_HOME';

/** The java binary to use: $JAVA_HOME/bin/java when JAVA_HOME is set, else `java` from PATH. */
export function defaultJavaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Checks that `javaBin` runs and is Java 17 or newer; returns its major version. */
export function checkJava(javaBin: string): number {
  const result = spawnSync(javaBin, ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new LocalStackError(
      'java-missing',
      `Java not found (${javaBin}: ${result.error.message}): ${INSTALL_HINT}`,
    );
  }
  // `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15` (or "1.8.0_392" for Java 8) on stderr
  const match = /version "(?:1\.)?(\d+)/.exec(`${result.stderr}${result.stdout}`);
  const major = match?.[1] ? Number(match[1]) : NaN;
  if (result.status !== 0 || Number.isNaN(major)) {
    throw new LocalStackError(
      'java-missing',
      `Java at ${javaBin} did not report its version (exit ${result.status}): ${INSTALL_HINT}`,
      `${result.stderr}`.trim().split('\n'),
    );
  }
  if (major < MINIMUM_JAVA) {
    throw new LocalStackError(
      'java-missing',
      `Java ${major} found at ${javaBin}, but Kafka needs Java 17+: ${INSTALL_HINT}`,
    );
  }
  return major;
}
