import { describe, expect, it } from 'vitest';
import { ExpiringLru } from './lru.js';

describe('ExpiringLru', () => {
  it('evicts the least recently used entry, where a read counts as use', () => {
    const lru = new ExpiringLru<number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(lru.size).toBe(2);
  });

  it('drops an entry at its expiry time and never stores one already expired', () => {
    let now = 1_000;
    const lru = new ExpiringLru<string>(10, () => now);
    lru.set('x', 'value', 2_000);
    lru.set('stale', 'value', 1_000);
    expect(lru.get('stale')).toBeUndefined();
    now = 1_999;
    expect(lru.get('x')).toBe('value');
    now = 2_000;
    expect(lru.get('x')).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('stores nothing when its size is 0, and refuses a nonsensical size', () => {
    const lru = new ExpiringLru<number>(0);
    lru.set('a', 1);
    expect(lru.get('a')).toBeUndefined();
    expect(() => new ExpiringLru(-1)).toThrow(RangeError);
    expect(() => new ExpiringLru(1.5)).toThrow(RangeError);
  });
});
