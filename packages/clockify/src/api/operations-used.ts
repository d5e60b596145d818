import type { ApiPath, HttpMethod } from './types.js';

export interface OperationUsed {
  readonly method: HttpMethod;
  readonly path: ApiPath;
  /** Every query parameter the platform sends; must include all the spec marks required. */
  readonly query: readonly string[];
  /** Fixed values the platform always sends; each must be allowed by the spec's enum. */
  readonly values?: Readonly<Record<string, string>>;
}

/**
 * The Clockify operations the platform calls (bootstrap and reconciliation). A test checks each
 * against the official spec: the operation exists, the listed parameters exist, and every
 * required one is listed — the predecessor called `users` without `include-roles`. The worker's
 * bootstrap test checks that a full bootstrap calls exactly these operations.
 */
export const OPERATIONS_USED: readonly OperationUsed[] = [
  { method: 'GET', path: '/v1/workspaces/{workspaceId}', query: [] },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/users',
    query: ['include-roles', 'status', 'account-statuses', 'page', 'page-size'],
    // Without `status` and `account-statuses` Clockify lists only some users (the latter's
    // default leaves LIMITED users out); bootstrap wants every user.
    values: { status: 'ALL' },
  },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/user-groups', query: ['page', 'page-size'] },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/clients', query: ['page', 'page-size'] },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/projects', query: ['page', 'page-size'] },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/projects/{projectId}/tasks', query: ['page', 'page-size'] },
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/tags', query: ['page', 'page-size'] },
  // Not paged in the spec (no `page` parameter): one request returns the whole list.
  { method: 'GET', path: '/v1/workspaces/{workspaceId}/custom-fields', query: [] },
  {
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/user/{userId}/time-entries',
    query: ['start', 'end', 'page', 'page-size'],
  },
];
