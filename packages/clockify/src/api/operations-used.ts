import type { ApiPath, HttpMethod } from './types.js';

export interface OperationUsed {
  readonly method: HttpMethod;
  readonly path: ApiPath;
  /** Every query parameter the platform sends; must include all the spec marks required. */
  readonly query: readonly string[];
  /** Fixed values the platform always sends; each must be allowed by the spec's enum. */
  readonly values?: Readonly<Record<string, string>>;
  /** What calls it: a bootstrap (and reconciliation), or the periodic webhook health check. */
  readonly purpose: 'bootstrap' | 'webhook-health';
}

/**
 * The Clockify operations of the public spec the platform calls (bootstrap, reconciliation and
 * the webhook health check). A test checks each
 * against the official spec: the operation exists, the listed parameters exist, and every
 * required one is listed — the predecessor called `users` without `include-roles`. The worker's
 * bootstrap test checks that a full bootstrap calls exactly these operations.
 */
export const OPERATIONS_USED: readonly OperationUsed[] = [
  { purpose: 'bootstrap', method: 'GET', path: '/v1/workspaces/{workspaceId}', query: [] },
  {
    purpose: 'bootstrap',
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/users',
    query: ['include-roles', 'status', 'account-statuses', 'page', 'page-size'],
    // Without `status` and `account-statuses` Clockify lists only some users (the latter's
    // default leaves LIMITED users out); bootstrap wants every user.
    values: { status: 'ALL' },
  },
  {
    purpose: 'bootstrap',
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/user-groups',
    query: ['page', 'page-size'],
  },
  { purpose: 'bootstrap', method: 'GET', path: '/v1/workspaces/{workspaceId}/clients', query: ['page', 'page-size'] },
  { purpose: 'bootstrap', method: 'GET', path: '/v1/workspaces/{workspaceId}/projects', query: ['page', 'page-size'] },
  {
    purpose: 'bootstrap',
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/projects/{projectId}/tasks',
    query: ['page', 'page-size'],
  },
  { purpose: 'bootstrap', method: 'GET', path: '/v1/workspaces/{workspaceId}/tags', query: ['page', 'page-size'] },
  // Not paged in the spec (no `page` parameter): one request returns the whole list.
  { purpose: 'bootstrap', method: 'GET', path: '/v1/workspaces/{workspaceId}/custom-fields', query: [] },
  {
    purpose: 'bootstrap',
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/user/{userId}/time-entries',
    query: ['start', 'end', 'page', 'page-size'],
  },
  // Whether Clockify still delivers the add-on's webhooks (`deliveryEnabled`, `planEnabled`).
  {
    purpose: 'webhook-health',
    method: 'GET',
    path: '/v1/workspaces/{workspaceId}/addons/{addonId}/webhooks',
    query: [],
  },
];
