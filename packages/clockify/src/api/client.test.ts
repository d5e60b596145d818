import { describe, expect, expectTypeOf, it } from 'vitest';
import { ClockifyClient, type ClockifyClientOptions } from './client.js';
import { HostNotAllowedError } from './errors.js';
import type { components } from './openapi.js';

/**
 * The client's request shaping, with `fetch` replaced by a recorder (no network). Behaviour over
 * real HTTP — retries, 429s, paging, timeouts — is in test/api-client.test.ts.
 */

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  redirect: string | undefined;
}

function recorder(respond: () => Response = () => Response.json([])) {
  const sent: Sent[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    sent.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string>) },
      body: init?.body as string | undefined,
      redirect: init?.redirect,
    });
    return respond();
  }) as typeof fetch;
  return { sent, fetchImpl };
}

const TOKEN = 'installation-token-value-1234567890';

function client(fetchImpl: typeof fetch, overrides: Partial<ClockifyClientOptions> = {}): ClockifyClient {
  return new ClockifyClient({
    baseUrl: 'https://api.clockify.me/api',
    reportsUrl: 'https://reports.api.clockify.me',
    token: TOKEN,
    workspaceId: 'ws1',
    allowedHosts: ['*.clockify.me'],
    fetch: fetchImpl,
    sleep: async () => {},
    ...overrides,
  });
}

describe('ClockifyClient request shaping', () => {
  it.each(['https://api.clockify.me/api', 'https://api.clockify.me/api/', 'https://api.clockify.me/api/v1/'])(
    'joins %s and /v1 paths without doubling /v1',
    async (baseUrl) => {
      const { sent, fetchImpl } = recorder();
      await client(fetchImpl, { baseUrl }).request('GET', '/v1/workspaces/{workspaceId}/users', {
        query: { 'include-roles': 'true', status: 'ALL', page: 1, 'page-size': 50 },
      });
      expect(sent[0]!.url).toBe(
        'https://api.clockify.me/api/v1/workspaces/ws1/users?include-roles=true&status=ALL&page=1&page-size=50',
      );
    },
  );

  it('fills the workspace from the client and other path parameters from the call', async () => {
    const { sent, fetchImpl } = recorder();
    await client(fetchImpl).request('GET', '/v1/workspaces/{workspaceId}/projects/{projectId}/tasks', {
      path: { projectId: 'p 1' },
    });
    expect(sent[0]!.url).toBe('https://api.clockify.me/api/v1/workspaces/ws1/projects/p%201/tasks');
  });

  it('sends report operations to reportsUrl', async () => {
    const { sent, fetchImpl } = recorder(() => Response.json({ totals: [] }));
    await client(fetchImpl).request('POST', '/v1/workspaces/{workspaceId}/reports/detailed', {
      body: {
        dateRangeStart: '2024-01-01T00:00:00Z',
        dateRangeEnd: '2024-01-31T23:59:59Z',
        detailedFilter: { page: 1, pageSize: 50 },
      },
    });
    expect(sent[0]!.url).toBe('https://reports.api.clockify.me/v1/workspaces/ws1/reports/detailed');
    expect(sent[0]!.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(sent[0]!.body!)).toMatchObject({ detailedFilter: { page: 1, pageSize: 50 } });
  });

  it('refuses a report operation without reportsUrl before sending anything', async () => {
    const { sent, fetchImpl } = recorder();
    const c = client(fetchImpl, { reportsUrl: undefined });
    await expect(
      c.request('GET', '/v1/workspaces/{workspaceId}/shared-reports', { query: { page: 1 } }),
    ).rejects.toThrow(/reportsUrl is required/);
    expect(sent).toHaveLength(0);
  });

  it('sends the add-on token header and never follows redirects', async () => {
    const { sent, fetchImpl } = recorder(() => Response.json({ id: 'ws1' }));
    const res = await client(fetchImpl).request('GET', '/v1/workspaces/{workspaceId}');
    expect(res.status).toBe(200);
    expect(res.data.id).toBe('ws1');
    expect(sent[0]!.headers).toMatchObject({ 'X-Addon-Token': TOKEN, Accept: 'application/json' });
    expect(sent[0]!.redirect).toBe('manual');
  });

  it('checks the reports host against the allow-list too', async () => {
    const { sent, fetchImpl } = recorder();
    const c = client(fetchImpl, { reportsUrl: 'https://reports.example.com' });
    await expect(c.request('GET', '/v1/shared-reports/{id}', { path: { id: 'r1' } })).rejects.toBeInstanceOf(
      HostNotAllowedError,
    );
    expect(sent).toHaveLength(0);
  });

  it('keeps the token out of inspection and serialisation of the client', async () => {
    const { inspect } = await import('node:util');
    const { fetchImpl } = recorder();
    const c = client(fetchImpl);
    expect(inspect(c, { depth: 5, showHidden: true })).not.toContain(TOKEN);
    expect(JSON.stringify(c)).not.toContain(TOKEN);
  });

  it('validates its options', () => {
    const { fetchImpl } = recorder();
    expect(() => client(fetchImpl, { token: '' })).toThrow(/token/);
    expect(() => client(fetchImpl, { workspaceId: '../other' })).toThrow(/workspaceId/);
    expect(() => client(fetchImpl, { baseUrl: 'not a url' })).toThrow(/baseUrl/);
    expect(() => client(fetchImpl, { timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('refuses to page an operation the spec does not page, and page sizes out of range', async () => {
    const { sent, fetchImpl } = recorder();
    const c = client(fetchImpl);
    const unpaged = c.paginate('/v1/workspaces/{workspaceId}/custom-fields' as never, {} as never);
    await expect(unpaged.next()).rejects.toThrow(/declares no page parameter/);
    const tooBig = c.paginate('/v1/workspaces/{workspaceId}/tags', {}, { pageSize: 201 });
    await expect(tooBig.next()).rejects.toThrow(RangeError);
    expect(sent).toHaveLength(0);
  });
});

/**
 * Compile-time contract, checked by `tsc` (never run: the calls are wrong on purpose). An
 * unneeded `@ts-expect-error` is itself an error, so each line proves the compiler refuses it.
 */
async function _compileTimeChecks(c: ClockifyClient): Promise<void> {
  // @ts-expect-error include-roles is required by the spec
  await c.request('GET', '/v1/workspaces/{workspaceId}/users', { query: { status: 'ALL' } });
  // @ts-expect-error the query (with include-roles) cannot be left out
  await c.request('GET', '/v1/workspaces/{workspaceId}/users');
  await c.request('GET', '/v1/workspaces/{workspaceId}/users', {
    // @ts-expect-error ALL is in the spec's enum, EVERYONE is not
    query: { 'include-roles': 'true', status: 'EVERYONE' },
  });
  // @ts-expect-error projectId is a required path parameter
  await c.request('GET', '/v1/workspaces/{workspaceId}/projects/{projectId}/tasks');
  // @ts-expect-error no such operation
  await c.request('GET', '/v1/workspaces/{workspaceId}/members');
  // @ts-expect-error GET has no request body
  await c.request('GET', '/v1/workspaces/{workspaceId}', { body: {} });
  // @ts-expect-error the report filter requires dateRangeStart, dateRangeEnd and detailedFilter
  await c.request('POST', '/v1/workspaces/{workspaceId}/reports/detailed', { body: {} });
  // @ts-expect-error the paginator sets page itself
  c.paginate('/v1/workspaces/{workspaceId}/tags', { query: { page: 3 } });
  // @ts-expect-error the paginator keeps include-roles required too
  c.paginate('/v1/workspaces/{workspaceId}/users', { query: { status: 'ALL' } });
  // @ts-expect-error custom-fields declares no page parameter
  c.paginate('/v1/workspaces/{workspaceId}/custom-fields', {});

  const users = await c.request('GET', '/v1/workspaces/{workspaceId}/users', { query: { 'include-roles': 'false' } });
  expectTypeOf(users.data).toEqualTypeOf<components['schemas']['UserDtoV1'][]>();
  const workspace = await c.request('GET', '/v1/workspaces/{workspaceId}');
  expectTypeOf(workspace.data).toEqualTypeOf<components['schemas']['WorkspaceDtoV1']>();
  const pages = c.paginate('/v1/workspaces/{workspaceId}/user/{userId}/time-entries', {
    path: { userId: 'u1' },
    query: { start: '2024-01-01T00:00:00Z' },
  });
  for await (const page of pages) {
    expectTypeOf(page.items).toEqualTypeOf<components['schemas']['TimeEntryWithRatesDtoV1'][]>();
  }
}

describe('callers that bypass the types', () => {
  it('still cannot send a request with a missing path parameter', async () => {
    const { sent, fetchImpl } = recorder();
    const c = client(fetchImpl);
    const untyped = c.request.bind(c) as (m: string, p: string, init?: unknown) => Promise<unknown>;
    await expect(untyped('GET', '/v1/workspaces/{workspaceId}/projects/{projectId}/tasks')).rejects.toThrow(
      /projectId is missing/,
    );
    await expect(
      untyped('GET', '/v1/workspaces/{workspaceId}/projects/{projectId}/tasks', { path: { projectId: '..' } }),
    ).rejects.toThrow(/unusable/);
    expect(sent).toHaveLength(0);
  });
});
