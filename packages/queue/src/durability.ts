import type { Redis } from 'ioredis';
import { createProducerConnection, infoField } from './connections.js';
import { withDeadline } from './deadline.js';

/**
 * How the ingress can know that a job it added survives a Redis crash, decided once at start from
 * what the server reports:
 * - `fsync`: AOF with `appendfsync always`; a write's reply already means it is on disk.
 * - `waitaof`: AOF on Redis ≥ 7.2; `WAITAOF 1 0` confirms the local fsync (≤ 1 s with `everysec`).
 * - `replica`: no AOF confirmation (AOF off or Redis < 7.2) but replicas are connected; `WAIT 1`
 *   confirms that one replica holds the write.
 * - `none`: nothing can confirm it; a Redis crash may lose the last writes (warned at start).
 */
export type DurabilityMode = 'fsync' | 'waitaof' | 'replica' | 'none';

export interface Durability {
  readonly mode: DurabilityMode;
  /** Why, for the start-up log. */
  readonly detail: string;
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

export async function detectDurability(redis: Redis): Promise<Durability> {
  if (redis.isCluster) {
    // WAIT and WAITAOF confirm the node they run on, and a cluster routes them to any node.
    return {
      mode: 'none',
      detail: 'on Redis Cluster the ingress cannot confirm a write durable yet: run the nodes with appendfsync always',
    };
  }
  const info = await redis.info();
  const field = (name: string) => infoField(info, name);
  const version = field('redis_version') ?? '0';
  const aof = field('aof_enabled') === '1';
  const replicas = Number(field('connected_slaves') ?? 0);
  let fsync: string | undefined;
  try {
    // Managed Redis services may refuse CONFIG; then the policy is unknown and not relied on.
    const [, value] = (await redis.config('GET', 'appendfsync')) as [string, string];
    fsync = value;
  } catch {
    fsync = undefined;
  }
  if (aof && fsync === 'always') return { mode: 'fsync', detail: 'AOF with appendfsync always' };
  if (aof && versionAtLeast(version, 7, 2)) return { mode: 'waitaof', detail: `AOF on Redis ${version} (WAITAOF)` };
  if (replicas > 0) return { mode: 'replica', detail: `${replicas} connected replica(s) (WAIT)` };
  return {
    mode: 'none',
    detail: aof
      ? `Redis ${version} cannot confirm an AOF write (WAITAOF needs 7.2) and has no replica: a crash can lose the last second of writes (use appendfsync always, Redis ≥ 7.2 or a replica)`
      : 'AOF is off and no replica is connected: a Redis crash loses what it held',
  };
}

function waitsFor(mode: DurabilityMode): boolean {
  return mode === 'waitaof' || mode === 'replica';
}

/**
 * Detects what Redis can confirm (through `probe`) and opens the barrier, with a connection of its
 * own when there is something to wait for.
 */
export async function openDurabilityBarrier(opts: {
  readonly url: string;
  readonly probe: Redis;
  /** The key each round increments (under the BullMQ prefix). */
  readonly key: string;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
}): Promise<DurabilityBarrier> {
  const durability = await detectDurability(opts.probe);
  const connection = waitsFor(durability.mode)
    ? createProducerConnection({
        url: opts.url,
        name: 'durability-barrier',
        commandTimeoutMs: opts.timeoutMs + 1000,
        connectTimeoutMs: opts.connectTimeoutMs,
      })
    : undefined;
  // The connection queues nothing while offline: a confirmation asked before it is ready would
  // fail at once ("Stream isn't writeable"). Wait for it, within the connect timeout; past that,
  // confirmations fail as NotDurableError until it connects, as after any disconnect.
  if (connection && connection.status !== 'ready') {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        connection.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, opts.connectTimeoutMs);
      connection.once('ready', done);
    });
  }
  return new DurabilityBarrier(connection, durability, opts.key, opts.timeoutMs);
}

export class NotDurableError extends Error {
  override name = 'NotDurableError';
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A round's failure is reported to each waiter; an unobserved one must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Confirms that writes already answered by Redis are durable, for many requests at once.
 *
 * WAITAOF and WAIT confirm the writes of the connection they run on, so a *round* first writes on
 * the barrier's own connection (INCR of one key) and then waits on it: the AOF and the replication
 * stream are in order, so once that write is on disk (or on a replica), so is every write Redis
 * answered before it, on any connection. A caller whose add was answered joins the next round to
 * start; rounds run one at a time, so concurrent callers share one fsync wait.
 *
 * The connection must be the barrier's alone: WAITAOF and WAIT block it while they wait.
 */
export class DurabilityBarrier {
  private running = false;
  private next: Deferred | undefined;

  constructor(
    /** The barrier's own connection; none when there is nothing to wait for. */
    private readonly redis: Redis | undefined,
    readonly durability: Durability,
    private readonly key: string,
    private readonly timeoutMs: number,
  ) {}

  async close(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }

  /** Whether a confirmation is a real wait (false: nothing to wait for, or nothing can confirm). */
  get waits(): boolean {
    return this.redis !== undefined && waitsFor(this.durability.mode);
  }

  /**
   * Resolves once every write Redis answered before this call is durable; rejects with
   * NotDurableError when that is not confirmed within the timeout.
   */
  confirm(): Promise<void> {
    if (!this.waits) return Promise.resolve();
    this.next ??= deferred();
    const { promise } = this.next;
    if (!this.running) void this.round();
    return promise;
  }

  private async round(): Promise<void> {
    this.running = true;
    while (this.next) {
      const waiters = this.next;
      this.next = undefined;
      try {
        await this.barrier();
        waiters.resolve();
      } catch (err) {
        waiters.reject(err);
      }
    }
    this.running = false;
  }

  private async barrier(): Promise<void> {
    const pipeline = this.redis!.pipeline().incr(this.key);
    if (this.durability.mode === 'waitaof') pipeline.call('WAITAOF', 1, 0, this.timeoutMs);
    else pipeline.call('WAIT', 1, this.timeoutMs);
    // The server's own timeout plus a margin: an unreachable Redis must not hold callers.
    const results = await withDeadline(pipeline.exec(), this.timeoutMs + 1000, 'Redis').catch((err: unknown) => {
      throw new NotDurableError(`the durability check got no answer: ${(err as Error).message}`);
    });
    const [, waited] = results ?? [];
    if (!waited || waited[0])
      throw new NotDurableError(`the durability check failed: ${String(waited?.[0] ?? 'no reply')}`);
    const confirmed = this.durability.mode === 'waitaof' ? (waited[1] as number[])[0] : (waited[1] as number);
    if (!confirmed || confirmed < 1) {
      throw new NotDurableError(
        this.durability.mode === 'waitaof'
          ? `the AOF was not written to disk within ${this.timeoutMs} ms`
          : `no replica acknowledged the write within ${this.timeoutMs} ms`,
      );
    }
  }
}
