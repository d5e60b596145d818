import { parse } from 'yaml';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { readClockifyData } from '../data.js';
import { OPERATIONS_USED, type OperationUsed } from './operations-used.js';
import { PAGED_OPERATIONS, REPORTS_PATHS, isPagedOperation, isReportsPath, type PagedOperation } from './spec-index.js';
import type { PagedListPath } from './types.js';

interface SpecParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: { enum?: unknown[]; default?: unknown; maximum?: number; type?: string; items?: { enum?: unknown[] } };
}
interface SpecOperation {
  parameters?: SpecParameter[];
}
type SpecPathItem = Record<string, unknown> & { servers?: { url: string }[] };
interface Spec {
  paths: Record<string, SpecPathItem>;
}

const spec = parse(readClockifyData('clockify.official.openapi.yaml')) as Spec;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const SIZE_PARAMS = ['page-size', 'pageSize', 'size', 'limit'];

function operationOf(method: string, path: string): SpecOperation | undefined {
  return spec.paths[path]?.[method.toLowerCase()] as SpecOperation | undefined;
}

function deriveIndex(): { paged: PagedOperation[]; reports: string[] } {
  const paged: PagedOperation[] = [];
  const reports: string[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    if (item.servers?.some((s) => /reports/.test(s.url))) reports.push(path);
    for (const method of METHODS) {
      const op = item[method] as SpecOperation | undefined;
      const query = (op?.parameters ?? []).filter((p) => p.in === 'query');
      const page = query.find((p) => p.name === 'page');
      if (!page) continue;
      const size = query.find((p) => SIZE_PARAMS.includes(p.name));
      if (!size) throw new Error(`${method} ${path} has page but no size parameter`);
      const entry: PagedOperation = {
        method: method.toUpperCase() as PagedOperation['method'],
        path,
        sizeParam: size.name as PagedOperation['sizeParam'],
        firstPage: Number(page.schema?.default ?? 1),
        ...(size.schema?.maximum === undefined ? {} : { maxPageSize: size.schema.maximum }),
      };
      paged.push(entry);
    }
  }
  return { paged, reports };
}

/** What would go wrong sending `used` to Clockify, per the spec; empty when nothing. */
function specProblems(used: OperationUsed): string[] {
  const op = operationOf(used.method, used.path);
  if (!op) return [`${used.method} ${used.path} does not exist in the spec`];
  const problems: string[] = [];
  const query = (op.parameters ?? []).filter((p) => p.in === 'query');
  for (const p of query) {
    if (p.required && !used.query.includes(p.name)) problems.push(`required query parameter ${p.name} is not sent`);
  }
  for (const name of used.query) {
    if (!query.some((p) => p.name === name)) problems.push(`query parameter ${name} is not in the spec`);
  }
  for (const [name, value] of Object.entries(used.values ?? {})) {
    if (!used.query.includes(name)) problems.push(`fixed value for ${name}, which is not listed as sent`);
    const allowed = query.find((p) => p.name === name)?.schema?.enum;
    if (allowed && !allowed.includes(value)) problems.push(`${name}=${value} is not in the spec's enum`);
  }
  return problems;
}

describe('spec index', () => {
  it('PAGED_OPERATIONS is exactly the operations whose spec entry declares a page parameter', () => {
    const { paged } = deriveIndex();
    const sort = (list: readonly PagedOperation[]) =>
      [...list].sort((a, b) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`));
    // On failure, the expected list is printed: paste it into spec-index.ts.
    expect(sort(PAGED_OPERATIONS)).toEqual(sort(paged));
    expect(paged.length).toBeGreaterThan(20);
  });

  it('REPORTS_PATHS is exactly the paths the spec serves from the reports host', () => {
    expect([...REPORTS_PATHS].sort()).toEqual(deriveIndex().reports.sort());
    expect(isReportsPath('/v1/workspaces/{workspaceId}/reports/detailed')).toBe(true);
    expect(isReportsPath('/v1/workspaces/{workspaceId}/users')).toBe(false);
  });

  it('answers isPagedOperation in either letter case and refuses unpaged operations', () => {
    expect(isPagedOperation('GET', '/v1/workspaces/{workspaceId}/users')).toBe(true);
    expect(isPagedOperation('get', '/v1/workspaces/{workspaceId}/clients')).toBe(true);
    expect(isPagedOperation('GET', '/v1/workspaces/{workspaceId}/custom-fields')).toBe(false);
    expect(isPagedOperation('GET', '/v1/workspaces/{workspaceId}')).toBe(false);
    expect(isPagedOperation('POST', '/v1/workspaces/{workspaceId}/users')).toBe(false);
  });

  it('the paginator type accepts exactly the paged GET lists (array responses) of the run-time index', () => {
    expectTypeOf<'/v1/workspaces/{workspaceId}/users'>().toExtend<PagedListPath>();
    expectTypeOf<'/v1/workspaces/{workspaceId}/projects/{projectId}/tasks'>().toExtend<PagedListPath>();
    expectTypeOf<'/v1/workspaces/{workspaceId}/custom-fields'>().not.toExtend<PagedListPath>();
    // Paged, but the body is an object, not a list: not for the generic paginator.
    expectTypeOf<'/v1/workspaces/{workspaceId}/expenses'>().not.toExtend<PagedListPath>();
    const typed: Record<PagedListPath, true> = {
      '/v1/workspaces/{workspaceId}/approval-requests': true,
      '/v1/workspaces/{workspaceId}/clients': true,
      '/v1/workspaces/{workspaceId}/invoices/{invoiceId}/payments': true,
      '/v1/workspaces/{workspaceId}/projects': true,
      '/v1/workspaces/{workspaceId}/projects/{projectId}/tasks': true,
      '/v1/workspaces/{workspaceId}/scheduling/assignments/all': true,
      '/v1/workspaces/{workspaceId}/tags': true,
      '/v1/workspaces/{workspaceId}/time-entries/status/in-progress': true,
      '/v1/workspaces/{workspaceId}/time-off/policies': true,
      '/v1/workspaces/{workspaceId}/user-groups': true,
      '/v1/workspaces/{workspaceId}/user/{userId}/time-entries': true,
      '/v1/workspaces/{workspaceId}/users': true,
      '/v1/workspaces/{workspaceId}/users/{userId}/managers': true,
    };
    for (const path of Object.keys(typed)) expect(isPagedOperation('GET', path), path).toBe(true);
  });
});

describe('OPERATIONS_USED against the official spec', () => {
  it.each(OPERATIONS_USED.map((u) => [`${u.method} ${u.path}`, u] as const))(
    '%s exists and sends every required parameter',
    (_n, used) => {
      expect(specProblems(used)).toEqual([]);
    },
  );

  it('covers what bootstrap needs', () => {
    const names = OPERATIONS_USED.map((u) => `${u.method} ${u.path}`);
    for (const needed of [
      'GET /v1/workspaces/{workspaceId}',
      'GET /v1/workspaces/{workspaceId}/users',
      'GET /v1/workspaces/{workspaceId}/user-groups',
      'GET /v1/workspaces/{workspaceId}/clients',
      'GET /v1/workspaces/{workspaceId}/projects',
      'GET /v1/workspaces/{workspaceId}/projects/{projectId}/tasks',
      'GET /v1/workspaces/{workspaceId}/tags',
      'GET /v1/workspaces/{workspaceId}/custom-fields',
      'GET /v1/workspaces/{workspaceId}/user/{userId}/time-entries',
    ]) {
      expect(names).toContain(needed);
    }
  });

  it('sends page parameters exactly where the spec declares them', () => {
    for (const used of OPERATIONS_USED) {
      expect(used.query.includes('page'), `${used.method} ${used.path}`).toBe(isPagedOperation(used.method, used.path));
    }
  });

  it('would reject the users list without include-roles (the predecessor’s bug)', () => {
    const users = OPERATIONS_USED.find((u) => u.path === '/v1/workspaces/{workspaceId}/users')!;
    expect(users.values?.status).toBe('ALL');
    const withoutRoles: OperationUsed = { ...users, query: users.query.filter((q) => q !== 'include-roles') };
    expect(specProblems(withoutRoles)).toEqual(['required query parameter include-roles is not sent']);
  });

  it('would reject a status outside the spec enum and an operation the spec lacks', () => {
    const users = OPERATIONS_USED.find((u) => u.path === '/v1/workspaces/{workspaceId}/users')!;
    expect(specProblems({ ...users, values: { status: 'EVERYONE' } })).toEqual([
      "status=EVERYONE is not in the spec's enum",
    ]);
    expect(
      specProblems({
        purpose: 'bootstrap',
        method: 'GET',
        path: '/v1/workspaces/{workspaceId}/members' as never,
        query: [],
      }),
    ).toEqual(['GET /v1/workspaces/{workspaceId}/members does not exist in the spec']);
  });
});
