import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle.js';

describe('LoginThrottle', () => {
  it('blocks a client after its failures until the window ends, and forgets the oldest beyond its bound', () => {
    let now = 1_000;
    const t = new LoginThrottle(2, 10_000, () => now, 2);
    expect(t.fail('a')).toBe(false);
    expect(t.blockedFor('a')).toBe(0);
    expect(t.fail('a')).toBe(true);
    expect(t.blockedFor('a')).toBe(10_000);
    now += 4_000;
    expect(t.blockedFor('a')).toBe(6_000);
    expect(t.blockedFor('b')).toBe(0);
    now += 6_000;
    expect(t.blockedFor('a')).toBe(0);
    t.fail('x');
    t.fail('y');
    t.fail('z');
    t.fail('x');
    // x was forgotten when z arrived (bound 2): one failure since, not two.
    expect(t.blockedFor('x')).toBe(0);
  });
});
