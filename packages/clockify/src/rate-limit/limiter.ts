import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { silentLogger, type Counter, type Histogram, type Logger, type Metrics } from '@cap/observability';
import { GCRA_SCRIPT } from './gcra.lua.js';

export interface RateLimiterOptions {
  /** Key namespace, e.g. `BULLMQ_PREFIX`. */
  readonly prefix: string;
  /** Requests per second per key (`CLOCKIFY_RATE_LIMIT_RPS`, Clockify allows 50 per workspace). */
  readonly rps?: number;
  /**
   * Fraction by which slots are spaced wider than 1/rps. A slot is a promise about when the
   * request leaves, not when Clockify counts it; without a margin, jitter between the two can put
   * rps+1 requests into one of Clockify's seconds. Default 0.05 (DEFAULT_RATE_LIMIT_HEADROOM).
   */
  readonly headroom?: number;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
}

export type AcquireResult =
  /** A slot is reserved `waitMs` from now (`at` on Redis's clock, epoch ms): sleep, then send. */
  | { readonly granted: true; readonly waitMs: number; readonly at: number }
  /** Nothing reserved; the next slot is `retryInMs` away. Re-schedule instead of waiting. */
  | { readonly granted: false; readonly retryInMs: number };

export const DEFAULT_RATE_LIMIT_RPS = 50;
/**
 * Slots are spaced this much wider than 1/rps. A slot says when a request leaves; Clockify counts
 * when it arrives, and event-loop stalls on a busy host and the network bunch requests. Spaced by
 * (1 + h)/rps, no second of Clockify's holds more than rps requests while no request is later than
 * h seconds: 50 ms at 50 rps. Why 5 % and not 2 %
 * (measured: see bench/bootstrap/README.md, section "Limiter headroom").
 */
export const DEFAULT_RATE_LIMIT_HEADROOM = 0.05;

const MAX_KEY_LENGTH = 200;
const MAX_BLOCK_MS = 24 * 60 * 60 * 1000;
const WAIT_BUCKETS = [0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const SCRIPT_SHA = createHash('sha1').update(GCRA_SCRIPT).digest('hex');

type ScriptReply = [granted: string, waitUs: string, slotUs: string, nowUs: string];

/**
 * Per-key GCRA on Redis, shared by every process: each key (a workspace id) gets at most `rps`
 * requests per second with no burst, however many workers call. `acquire` never blocks: it
 * reserves a slot a short wait ahead, or says how long until one is free.
 */
export class RateLimiter {
  readonly rps: number;
  /** Spacing between two slots of one key, in ms. */
  readonly intervalMs: number;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #intervalUs: number;
  readonly #log: Logger;
  readonly #waits: Histogram<never> | undefined;
  readonly #deferrals: Counter<never> | undefined;
  readonly #blocks: Counter<never> | undefined;

  constructor(redis: Redis, options: RateLimiterOptions) {
    const rps = options.rps ?? DEFAULT_RATE_LIMIT_RPS;
    const headroom = options.headroom ?? DEFAULT_RATE_LIMIT_HEADROOM;
    if (!Number.isFinite(rps) || rps <= 0) throw new RangeError('rps must be a positive number');
    if (!Number.isFinite(headroom) || headroom < 0 || headroom >= 1) throw new RangeError('headroom must be in [0, 1)');
    if (options.prefix === '') throw new RangeError('prefix must not be empty');
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.rps = rps;
    this.#intervalUs = Math.ceil((1_000_000 / rps) * (1 + headroom));
    this.intervalMs = this.#intervalUs / 1000;
    this.#log = options.logger ?? silentLogger();
    const m = options.metrics;
    this.#waits = m?.histogram(
      'clockify_rate_limit_wait_seconds',
      'Wait until the reserved slot of granted rate-limiter requests',
      [],
      WAIT_BUCKETS,
    );
    this.#deferrals = m?.counter(
      'clockify_rate_limit_deferrals_total',
      'Rate-limiter requests refused because the next slot was further away than the caller would wait',
    );
    this.#blocks = m?.counter('clockify_rate_limit_blocks_total', 'Keys blocked after Clockify answered 429');
  }

  /** Reserves the next slot of `key` if it is at most `maxWaitMs` away. */
  async acquire(key: string, opts: { maxWaitMs: number }): Promise<AcquireResult> {
    if (!Number.isFinite(opts.maxWaitMs) || opts.maxWaitMs < 0) throw new RangeError('maxWaitMs must be >= 0');
    const [granted, waitUs, slotUs] = await this.#run(
      key,
      'acquire',
      this.#intervalUs,
      Math.floor(opts.maxWaitMs * 1000),
    );
    const waitMs = Number(waitUs) / 1000;
    if (granted === '1') {
      this.#waits?.observe(waitMs / 1000);
      return { granted: true, waitMs, at: Number(slotUs) / 1000 };
    }
    this.#deferrals?.inc();
    return { granted: false, retryInMs: waitMs };
  }

  /** After a 429: no slot of `key` is granted before now + `ms`. Never shortens an existing wait. */
  async block(key: string, ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('block length must be >= 0');
    const bounded = Math.min(ms, MAX_BLOCK_MS);
    await this.#run(key, 'block', Math.ceil(bounded * 1000));
    this.#blocks?.inc();
    this.#log.info({ key, blockMs: bounded }, 'rate limiter blocked key after 429');
  }

  /** How long until `key`'s next free slot (0 when it could send now); for status pages. */
  async blockedForMs(key: string): Promise<number> {
    const [, waitUs] = await this.#run(key, 'peek');
    return Number(waitUs) / 1000;
  }

  /** The Redis key holding `key`'s schedule. */
  redisKey(key: string): string {
    return `${this.#prefix}:ratelimit:${key}`;
  }

  async #run(key: string, op: 'acquire' | 'block' | 'peek', ...args: number[]): Promise<ScriptReply> {
    if (key === '' || key.length > MAX_KEY_LENGTH)
      throw new RangeError(`limiter key must be 1–${MAX_KEY_LENGTH} characters`);
    const argv = [op, ...args.map(String)];
    let reply: unknown;
    try {
      reply = await this.#redis.evalsha(SCRIPT_SHA, 1, this.redisKey(key), ...argv);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      // First use on this server (or after SCRIPT FLUSH / a restart): EVAL also caches it.
      reply = await this.#redis.eval(GCRA_SCRIPT, 1, this.redisKey(key), ...argv);
    }
    if (!Array.isArray(reply) || reply.length !== 4) throw new Error('unexpected reply from the rate-limiter script');
    return reply as ScriptReply;
  }
}
