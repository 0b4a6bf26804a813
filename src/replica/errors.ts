/**
 * A replication failure, always naming the master and (where it applies) the flow, plus what the
 * user can do about it. `retryable` = false for problems retrying cannot fix without a change by the
 * user (wrong password, not a Dragonfly); the session still backs off before trying again.
 */
export class ReplicationError extends Error {
  readonly master: string;
  readonly flowId: number | undefined;
  readonly retryable: boolean;

  constructor(details: {
    master: string;
    message: string;
    flowId?: number;
    hint?: string;
    retryable?: boolean;
  }) {
    const flow = details.flowId === undefined ? '' : ` flow ${details.flowId}`;
    const hint = details.hint ? ` — ${details.hint}` : '';
    super(`master ${details.master}${flow}: ${details.message}${hint}`);
    this.name = 'ReplicationError';
    this.master = details.master;
    this.flowId = details.flowId;
    this.retryable = details.retryable ?? true;
  }
}
