import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS, parseRetryAfter } from './retry.js';
import { buildQuery, fillPath, joinUrl, normalizeBaseUrl } from './url.js';

describe('base URLs and joining', () => {
  it.each([
    ['https://api.clockify.me/api', 'https://api.clockify.me/api'],
    ['https://api.clockify.me/api/', 'https://api.clockify.me/api'],
    ['https://api.clockify.me/api//', 'https://api.clockify.me/api'],
    ['https://api.clockify.me/api/v1', 'https://api.clockify.me/api'],
    ['https://api.clockify.me/api/v1/', 'https://api.clockify.me/api'],
    ['https://reports.api.clockify.me', 'https://reports.api.clockify.me'],
    ['https://reports.api.clockify.me/', 'https://reports.api.clockify.me'],
    ['https://euc1.clockify.me/report', 'https://euc1.clockify.me/report'],
    ['HTTPS://API.Clockify.me/api', 'https://api.clockify.me/api'],
  ])('normalizes %s to %s', (raw, expected) => {
    expect(normalizeBaseUrl(raw)).toBe(expected);
  });

  it('never produces /api/v1/v1, whatever slashes either side carries', () => {
    for (const base of [
      'https://api.clockify.me/api',
      'https://api.clockify.me/api/',
      'https://api.clockify.me/api/v1/',
    ]) {
      for (const path of ['/v1/workspaces/w1/users', 'v1/workspaces/w1/users']) {
        expect(joinUrl(normalizeBaseUrl(base), path)).toBe('https://api.clockify.me/api/v1/workspaces/w1/users');
      }
    }
  });

  it('refuses bases that are not absolute or carry a query', () => {
    expect(() => normalizeBaseUrl('api.clockify.me/api')).toThrow(TypeError);
    expect(() => normalizeBaseUrl('https://api.clockify.me/api?x=1')).toThrow(/query/);
    expect(() => normalizeBaseUrl('https://api.clockify.me/api#top')).toThrow(/fragment/);
  });
});

describe('path parameters', () => {
  it('encodes values so they stay inside one segment', () => {
    expect(
      fillPath('/v1/workspaces/{workspaceId}/projects/{projectId}/tasks', { workspaceId: 'w1', projectId: 'a/b?c#d' }),
    ).toBe('/v1/workspaces/w1/projects/a%2Fb%3Fc%23d/tasks');
  });

  it('refuses missing, empty and dot-segment values, which would address another resource', () => {
    expect(() => fillPath('/v1/workspaces/{workspaceId}', {})).toThrow(/workspaceId is missing/);
    for (const value of ['', '.', '..']) {
      expect(() =>
        fillPath('/v1/workspaces/{workspaceId}/projects/{projectId}', { workspaceId: 'w', projectId: value }),
      ).toThrow(/unusable/);
    }
  });
});

describe('query strings', () => {
  it('repeats arrays, prints booleans and numbers, and skips undefined', () => {
    expect(buildQuery({ 'include-roles': true, page: 2, tags: ['a', 'b'], name: undefined, x: null })).toBe(
      '?include-roles=true&page=2&tags=a&tags=b',
    );
    expect(buildQuery({ start: '2024-01-01T00:00:00Z', q: 'a b&c' })).toBe('?start=2024-01-01T00%3A00%3A00Z&q=a+b%26c');
    expect(buildQuery(undefined)).toBe('');
    expect(buildQuery({})).toBe('');
  });

  it('refuses nested objects instead of sending [object Object]', () => {
    expect(() => buildQuery({ filter: { a: 1 } })).toThrow(/filter/);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');

  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0.5 ', now)).toBe(500);
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:07 GMT', now)).toBe(7000);
  });

  it('treats absent and garbage values as the default, and past dates as now', () => {
    expect(parseRetryAfter(null, now)).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(parseRetryAfter('', now)).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon', now)).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(parseRetryAfter('-5', now)).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
  });

  it('caps absurd waits', () => {
    expect(parseRetryAfter('99999999', now)).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('backoff', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    expect(backoffDelayMs(0, 250, 8000, () => 0.999)).toBe(249);
    expect(backoffDelayMs(3, 250, 8000, () => 0.999)).toBe(1998);
    expect(backoffDelayMs(10, 250, 8000, () => 0.999)).toBe(7992);
    expect(backoffDelayMs(3, 250, 8000, () => 0)).toBe(0);
  });
});
