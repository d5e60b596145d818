export interface RateLimitOptions {
  /** Requests allowed in any window; Clockify's add-on limit is 50 per second per workspace. */
  readonly limit?: number;
  readonly windowMs?: number;
}

/**
 * A sliding-window log: a request is admitted only if fewer than `limit` admitted requests lie in
 * the `windowMs` before it, so no window of that length, wherever it starts, ever holds more than
 * `limit` admitted requests. Rejected requests are not logged (a client that backs off recovers).
 */
export class SlidingWindowLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly logs = new Map<string, number[]>();
  private readonly peaks = new Map<string, number>();
  private readonly now: () => number;

  constructor(options: RateLimitOptions = {}, now: () => number = () => performance.now()) {
    this.limit = options.limit ?? 50;
    this.windowMs = options.windowMs ?? 1000;
    if (!Number.isInteger(this.limit) || this.limit < 1) throw new Error('rate limit must be a positive integer');
    if (!(this.windowMs > 0)) throw new Error('rate limit window must be positive');
    this.now = now;
  }

  /** Admits (and logs) the request or returns how long until one would be admitted. */
  take(key: string): { allowed: true } | { allowed: false; retryAfterMs: number } {
    const now = this.now();
    let log = this.logs.get(key);
    if (!log) {
      log = [];
      this.logs.set(key, log);
    }
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < log.length && (log[drop] as number) <= cutoff) drop++;
    if (drop > 0) log.splice(0, drop);
    if (log.length >= this.limit) {
      return { allowed: false, retryAfterMs: Math.max(1, Math.ceil((log[0] as number) + this.windowMs - now)) };
    }
    log.push(now);
    if (log.length > (this.peaks.get(key) ?? 0)) this.peaks.set(key, log.length);
    return { allowed: true };
  }

  /** The most admitted requests seen inside one window, per key. */
  peak(key: string): number {
    return this.peaks.get(key) ?? 0;
  }

  /** Forgets the peaks (the window logs stay, so limiting stays exact across a stats reset). */
  resetPeaks(): void {
    this.peaks.clear();
  }

  reset(): void {
    this.logs.clear();
    this.peaks.clear();
  }
}
