import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from './rate-limit.js';

function limiterAt(limit: number, windowMs: number) {
  let now = 0;
  const limiter = new SlidingWindowLimiter({ limit, windowMs }, () => now);
  return { limiter, at: (t: number) => (now = t) };
}

describe('SlidingWindowLimiter', () => {
  it('never admits more than the limit in any window, wherever the window starts', () => {
    const { limiter, at } = limiterAt(50, 1000);
    // 30 requests late in one second and 30 early in the next: a fixed-window counter would
    // admit all 60 within 200 ms; a sliding window admits only 50.
    let admitted = 0;
    for (let i = 0; i < 30; i++) {
      at(900 + i);
      if (limiter.take('ws').allowed) admitted++;
    }
    for (let i = 0; i < 30; i++) {
      at(1000 + i);
      if (limiter.take('ws').allowed) admitted++;
    }
    expect(admitted).toBe(50);
    expect(limiter.peak('ws')).toBe(50);
  });

  it('admits again as old requests leave the window and says when', () => {
    const { limiter, at } = limiterAt(3, 1000);
    at(0);
    limiter.take('ws');
    at(400);
    limiter.take('ws');
    limiter.take('ws');
    at(500);
    expect(limiter.take('ws')).toEqual({ allowed: false, retryAfterMs: 500 });
    at(1000);
    expect(limiter.take('ws').allowed).toBe(true);
    expect(limiter.take('ws').allowed).toBe(false);
    at(1400);
    expect(limiter.take('ws').allowed).toBe(true);
  });

  it('keeps workspaces apart and does not log rejected requests', () => {
    const { limiter, at } = limiterAt(1, 1000);
    at(0);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('b').allowed).toBe(true);
    for (let t = 100; t < 1000; t += 100) {
      at(t);
      expect(limiter.take('a').allowed).toBe(false);
    }
    at(1000);
    expect(limiter.take('a').allowed).toBe(true);
  });
});
