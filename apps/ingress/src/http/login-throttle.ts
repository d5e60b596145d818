/**
 * Failed admin logins per client address in a fixed window. After `maxFailures` failures inside
 * `windowMs`, the client is blocked until its window ends: the password is not even checked,
 * so guessing cannot go on. Kept in memory per process (bounded: the oldest clients are forgotten
 * first); with several ingress replicas each keeps its own counts, so a client gets at most
 * `maxFailures` guesses per window per replica.
 */
export class LoginThrottle {
  private readonly clients = new Map<string, { failures: number; windowEnds: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxClients = 10_000,
  ) {}

  /** Milliseconds until `client` may try again, or 0 when it may try now. */
  blockedFor(client: string): number {
    const entry = this.clients.get(client);
    if (!entry) return 0;
    const now = this.now();
    if (now >= entry.windowEnds) {
      this.clients.delete(client);
      return 0;
    }
    return entry.failures >= this.maxFailures ? entry.windowEnds - now : 0;
  }

  /** Counts a failed login; returns true when this failure is the one that blocks the client. */
  fail(client: string): boolean {
    const now = this.now();
    let entry = this.clients.get(client);
    if (!entry || now >= entry.windowEnds) {
      entry = { failures: 0, windowEnds: now + this.windowMs };
      this.clients.delete(client);
      this.clients.set(client, entry);
      while (this.clients.size > this.maxClients) {
        const oldest = this.clients.keys().next();
        if (oldest.done === true) break;
        this.clients.delete(oldest.value);
      }
    }
    entry.failures++;
    return entry.failures === this.maxFailures;
  }
}
