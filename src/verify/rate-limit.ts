/**
 * Spreads key reads over time: at most `perSecond` keys a second on average, a batch at a time.
 * 0 = no limit.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class RateLimiter {
  /** when the next batch may start */
  private nextStartMs = 0;

  constructor(
    private readonly perSecond: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Waits until `keys` more keys may be read. */
  async take(keys: number): Promise<void> {
    if (this.perSecond <= 0 || keys <= 0) return;
    const now = this.clock.now();
    const start = Math.max(now, this.nextStartMs);
    this.nextStartMs = start + (keys * 1000) / this.perSecond;
    if (start > now) await this.clock.sleep(start - now);
  }
}
