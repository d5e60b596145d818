import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, Metrics } from '@cap/observability';
import { deleteRedisPrefix, freePort, testRedisUrl, uniquePrefix } from '@cap/testing';
import {
  ClockifyApiError,
  ClockifyClient,
  ClockifyPermissionError,
  HostNotAllowedError,
  PaginationError,
  RateLimitDeferredError,
  RateLimitedError,
  RateLimiter,
  type ClockifyClientOptions,
  type Page,
} from '../src/index.js';

/**
 * The client against a real HTTP server on port 0. The handlers below are a minimal stand-in
 * for Clockify's HTTP behaviour in each case (status, headers, bodies); the full mock API lives
 * in apps/simulator.
 */

interface Received {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly at: number;
}
type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

// Not JWT-shaped on purpose: the logger's pattern-based redaction must not be what hides it.
const TOKEN = 'plain-installation-token-7f3a9c1e5b2d4f60';
const WS = 'ws0001';

let server: Server;
let base: string;
let handler: Handler;
let received: Received[];
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push({
      method: req.method ?? '',
      url: new URL(req.url ?? '/', 'http://x'),
      headers: req.headers,
      at: performance.now(),
    });
    handler(req, res, received.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  redis.disconnect();
});

beforeEach(() => {
  received = [];
  handler = (_req, res) => json(res, 200, []);
  prefix = uniquePrefix('apiclient');
});

afterEach(async () => {
  await deleteRedisPrefix(testRedisUrl(), prefix);
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function items(page: number, count: number): { id: string; name: string }[] {
  return Array.from({ length: count }, (_, i) => ({ id: `p${page}-${i}`, name: `item ${page}.${i}` }));
}

function makeClient(overrides: Partial<ClockifyClientOptions> = {}): ClockifyClient {
  return new ClockifyClient({
    baseUrl: base,
    token: TOKEN,
    workspaceId: WS,
    allowedHosts: ['127.0.0.1'],
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    ...overrides,
  });
}

function recordingSleep(): { sleeps: number[]; sleep: (ms: number) => Promise<void> } {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms) => void sleeps.push(ms) };
}

async function collect<T>(pages: AsyncIterable<Page<T>>): Promise<Page<T>[]> {
  const out: Page<T>[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

const TAGS = '/v1/workspaces/{workspaceId}/tags' as const;

describe('paging', () => {
  it('follows Last-Page and sends page and page-size', async () => {
    handler = (req, res, n) => json(res, 200, items(n, 2), { 'Last-Page': n === 3 ? 'true' : 'false' });
    const pages = await collect(makeClient().paginate(TAGS, {}, { pageSize: 2 }));
    expect(pages.map((p) => [p.page, p.items.length, p.lastPage])).toEqual([
      [1, 2, false],
      [2, 2, false],
      [3, 2, true],
    ]);
    expect(
      received.map((r) => [r.url.pathname, r.url.searchParams.get('page'), r.url.searchParams.get('page-size')]),
    ).toEqual([
      ['/api/v1/workspaces/ws0001/tags', '1', '2'],
      ['/api/v1/workspaces/ws0001/tags', '2', '2'],
      ['/api/v1/workspaces/ws0001/tags', '3', '2'],
    ]);
  });

  it('stops at a short page when Last-Page is absent, and after an empty one', async () => {
    handler = (_req, res, n) => json(res, 200, items(n, n < 3 ? 3 : 1));
    const short = await collect(makeClient().paginate(TAGS, {}, { pageSize: 3 }));
    expect(short.map((p) => p.items.length)).toEqual([3, 3, 1]);
    expect(short.at(-1)!.lastPage).toBe(true);

    received = [];
    handler = (_req, res, n) => json(res, 200, items(n, n < 3 ? 3 : 0));
    const exact = await collect(makeClient().paginate(TAGS, {}, { pageSize: 3 }));
    expect(exact.map((p) => p.items.length)).toEqual([3, 3, 0]);
    expect(received).toHaveLength(3);
  });

  it('believes Last-Page: false over a short page', async () => {
    handler = (_req, res, n) => json(res, 200, items(n, 1), { 'Last-Page': n < 2 ? 'false' : 'true' });
    const pages = await collect(makeClient().paginate(TAGS, {}, { pageSize: 50 }));
    expect(pages.map((p) => p.lastPage)).toEqual([false, true]);
  });

  it('passes the operation’s own parameters along (users: include-roles, status=ALL)', async () => {
    handler = (_req, res) => json(res, 200, items(1, 1), { 'Last-Page': 'true' });
    await collect(
      makeClient().paginate('/v1/workspaces/{workspaceId}/users', {
        query: { 'include-roles': 'true', status: 'ALL' },
      }),
    );
    const q = received[0]!.url.searchParams;
    expect([q.get('include-roles'), q.get('status'), q.get('page'), q.get('page-size')]).toEqual([
      'true',
      'ALL',
      '1',
      '50',
    ]);
  });

  it('resumes from startPage', async () => {
    handler = (_req, res) => json(res, 200, items(4, 1));
    const pages = await collect(makeClient().paginate(TAGS, {}, { startPage: 4 }));
    expect(pages.map((p) => p.page)).toEqual([4]);
    expect(received[0]!.url.searchParams.get('page')).toBe('4');
  });

  it('stops with an error when the server repeats a page', async () => {
    handler = (_req, res) => json(res, 200, items(1, 2)); // ignores ?page
    const seen: number[] = [];
    const error = await failure(
      (async () => {
        for await (const page of makeClient().paginate(TAGS, {}, { pageSize: 2 })) seen.push(page.page);
      })(),
    );
    expect(error).toBeInstanceOf(PaginationError);
    expect((error as PaginationError).page).toBe(2);
    expect(seen).toEqual([1]);
    expect(received).toHaveLength(2);
  });

  it('stops with an error at the page cap instead of paging forever', async () => {
    handler = (_req, res, n) => json(res, 200, items(n, 2), { 'Last-Page': 'false' });
    const seen: number[] = [];
    const error = await failure(
      (async () => {
        for await (const page of makeClient().paginate(TAGS, {}, { pageSize: 2, maxPages: 3 })) seen.push(page.page);
      })(),
    );
    expect(error).toBeInstanceOf(PaginationError);
    expect((error as Error).message).toMatch(/cap of 3/);
    expect(seen).toEqual([1, 2, 3]);
    expect(received).toHaveLength(3);
  });
});

describe('429 handling', () => {
  it('honours Retry-After in seconds through the shared limiter, then succeeds', async () => {
    const limiter = new RateLimiter(redis, { prefix, rps: 50 });
    handler = (_req, res, n) =>
      n === 1 ? json(res, 429, { message: 'Too many requests' }, { 'Retry-After': '0.3' }) : json(res, 200, { id: WS });
    const res = await makeClient({ limiter }).request('GET', '/v1/workspaces/{workspaceId}');
    expect(res.data.id).toBe(WS);
    expect(received).toHaveLength(2);
    // The limiter, not a local timer, made the retry wait out the block.
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(290);
  });

  it('gives up with RateLimitedError when Retry-After (an HTTP date) is beyond the wait bound, blocking the workspace', async () => {
    const limiter = new RateLimiter(redis, { prefix, rps: 50 });
    const retryAt = new Date(Date.now() + 30_000).toUTCString();
    handler = (_req, res) => json(res, 429, { message: 'Too many requests' }, { 'Retry-After': retryAt });
    const error = await failure(makeClient({ limiter }).request('GET', '/v1/workspaces/{workspaceId}'));
    expect(error).toBeInstanceOf(RateLimitedError);
    const e = error as RateLimitedError;
    expect(e.retryable).toBe(true);
    expect(e.retryAfterMs).toBeGreaterThan(28_000);
    expect(e.retryAfterMs).toBeLessThanOrEqual(30_000);
    expect(received).toHaveLength(1);
    expect(await limiter.blockedForMs(WS)).toBeGreaterThan(27_000);

    // Every other client of this workspace now defers instead of sending.
    const other = await failure(makeClient({ limiter }).request('GET', '/v1/workspaces/{workspaceId}'));
    expect(other).toBeInstanceOf(RateLimitDeferredError);
    expect((other as RateLimitDeferredError).retryInMs).toBeGreaterThan(27_000);
    expect(received).toHaveLength(1);
  });

  it('waits the default second when Retry-After is missing (no limiter configured)', async () => {
    const { sleeps, sleep } = recordingSleep();
    handler = (_req, res, n) =>
      n === 1 ? json(res, 429, { message: 'Too many requests' }) : json(res, 200, { id: WS });
    await makeClient({ sleep }).request('GET', '/v1/workspaces/{workspaceId}');
    expect(sleeps).toEqual([1000]);
    expect(received).toHaveLength(2);
  });

  it('stops retrying 429s after maxRetries', async () => {
    const { sleeps, sleep } = recordingSleep();
    handler = (_req, res) => json(res, 429, {}, { 'Retry-After': '0' });
    const error = await failure(makeClient({ sleep, maxRetries: 2 }).request('GET', '/v1/workspaces/{workspaceId}'));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(received).toHaveLength(3);
    expect(sleeps).toEqual([0, 0]);
  });
});

describe('retries', () => {
  it('retries 5xx with capped, jittered backoff and then succeeds', async () => {
    const { sleeps, sleep } = recordingSleep();
    handler = (_req, res, n) =>
      n <= 2 ? json(res, n === 1 ? 503 : 500, { message: 'oops' }) : json(res, 200, { id: WS });
    const res = await makeClient({ sleep, backoffBaseMs: 100, backoffMaxMs: 150 }).request(
      'GET',
      '/v1/workspaces/{workspaceId}',
    );
    expect(res.status).toBe(200);
    expect(received).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeLessThan(100);
    expect(sleeps[1]).toBeLessThan(150);
  });

  it('gives up after maxRetries with a retryable ClockifyApiError', async () => {
    handler = (_req, res) => json(res, 502, { message: 'Bad gateway', code: 502 });
    const error = await failure(makeClient({ maxRetries: 2 }).request('GET', '/v1/workspaces/{workspaceId}'));
    expect(error).toBeInstanceOf(ClockifyApiError);
    const e = error as ClockifyApiError;
    expect([e.status, e.retryable, e.operation, e.kind]).toEqual([
      502,
      true,
      'GET /v1/workspaces/{workspaceId}',
      'http',
    ]);
    expect(received).toHaveLength(3);
  });

  it('times out a hanging request and retries it', async () => {
    handler = () => {}; // never answers
    const started = performance.now();
    const error = await failure(
      makeClient({ timeoutMs: 150, maxRetries: 1 }).request('GET', '/v1/workspaces/{workspaceId}'),
    );
    expect(error).toBeInstanceOf(ClockifyApiError);
    expect((error as ClockifyApiError).kind).toBe('timeout');
    expect((error as ClockifyApiError).retryable).toBe(true);
    expect(received).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('reports a connection failure as a retryable network error', async () => {
    const closed = await freePort();
    const error = await failure(
      makeClient({ baseUrl: `http://127.0.0.1:${closed}/api`, maxRetries: 1 }).request(
        'GET',
        '/v1/workspaces/{workspaceId}',
      ),
    );
    expect(error).toBeInstanceOf(ClockifyApiError);
    expect([(error as ClockifyApiError).kind, (error as ClockifyApiError).retryable]).toEqual(['network', true]);
  });

  it('does not retry when the caller aborts', async () => {
    handler = () => {};
    const controller = new AbortController();
    const pending = makeClient({ timeoutMs: 10_000 }).request('GET', '/v1/workspaces/{workspaceId}', {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('bootstrap cancelled')), 50);
    await expect(pending).rejects.toThrow('bootstrap cancelled');
    expect(received).toHaveLength(1);
  });
});

describe('client errors', () => {
  it('turns 401 with Clockify’s permission message into a permission error naming the scope', async () => {
    handler = (_req, res) =>
      json(res, 401, { message: 'Addon with id 64f0c0ffee does not have permission USER_READ', code: 1000 });
    const error = await failure(
      makeClient().request('GET', '/v1/workspaces/{workspaceId}/users', { query: { 'include-roles': 'true' } }),
    );
    expect(error).toBeInstanceOf(ClockifyPermissionError);
    const e = error as ClockifyPermissionError;
    expect([e.status, e.missingScope, e.retryable, e.code]).toEqual([401, 'USER_READ', false, 1000]);
    expect(e.message).toContain('USER_READ');
    expect(received).toHaveLength(1);
  });

  it('parses the scope from a 403 worded differently, and leaves it undefined when unnamed', async () => {
    handler = (_req, res) =>
      json(res, 403, { message: 'Forbidden: token lacks scope TIME_ENTRY_READ for this resource' });
    const e1 = (await failure(
      makeClient().request('GET', '/v1/workspaces/{workspaceId}/time-entries/{id}', { path: { id: 'te1' } }),
    )) as ClockifyPermissionError;
    expect([e1.status, e1.missingScope]).toEqual([403, 'TIME_ENTRY_READ']);

    handler = (_req, res) => json(res, 403, { message: 'Access denied' });
    const e2 = (await failure(makeClient().request('GET', '/v1/workspaces/{workspaceId}'))) as ClockifyPermissionError;
    expect(e2).toBeInstanceOf(ClockifyPermissionError);
    expect(e2.missingScope).toBeUndefined();
  });

  it('reports other 4xx once, non-retryable, with Clockify’s message truncated', async () => {
    handler = (_req, res) => json(res, 400, { message: `Invalid date ${'x'.repeat(2000)}`, code: 501 });
    const error = await failure(makeClient().request('GET', '/v1/workspaces/{workspaceId}'));
    const e = error as ClockifyApiError;
    expect(e).toBeInstanceOf(ClockifyApiError);
    expect([e.status, e.retryable, e.code]).toEqual([400, false, 501]);
    expect(e.message).toContain('Invalid date');
    expect(e.message.length).toBeLessThan(500);
    expect(received).toHaveLength(1);
  });

  it('refuses an oversized success body rather than returning part of it', async () => {
    handler = (_req, res) => json(res, 200, items(1, 500));
    const error = await failure(
      makeClient({ maxResponseBytes: 1000 }).request('GET', '/v1/workspaces/{workspaceId}/tags'),
    );
    expect(error).toBeInstanceOf(ClockifyApiError);
    expect([(error as ClockifyApiError).kind, (error as ClockifyApiError).retryable]).toEqual(['protocol', false]);
  });
});

describe('outbound safety', () => {
  it('sends nothing to a host outside the allow-list', async () => {
    const error = await failure(
      makeClient({ allowedHosts: ['*.clockify.me'] }).request('GET', '/v1/workspaces/{workspaceId}'),
    );
    expect(error).toBeInstanceOf(HostNotAllowedError);
    expect((error as HostNotAllowedError).host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((error as HostNotAllowedError).retryable).toBe(false);

    const otherName = await failure(
      makeClient({ baseUrl: base.replace('127.0.0.1', 'localhost') }).request('GET', '/v1/workspaces/{workspaceId}'),
    );
    expect(otherName).toBeInstanceOf(HostNotAllowedError);
    expect(received).toHaveLength(0);
  });

  it('never follows a redirect, so the token cannot reach an unlisted host', async () => {
    const elsewhere: string[] = [];
    const other = createServer((req, res) => {
      elsewhere.push(String(req.headers['x-addon-token']));
      res.end();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const target = `http://localhost:${(other.address() as AddressInfo).port}/steal`;
      handler = (_req, res) => {
        res.writeHead(302, { location: target });
        res.end();
      };
      const error = await failure(makeClient().request('GET', '/v1/workspaces/{workspaceId}'));
      expect(error).toBeInstanceOf(ClockifyApiError);
      expect([(error as ClockifyApiError).status, (error as ClockifyApiError).retryable]).toEqual([302, false]);
      expect(elsewhere).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('defers without sending when the shared limiter has no slot soon enough', async () => {
    const limiter = new RateLimiter(redis, { prefix, rps: 50 });
    await limiter.block(WS, 5000);
    const error = await failure(
      makeClient({ limiter, maxLimiterWaitMs: 1000 }).request('GET', '/v1/workspaces/{workspaceId}'),
    );
    expect(error).toBeInstanceOf(RateLimitDeferredError);
    expect((error as RateLimitDeferredError).retryInMs).toBeGreaterThan(4000);
    expect(received).toHaveLength(0);
  });

  it('keeps the token out of errors, logs and metrics, even when Clockify echoes it', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    const logger = createLogger({ name: 'api-test', level: 'trace' }, stream);
    const metrics = new Metrics({ app: 'api-test', defaultMetrics: false });
    const c = makeClient({ logger, metrics, maxRetries: 1 });
    const errors: unknown[] = [];

    handler = (_req, res) => json(res, 400, { message: `Token ${TOKEN} is not valid for this workspace` });
    errors.push(await failure(c.request('GET', '/v1/workspaces/{workspaceId}')));
    handler = (_req, res) => json(res, 401, { message: `Addon token ${TOKEN} does not have permission USER_READ` });
    errors.push(await failure(c.request('GET', '/v1/workspaces/{workspaceId}')));
    handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error while handling X-Addon-Token: ${TOKEN}`);
    };
    errors.push(await failure(c.request('GET', '/v1/workspaces/{workspaceId}')));
    handler = () => {};
    errors.push(
      await failure(
        makeClient({ logger, metrics, maxRetries: 1, timeoutMs: 50 }).request('GET', '/v1/workspaces/{workspaceId}'),
      ),
    );

    // The token did reach the server, in the header it belongs in.
    expect(received.every((r) => r.headers['x-addon-token'] === TOKEN)).toBe(true);
    expect((errors[1] as ClockifyPermissionError).missingScope).toBe('USER_READ');
    for (const error of errors) {
      const e = error as Error;
      expect(e).toBeInstanceOf(ClockifyApiError);
      for (const text of [e.message, e.stack ?? '', inspect(e, { depth: 10, showHidden: true }), JSON.stringify(e)]) {
        expect(text).not.toContain(TOKEN);
      }
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(TOKEN);
    const rendered = (await metrics.render()).body;
    expect(rendered).toContain('clockify_api_requests_total');
    expect(rendered).not.toContain(TOKEN);
  });
});
