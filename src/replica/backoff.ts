/** Reconnect policy: exponential backoff with jitter, bounded attempts (0 = forever). */
export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
}

export class Backoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** Delay before the next attempt, or null when the policy gives up. */
  next(): number | null {
    this.attempts++;
    if (this.options.maxAttempts > 0 && this.attempts > this.options.maxAttempts) return null;
    const base = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** (this.attempts - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** A successful sync resets the policy. */
  reset(): void {
    this.attempts = 0;
  }
}
