import { describe, expect, it } from 'vitest';
import { CallValidationError, resolveOperation, validateCall } from './call.js';
import { ClockifyClient } from './client.js';
import { OperationCatalog } from './operations.js';

const catalog = OperationCatalog.official();

function problems(id: string, input: Parameters<typeof validateCall>[1]) {
  return validateCall(resolveOperation(id), input);
}

describe('OperationCatalog', () => {
  it('holds every operation of the spec with tags, parameters and body schemas', () => {
    expect(catalog.operations.length).toBeGreaterThan(150);
    const createTag = catalog.get('createNewTag');
    expect(createTag).toMatchObject({
      method: 'POST',
      path: '/v1/workspaces/{workspaceId}/tags',
      tags: ['Tag'],
      body: { required: true, schema: { $ref: '#/components/schemas/TagRequest' } },
    });
    expect(catalog.find('get', '/v1/workspaces/{workspaceId}/tags')?.operationId).toBe('getTags');
    expect(catalog.get('getTags')?.params.find((p) => p.name === 'sort-order')?.enum).toEqual([
      'ASCENDING',
      'DESCENDING',
    ]);
  });

  it('compiles the body schema of every operation that takes one', () => {
    const withBody = catalog.operations.filter((op) => op.body);
    expect(withBody.length).toBeGreaterThan(50);
    for (const op of withBody) {
      const refusedForSchema = validateCall(op, { body: {} }).filter((p) => /does not compile/.test(p.message));
      expect(refusedForSchema, op.operationId).toEqual([]);
    }
  });
});

describe('validateCall', () => {
  it('accepts a well-formed call', () => {
    expect(problems('getTags', { query: { archived: false, 'page-size': 50, 'sort-order': 'ASCENDING' } })).toEqual([]);
    expect(problems('getProject', { path: { projectId: 'p1' } })).toEqual([]);
    expect(problems('createNewTag', { body: { name: 'Sprint 1' } })).toEqual([]);
  });

  it('refuses an unknown operation by id and by template', () => {
    expect(() => resolveOperation('dropEverything')).toThrow(CallValidationError);
    expect(() => resolveOperation({ method: 'DELETE', path: '/v1/workspaces/{workspaceId}/tags' })).toThrow(
      /not an operation of the Clockify API spec/,
    );
    expect(resolveOperation('GET /v1/workspaces/{workspaceId}/tags').operationId).toBe('getTags');
  });

  it('names a missing required path parameter, an unknown one and a workspaceId', () => {
    expect(problems('getProject', {})).toEqual([{ in: 'path', name: 'projectId', message: 'is required' }]);
    expect(problems('getProject', { path: { projectId: 'p', other: 'x' } })).toEqual([
      { in: 'path', name: 'other', message: 'is not a path parameter of this operation' },
    ]);
    expect(problems('getTags', { path: { workspaceId: 'elsewhere' } })[0]).toMatchObject({
      in: 'path',
      name: 'workspaceId',
    });
  });

  it('names query parameters of the wrong type, outside an enum or range, or unknown', () => {
    expect(problems('getTags', { query: { 'page-size': 'many' } })).toEqual([
      { in: 'query', name: 'page-size', message: 'must be an integer, got "many"' },
    ]);
    expect(problems('getTags', { query: { 'page-size': 0 } })[0]?.message).toBe('must be at least 1');
    expect(problems('getTags', { query: { archived: 'maybe' } })[0]?.message).toMatch(/true or false/);
    expect(problems('getTags', { query: { 'sort-order': 'SIDEWAYS' } })[0]?.message).toMatch(/one of ASCENDING/);
    expect(problems('getTags', { query: { colour: 'red' } })).toEqual([
      { in: 'query', name: 'colour', message: 'is not a query parameter of this operation' },
    ]);
    expect(problems('getTags', { query: { name: { nested: true } } })[0]?.message).toMatch(/string, a number/);
  });

  it('names a required query parameter that is missing', () => {
    const op = catalog.operations.find(
      (o) => o.method === 'GET' && o.params.some((p) => p.in === 'query' && p.required),
    );
    expect(op).toBeDefined();
    const required = op!.params.find((p) => p.in === 'query' && p.required)!;
    const path = Object.fromEntries(
      op!.params.filter((p) => p.in === 'path' && p.name !== 'workspaceId').map((p) => [p.name, 'x']),
    );
    expect(validateCall(op!, { path })).toContainEqual({ in: 'query', name: required.name, message: 'is required' });
  });

  it('refuses a body that fails the schema, a missing required body and a body where none is taken', () => {
    expect(problems('createNewTag', { body: { name: 42 } })).toEqual([
      { in: 'body', name: '/name', message: 'must be string' },
    ]);
    expect(problems('createNewTag', { body: { name: 'x'.repeat(101) } })[0]).toMatchObject({ name: '/name' });
    expect(problems('createNewTag', {})).toEqual([{ in: 'body', message: 'is required' }]);
    expect(problems('getTags', { body: { name: 'x' } })).toEqual([
      { in: 'body', message: 'this operation takes no body' },
    ]);
    expect(problems('createClient', { body: { email: 'not an address' } })[0]).toMatchObject({
      in: 'body',
      name: '/email',
    });
  });
});

describe('ClockifyClient.call', () => {
  function client(fetch: typeof globalThis.fetch) {
    return new ClockifyClient({
      baseUrl: 'https://api.clockify.me/api',
      token: 't',
      workspaceId: 'ws1',
      allowedHosts: ['api.clockify.me'],
      fetch,
      maxRetries: 0,
    });
  }

  it('sends nothing when the call is refused', async () => {
    const sent: string[] = [];
    const api = client(async (url) => {
      sent.push(String(url));
      return new Response('[]', { headers: { 'content-type': 'application/json' } });
    });
    await expect(api.call('getTags', { query: { 'page-size': -1 } })).rejects.toBeInstanceOf(CallValidationError);
    await expect(api.callDynamic('nope')).rejects.toThrow(/not an operation/);
    await expect(api.call('createNewTag', { body: { name: 1 } as never })).rejects.toThrow(
      /body "\/name": must be string/,
    );
    expect(sent).toEqual([]);
  });

  it('fills the workspace, encodes the query and returns the typed data', async () => {
    const sent: { url: string; method: string; body: unknown }[] = [];
    const api = client(async (url, init) => {
      sent.push({ url: String(url), method: init?.method ?? 'GET', body: init?.body });
      return new Response(JSON.stringify([{ id: 't1', name: 'Sprint' }]), {
        headers: { 'content-type': 'application/json' },
      });
    });
    const res = await api.call('getTags', { query: { archived: true, 'page-size': 10 } });
    expect(res.data?.[0]?.name).toBe('Sprint');
    expect(sent[0]?.url).toBe('https://api.clockify.me/api/v1/workspaces/ws1/tags?archived=true&page-size=10');
    await api.callDynamic('POST /v1/workspaces/{workspaceId}/tags', { body: { name: 'New' } });
    expect(sent[1]).toMatchObject({ method: 'POST', body: '{"name":"New"}' });
  });

  it('types a literal operationId from the spec (checked by the compiler)', async () => {
    const api = client(async () => new Response('[]', { headers: { 'content-type': 'application/json' } }));
    const typed = async () => {
      // @ts-expect-error page-size is a number in the spec
      await api.call('getTags', { query: { 'page-size': 'ten' } });
      // @ts-expect-error sort-order is an enum
      await api.call('getTags', { query: { 'sort-order': 'SIDEWAYS' } });
      // @ts-expect-error getProject needs its projectId
      await api.call('getProject', {});
      const res = await api.call('getTags');
      const name: string | undefined = res.data[0]?.name;
      // The example of WRITING_AN_ADDON.md.
      const tasks = await api.call('getTasks', {
        path: { projectId: 'p1' },
        query: { 'is-active': true, 'page-size': 200 },
      });
      return [name, ...tasks.data.map((t) => t.id)];
    };
    // At run time the same calls are refused before anything is sent.
    await expect(typed()).rejects.toBeInstanceOf(CallValidationError);
  });

  it('bounds the response body', async () => {
    const api = client(
      async () => new Response(`[${'"x",'.repeat(1000)}"x"]`, { headers: { 'content-type': 'application/json' } }),
    );
    await expect(api.callDynamic('getTags', { maxResponseBytes: 100 })).rejects.toThrow(/exceeds the 100-byte limit/);
  });
});
