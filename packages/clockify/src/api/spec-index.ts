import type { HttpMethod } from './types.js';

/**
 * Facts about operations that the generated `openapi.ts` types cannot carry at run time, taken
 * from `data/clockify.official.openapi.yaml`. `spec-index.test.ts` derives the same lists from
 * the YAML and fails (printing the expected entries) when the spec copy changes, so this file
 * cannot drift from the spec.
 */

export interface PagedOperation {
  readonly method: HttpMethod;
  readonly path: string;
  /** The query parameter carrying the page size; Clockify names it differently per family. */
  readonly sizeParam: 'page-size' | 'pageSize' | 'size' | 'limit';
  /** The spec's default for `page` (1 unless the spec says otherwise). */
  readonly firstPage: number;
  /** The spec's `maximum` for the size parameter, when it declares one. */
  readonly maxPageSize?: number;
}

/** Every operation whose OpenAPI entry declares a `page` query parameter. */
export const PAGED_OPERATIONS: readonly PagedOperation[] = [
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/approval-requests', sizeParam: 'page-size', firstPage: 1 },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/clients', sizeParam: 'page-size', firstPage: 1 },
  // The spec's default page here is "0" while the guide's examples use 1 (REFERENCE.md §3.3).
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/entities/created', sizeParam: 'limit', firstPage: 0 },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/entities/deleted', sizeParam: 'limit', firstPage: 0 },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/entities/updated', sizeParam: 'limit', firstPage: 0 },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/expenses', sizeParam: 'page-size', firstPage: 1 },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/expenses/categories', sizeParam: 'page-size', firstPage: 1 },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/invoices', sizeParam: 'page-size', firstPage: 1 },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/invoices/{invoiceId}/payments',
    sizeParam: 'page-size',
    firstPage: 1,
  },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/projects', sizeParam: 'page-size', firstPage: 1 },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/projects/{projectId}/tasks',
    sizeParam: 'page-size',
    firstPage: 1,
  },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/scheduling/assignments/all',
    sizeParam: 'page-size',
    firstPage: 1,
  },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/scheduling/assignments/users/{userId}/totals',
    sizeParam: 'page-size',
    firstPage: 1,
  },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/tags', sizeParam: 'page-size', firstPage: 1 },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/time-entries/status/in-progress',
    sizeParam: 'page-size',
    firstPage: 1,
    maxPageSize: 1000,
  },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/time-off/balance/policy/{policyId}',
    sizeParam: 'page-size',
    firstPage: 1,
    maxPageSize: 200,
  },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/time-off/balance/user/{userId}',
    sizeParam: 'page-size',
    firstPage: 1,
    maxPageSize: 200,
  },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/time-off/policies',
    sizeParam: 'page-size',
    firstPage: 1,
    maxPageSize: 200,
  },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/user-groups', sizeParam: 'page-size', firstPage: 1 },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/user/{userId}/time-entries',
    sizeParam: 'page-size',
    firstPage: 1,
  },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/users', sizeParam: 'page-size', firstPage: 1 },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/users/{userId}/managers', sizeParam: 'page-size', firstPage: 1 },
  { method: 'POST', path: '/v1/workspaces/{workspaceId}/webhooks/{webhookId}/logs', sizeParam: 'size', firstPage: 0 },
  { method: 'GET', path: '/v1/shared-reports/{id}', sizeParam: 'pageSize', firstPage: 1 },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/shared-reports', sizeParam: 'pageSize', firstPage: 1 },
];

/**
 * Paths the spec serves from the reports host (`servers: https://reports.api.clockify.me`);
 * the client sends them to `reportsUrl` instead of `baseUrl`.
 */
export const REPORTS_PATHS: readonly string[] = [
  '/v1/shared-reports/{id}',
  '/v1/workspaces/{workspaceId}/reports/attendance',
  '/v1/workspaces/{workspaceId}/reports/detailed',
  '/v1/workspaces/{workspaceId}/reports/expenses/detailed',
  '/v1/workspaces/{workspaceId}/reports/summary',
  '/v1/workspaces/{workspaceId}/reports/weekly',
  '/v1/workspaces/{workspaceId}/shared-reports',
  '/v1/workspaces/{workspaceId}/shared-reports/{id}',
];

const pagedByKey = new Map(PAGED_OPERATIONS.map((op) => [`${op.method} ${op.path}`, op]));
const reportsPaths = new Set(REPORTS_PATHS);

/** The paging facts of an operation, or undefined when its spec entry declares no `page`. */
export function pagedOperation(method: string, pathTemplate: string): PagedOperation | undefined {
  return pagedByKey.get(`${method.toUpperCase()} ${pathTemplate}`);
}

export function isPagedOperation(method: string, pathTemplate: string): boolean {
  return pagedOperation(method, pathTemplate) !== undefined;
}

export function isReportsPath(pathTemplate: string): boolean {
  return reportsPaths.has(pathTemplate);
}
