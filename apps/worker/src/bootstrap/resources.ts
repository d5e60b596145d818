import { BOOTSTRAP_RESOURCES, type BootstrapResource } from '@cap/addon';
import type { ClockifyClient, Scope } from '@cap/clockify';
import type { CursorTimeWindow } from '@cap/db';

/**
 * What a bootstrap copies, in the order of the architecture: workspace, users (every status),
 * user groups, clients, projects, tasks of each project, tags, custom fields, and each user's
 * time entries for a window. Only operations whose spec entry declares `page` are paged.
 */
export const RESOURCE_NAMES = BOOTSTRAP_RESOURCES;
export type ResourceName = BootstrapResource;

export interface Fetched {
  readonly items: readonly Record<string, unknown>[];
  readonly lastPage: boolean;
  readonly page: number;
}

interface BaseSpec {
  readonly name: ResourceName;
  readonly entityType: string;
  /** The scope the add-on needs for this listing; resources whose scope it lacks are not run. */
  readonly scope: Scope;
}

/** One request returns everything (not paged in the spec). */
interface WholeSpec extends BaseSpec {
  readonly kind: 'whole';
  fetch(api: ClockifyClient): Promise<Record<string, unknown>[]>;
}

/** Paged listing. */
interface PagedSpec extends BaseSpec {
  readonly kind: 'paged';
  pages(api: ClockifyClient, startPage: number, pageSize: number, maxPages: number): AsyncGenerator<Fetched>;
}

/** Paged listing per entity of a parent resource (tasks per project, time entries per user). */
interface PerParentSpec extends BaseSpec {
  readonly kind: 'per-parent';
  readonly parent: ResourceName;
  readonly parentEntityType: string;
  pages(
    api: ClockifyClient,
    parentId: string,
    startPage: number,
    pageSize: number,
    maxPages: number,
    window: TimeWindow,
  ): AsyncGenerator<Fetched>;
  /** The listing covers a time window (only rows inside it can be proved gone). */
  readonly windowed?: boolean;
}

export type ResourceSpec = WholeSpec | PagedSpec | PerParentSpec;

/** The time window of a windowed listing, as its cursor stores it (`yyyy-MM-ddThh:mm:ssZ`). */
export type TimeWindow = CursorTimeWindow;

export function timeWindow(now: Date, days: number): TimeWindow {
  const fmt = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
  return { start: fmt(new Date(now.getTime() - days * 86_400_000)), end: fmt(new Date(now.getTime() + 86_400_000)) };
}

/**
 * Without `account-statuses` Clockify lists only ACTIVE, PENDING_EMAIL_VERIFICATION and
 * NOT_REGISTERED accounts (spec of getUsersOfWorkspace); LIMITED users would be missing.
 */
export const ALL_ACCOUNT_STATUSES = 'ACTIVE,PENDING_EMAIL_VERIFICATION,NOT_REGISTERED,LIMITED';

const asRecords = (items: readonly unknown[]): Record<string, unknown>[] => items as Record<string, unknown>[];

/** The client's typed pages as the untyped rows a bootstrap stores. */
async function* rows(
  pages: AsyncIterable<{ items: readonly unknown[]; lastPage: boolean; page: number }>,
): AsyncGenerator<Fetched> {
  for await (const p of pages) yield { items: asRecords(p.items), lastPage: p.lastPage, page: p.page };
}

export const RESOURCES: Readonly<Record<ResourceName, ResourceSpec>> = {
  workspace: {
    name: 'workspace',
    entityType: 'workspace',
    scope: 'WORKSPACE_READ',
    kind: 'whole',
    async fetch(api) {
      const { data } = await api.request('GET', '/v1/workspaces/{workspaceId}');
      return [data as Record<string, unknown>];
    },
  },
  users: {
    name: 'users',
    entityType: 'user',
    scope: 'USER_READ',
    kind: 'paged',
    pages: (api, startPage, pageSize, maxPages) =>
      rows(
        api.paginate(
          '/v1/workspaces/{workspaceId}/users',
          { query: { 'include-roles': 'true', status: 'ALL', 'account-statuses': ALL_ACCOUNT_STATUSES } },
          { startPage, pageSize, maxPages },
        ),
      ),
  },
  'user-groups': {
    name: 'user-groups',
    entityType: 'user_group',
    scope: 'GROUP_READ',
    kind: 'paged',
    pages: (api, startPage, pageSize, maxPages) =>
      rows(api.paginate('/v1/workspaces/{workspaceId}/user-groups', {}, { startPage, pageSize, maxPages })),
  },
  clients: {
    name: 'clients',
    entityType: 'client',
    scope: 'CLIENT_READ',
    kind: 'paged',
    pages: (api, startPage, pageSize, maxPages) =>
      rows(api.paginate('/v1/workspaces/{workspaceId}/clients', {}, { startPage, pageSize, maxPages })),
  },
  projects: {
    name: 'projects',
    entityType: 'project',
    scope: 'PROJECT_READ',
    kind: 'paged',
    pages: (api, startPage, pageSize, maxPages) =>
      rows(api.paginate('/v1/workspaces/{workspaceId}/projects', {}, { startPage, pageSize, maxPages })),
  },
  tasks: {
    name: 'tasks',
    entityType: 'task',
    scope: 'TASK_READ',
    kind: 'per-parent',
    parent: 'projects',
    parentEntityType: 'project',
    pages: (api, projectId, startPage, pageSize, maxPages) =>
      rows(
        api.paginate(
          '/v1/workspaces/{workspaceId}/projects/{projectId}/tasks',
          { path: { projectId } },
          { startPage, pageSize, maxPages },
        ),
      ),
  },
  tags: {
    name: 'tags',
    entityType: 'tag',
    scope: 'TAG_READ',
    kind: 'paged',
    pages: (api, startPage, pageSize, maxPages) =>
      rows(api.paginate('/v1/workspaces/{workspaceId}/tags', {}, { startPage, pageSize, maxPages })),
  },
  'custom-fields': {
    name: 'custom-fields',
    entityType: 'custom_field',
    scope: 'CUSTOM_FIELDS_READ',
    kind: 'whole',
    async fetch(api) {
      const { data } = await api.request('GET', '/v1/workspaces/{workspaceId}/custom-fields');
      return Array.isArray(data) ? asRecords(data) : [];
    },
  },
  'time-entries': {
    name: 'time-entries',
    entityType: 'time_entry',
    scope: 'TIME_ENTRY_READ',
    kind: 'per-parent',
    parent: 'users',
    parentEntityType: 'user',
    windowed: true,
    pages: (api, userId, startPage, pageSize, maxPages, window) =>
      rows(
        api.paginate(
          '/v1/workspaces/{workspaceId}/user/{userId}/time-entries',
          { path: { userId }, query: { start: window.start, end: window.end } },
          { startPage, pageSize, maxPages },
        ),
      ),
  },
};

/** The resources an add-on with these scopes bootstraps. */
export function resourcesFor(
  scopes: readonly Scope[],
  include: (name: ResourceName) => boolean = () => true,
): ResourceName[] {
  const selected = RESOURCE_NAMES.filter((name) => scopes.includes(RESOURCES[name].scope) && include(name));
  // A per-parent listing without its parent listing would walk a stale parent list: left out too.
  return selected.filter((name) => {
    const spec = RESOURCES[name];
    return spec.kind !== 'per-parent' || selected.includes(spec.parent);
  });
}

/** Resources that wait for another one to finish (their parent list). */
export function dependentsOf(name: ResourceName, selected: readonly string[]): ResourceName[] {
  return RESOURCE_NAMES.filter((r) => {
    const spec = RESOURCES[r];
    return spec.kind === 'per-parent' && spec.parent === name && selected.includes(r);
  });
}

export function isRoot(name: ResourceName, selected: readonly string[]): boolean {
  const spec = RESOURCES[name];
  return spec.kind !== 'per-parent' || !selected.includes(spec.parent);
}

export function isResourceName(s: string): s is ResourceName {
  return (RESOURCE_NAMES as readonly string[]).includes(s);
}

/**
 * Jobs that copy one per-parent listing (tasks of each project, time entries of each user) side
 * by side. A listing is walked page after page, so one job's rate is bounded by the API's
 * latency (measured: see bench/bootstrap/README.md, section "One listing job's rate"); several
 * jobs, each with one page in flight, reach the workspace's limit, which the shared limiter
 * enforces however many there are. A process runs WORKER_CONCURRENCY_BOOTSTRAP of them at once;
 * more jobs than that let a second process help when Clockify answers slowly. Each job still
 * keeps at most one page in flight, so a killed worker costs one page per job it was running.
 */
export const PARENT_LISTING_JOBS = 8;
