/**
 * Why a local Kafka or Redis could not be started. `reason` lets callers (and tests) tell the cases
 * apart; `logLines` holds the server's last log lines, which are also part of the message.
 */
export type LocalStackFailure =
  | 'java-missing'
  | 'maven-missing'
  | 'jar-download-failed'
  | 'storage-format-failed'
  | 'port-in-use'
  | 'server-exited'
  | 'start-timeout'
  | 'redis-missing'
  | 'redis-install-failed'
  | 'dragonfly-missing';

export class LocalStackError extends Error {
  constructor(
    readonly reason: LocalStackFailure,
    summary: string,
    readonly logLines: string[] = [],
    /** process id of the server that failed, so callers can check it is gone */
    readonly pid?: number,
  ) {
    super(logLines.length > 0 ? `${summary}\n--- last log lines ---\n${logLines.join('\n')}` : summary);
    this.name = 'LocalStackError';
  }
}
