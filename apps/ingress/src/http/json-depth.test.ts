import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from './json-depth.js';

const nested = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);

describe('jsonDepthExceeds', () => {
  it('counts arrays and objects, exactly at the limit and one past it', () => {
    expect(jsonDepthExceeds({}, 1)).toBe(false);
    expect(jsonDepthExceeds({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(jsonDepthExceeds({ a: [{ b: 1 }] }, 2)).toBe(true);
    expect(jsonDepthExceeds(nested(64), 64)).toBe(false);
    expect(jsonDepthExceeds(nested(65), 64)).toBe(true);
    // Siblings do not add up: depth, not count.
    expect(jsonDepthExceeds([Array.from({ length: 1000 }, () => [1])], 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[', 1)).toBe(false);
  });

  it('measures a hostile body 100 000 levels deep without recursion', () => {
    expect(jsonDepthExceeds(nested(100_000), 64)).toBe(true);
    expect(jsonDepthExceeds({ a: { b: nested(100_000) } }, 1000)).toBe(true);
  });
});
