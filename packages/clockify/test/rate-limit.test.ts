import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Metrics } from '@cap/observability';
import { deleteRedisPrefix, testRedisUrl, uniquePrefix, waitFor } from '@cap/testing';
import { RateLimiter } from '../src/index.js';

/**
 * The shared limiter on a real Redis. "Clients" are independent RateLimiter instances on their
 * own connections, as separate worker processes would be. Send times are the reserved slots
 * (`at`: grant time + wait on Redis's clock), which is when a caller that sleeps `waitMs` sends.
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let connections: Redis[];
let prefix: string;

beforeAll(() => {
  connections = [0, 1, 2].map(() => new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 }));
});

afterAll(() => {
  for (const c of connections) c.disconnect();
});

beforeEach(() => {
  prefix = uniquePrefix('ratelimit');
});

afterEach(async () => {
  await deleteRedisPrefix(testRedisUrl(), prefix);
});

function limiters(options: { rps: number; metrics?: Metrics }): RateLimiter[] {
  return connections.map((redis) => new RateLimiter(redis, { prefix, ...options }));
}

async function redisNowMs(): Promise<number> {
  const [sec, usec] = await connections[0]!.time();
  return Number(sec) * 1000 + Number(usec) / 1000;
}

/** Callers on each limiter acquire-and-sleep in a loop for `durationMs`; returns every reserved slot. */
async function hammer(all: RateLimiter[], key: string, durationMs: number, loopsPerClient = 6): Promise<number[]> {
  const slots: number[] = [];
  const end = Date.now() + durationMs;
  const loop = async (limiter: RateLimiter) => {
    while (Date.now() < end) {
      const r = await limiter.acquire(key, { maxWaitMs: 500 });
      if (r.granted) {
        slots.push(r.at);
        await sleep(Math.ceil(r.waitMs));
      } else {
        await sleep(Math.min(20, Math.ceil(r.retryInMs)));
      }
    }
  };
  await Promise.all(all.flatMap((limiter) => Array.from({ length: loopsPerClient }, () => loop(limiter))));
  return slots.sort((a, b) => a - b);
}

/** Most slots inside any half-open window [t, t + 1000). */
function maxInAnySecond(sorted: readonly number[]): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** Slots per second over the middle of the run (the first 2.5 s after the first slot). */
function rate(sorted: readonly number[], spanMs = 2500): number {
  const start = sorted[0]!;
  return sorted.filter((t) => t >= start && t < start + spanMs).length / (spanMs / 1000);
}

describe('RateLimiter under load (three clients, one Redis)', () => {
  it('never lets more than 50 requests into any second of one workspace, and still reaches 90% of 50 rps', async () => {
    const slots = await hammer(limiters({ rps: 50 }), 'ws-shared', 3000);
    expect(maxInAnySecond(slots)).toBeLessThanOrEqual(50);
    expect(rate(slots)).toBeGreaterThanOrEqual(45);
    // Consecutive slots are never closer than the emission interval with headroom (21 ms).
    const gaps = slots.slice(1).map((t, i) => t - slots[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(21 - 0.002);
  });

  it('keeps workspaces independent: two keys used at once each reach 90%', async () => {
    const all = limiters({ rps: 50 });
    const [a, b] = await Promise.all([hammer(all, 'ws-a', 3000, 4), hammer(all, 'ws-b', 3000, 4)]);
    for (const slots of [a, b]) {
      expect(maxInAnySecond(slots)).toBeLessThanOrEqual(50);
      expect(rate(slots)).toBeGreaterThanOrEqual(45);
    }
  });
});

describe('RateLimiter semantics', () => {
  it('spaces the slots of one key by the interval and leaves other keys alone', async () => {
    const [limiter] = limiters({ rps: 10 }); // interval 105 ms with the default 5% headroom
    expect(limiter!.intervalMs).toBeCloseTo(105, 3);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await limiter!.acquire('ws-1', { maxWaitMs: 1000 });
      if (!r.granted) throw new Error('expected a grant');
      waits.push(r.waitMs);
    }
    expect(waits[0]).toBe(0);
    expect(waits[1]).toBeGreaterThan(90);
    expect(waits[1]).toBeLessThanOrEqual(105);
    expect(waits[2]).toBeGreaterThan(190);
    expect(waits[2]).toBeLessThanOrEqual(210);
    const other = await limiter!.acquire('ws-2', { maxWaitMs: 0 });
    expect(other).toMatchObject({ granted: true, waitMs: 0 });
  });

  it('grants nothing before the end of a block', async () => {
    const [limiter] = limiters({ rps: 10 });
    const before = await redisNowMs();
    await limiter!.block('ws-blocked', 500);
    const r = await limiter!.acquire('ws-blocked', { maxWaitMs: 2000 });
    if (!r.granted) throw new Error('expected a grant');
    expect(r.at).toBeGreaterThanOrEqual(before + 500);
    expect(r.waitMs).toBeGreaterThan(400);
    expect(await limiter!.blockedForMs('ws-blocked')).toBeGreaterThan(r.waitMs);
  });

  it('never shortens a block with a shorter one', async () => {
    const [limiter] = limiters({ rps: 10 });
    await limiter!.block('ws-long', 3000);
    await limiter!.block('ws-long', 100);
    expect(await limiter!.blockedForMs('ws-long')).toBeGreaterThan(2800);
  });

  it('defers without reserving anything when the wait exceeds maxWaitMs', async () => {
    const metrics = new Metrics({ app: 'rl-test', defaultMetrics: false });
    const [limiter, otherClient] = limiters({ rps: 10, metrics });
    await limiter!.block('ws-busy', 500);
    const blocked = await limiter!.blockedForMs('ws-busy');

    for (let i = 0; i < 5; i++) {
      const r = await otherClient!.acquire('ws-busy', { maxWaitMs: 100 });
      expect(r.granted).toBe(false);
      if (!r.granted) {
        expect(r.retryInMs).toBeGreaterThan(300);
        expect(r.retryInMs).toBeLessThanOrEqual(500);
      }
    }
    // Five refusals moved nothing: the schedule only aged.
    expect(await limiter!.blockedForMs('ws-busy')).toBeLessThanOrEqual(blocked);
    const granted = await limiter!.acquire('ws-busy', { maxWaitMs: 1000 });
    expect(granted.granted).toBe(true);
    if (granted.granted) expect(granted.waitMs).toBeLessThanOrEqual(blocked);

    const text = (await metrics.render()).body;
    expect(text).toMatch(/clockify_rate_limit_deferrals_total\{app="rl-test"\} 5/);
    expect(text).toMatch(/clockify_rate_limit_blocks_total\{app="rl-test"\} 1/);
    expect(text).toMatch(/clockify_rate_limit_wait_seconds_count\{app="rl-test"\} 1/);
  });

  it('reports 0 for a key it has never seen, and lets an idle key vanish', async () => {
    const [limiter] = limiters({ rps: 10 });
    expect(await limiter!.blockedForMs('ws-fresh')).toBe(0);
    await limiter!.acquire('ws-idle', { maxWaitMs: 0 });
    const key = limiter!.redisKey('ws-idle');
    expect(key).toBe(`${prefix}:ratelimit:ws-idle`);
    const ttl = await connections[0]!.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(106);
    await waitFor(async () => (await connections[0]!.exists(key)) === 0, {
      timeoutMs: 2000,
      message: 'idle key expiry',
    });
  });

  it('rejects nonsense options and keys', async () => {
    const redis = connections[0]!;
    expect(() => new RateLimiter(redis, { prefix, rps: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter(redis, { prefix, rps: 50, headroom: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter(redis, { prefix: '', rps: 50 })).toThrow(RangeError);
    const limiter = new RateLimiter(redis, { prefix, rps: 50 });
    await expect(limiter.acquire('', { maxWaitMs: 0 })).rejects.toThrow(RangeError);
    await expect(limiter.acquire('ws', { maxWaitMs: -1 })).rejects.toThrow(RangeError);
    await expect(limiter.block('ws', Number.NaN)).rejects.toThrow(RangeError);
  });
});
