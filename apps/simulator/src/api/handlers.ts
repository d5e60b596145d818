import type { MembershipsParam, MockStore, SortOrder, StoreChange } from '../store/store.js';
import { StoreError } from '../store/store.js';
import { copy } from '../store/changes.js';
import type { CustomField, MembershipStatus, Task } from '../store/types.js';
import type { ApiTokenClaims } from './auth.js';
import type { OperationSpec } from './spec.js';

export interface HandlerResult {
  readonly status: number;
  /** JSON-serialised unless it is a string (sent as text/plain). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Add-on specific endpoints the simulator answers from its installations, when wired. */
export interface AddonHooks {
  /** `GET {apiUrl}/addon/workspaces/{ws}/settings`: the settings as Clockify renders them. */
  getSettings?(workspaceId: string, claims: ApiTokenClaims): unknown;
  /** `PATCH {apiUrl}/addon/workspaces/{ws}/settings` with `[{id, value}]`. */
  updateSettings?(
    workspaceId: string,
    claims: ApiTokenClaims,
    values: ReadonlyArray<{ id: string; value: unknown }>,
  ): Promise<unknown> | unknown;
  /** `POST {apiUrl}/addon/user/{userId}/token`: a user token for that user. */
  userToken?(claims: ApiTokenClaims, userId: string): Promise<string>;
  /** `GET /v1/workspaces/{ws}/addons/{addonId}/webhooks`: the installation's webhooks (WebhooksDtoV1). */
  addonWebhooks?(workspaceId: string, addonId: string, claims: ApiTokenClaims): unknown;
}

export interface HandlerContext {
  readonly op: OperationSpec;
  readonly pathParams: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly claims: ApiTokenClaims;
  readonly store: MockStore;
  readonly hooks: AddonHooks;
  /** Reports a change made through the API, so the matching webhook can be sent. */
  readonly emit: (change: StoreChange) => void;
}

export type Handler = (ctx: HandlerContext) => HandlerResult | Promise<HandlerResult>;

/** Operations that are not in the OpenAPI document but that add-ons call (REFERENCE.md §3.6). */
export const ADDON_OPERATIONS: ReadonlyArray<Pick<OperationSpec, 'operationId' | 'method' | 'path' | 'summary'>> = [
  {
    operationId: 'addonGetSettings',
    method: 'GET',
    path: '/addon/workspaces/{workspaceId}/settings',
    summary: 'Get add-on settings',
  },
  {
    operationId: 'addonUpdateSettings',
    method: 'PATCH',
    path: '/addon/workspaces/{workspaceId}/settings',
    summary: 'Update add-on settings',
  },
  {
    operationId: 'addonUserToken',
    method: 'POST',
    path: '/addon/user/{userId}/token',
    summary: 'Exchange the installation token for a user token',
  },
];

const ws = (ctx: HandlerContext) => ctx.pathParams.workspaceId as string;

export const HANDLERS: Readonly<Record<string, Handler>> = {
  getWorkspaceOfUser: (ctx) => ok(ctx.store.getWorkspace(ws(ctx))),

  getLoggedUser: (ctx) => {
    if (!ctx.claims.user) throw new StoreError(404, 'This token belongs to no user');
    return ok(
      ctx.store.getUser(
        ctx.claims.workspaceId,
        ctx.claims.user,
        ctx.query.get('include-memberships') === 'true' ? 'ALL' : 'NONE',
      ),
    );
  },

  getUsersOfWorkspace: (ctx) =>
    paged(
      ctx,
      ctx.store.listUsers(ws(ctx), {
        ...opt('status', ctx.query.get('status') as MembershipStatus | 'ALL' | null),
        ...opt('accountStatuses', list(ctx.query, 'account-statuses')),
        ...opt('email', ctx.query.get('email')),
        ...opt('name', ctx.query.get('name')),
        ...opt('projectId', ctx.query.get('project-id')),
        ...opt('memberships', ctx.query.get('memberships') as MembershipsParam | null),
        ...opt('sortColumn', ctx.query.get('sort-column')),
        ...opt('sortOrder', ctx.query.get('sort-order') as SortOrder | null),
      }),
    ),

  getUserGroups: (ctx) =>
    paged(
      ctx,
      ctx.store.listUserGroups(ws(ctx), {
        ...opt('name', ctx.query.get('name')),
        ...opt('projectId', ctx.query.get('project-id')),
        ...opt('sortColumn', ctx.query.get('sort-column')),
        ...opt('sortOrder', ctx.query.get('sort-order') as SortOrder | null),
      }),
    ),

  getClients: (ctx) =>
    paged(
      ctx,
      ctx.store.listClients(ws(ctx), {
        ...opt('name', ctx.query.get('name')),
        ...opt('archived', bool(ctx.query, 'archived')),
        ...opt('sortColumn', ctx.query.get('sort-column')),
        ...opt('sortOrder', ctx.query.get('sort-order') as SortOrder | null),
      }),
    ),
  getClient: (ctx) => ok(ctx.store.getClient(ws(ctx), ctx.pathParams.id as string)),
  createClient: (ctx) => {
    const b = body(ctx);
    return emitted(
      ctx,
      201,
      ctx.store.createClient(ws(ctx), {
        name: str(b.name),
        ...nullable(b, 'email'),
        ...nullable(b, 'address'),
        ...nullable(b, 'note'),
      }),
    );
  },
  updateClient: (ctx) => {
    const b = body(ctx);
    return emitted(
      ctx,
      200,
      ctx.store.updateClient(ws(ctx), ctx.pathParams.id as string, {
        ...(b.name !== undefined ? { name: str(b.name) } : {}),
        ...nullable(b, 'email'),
        ...nullable(b, 'address'),
        ...nullable(b, 'note'),
        ...(typeof b.archived === 'boolean' ? { archived: b.archived } : {}),
      }),
    );
  },
  deleteClient: (ctx) => emitted(ctx, 200, ctx.store.deleteClient(ws(ctx), ctx.pathParams.id as string)),

  getProjects: (ctx) =>
    paged(
      ctx,
      ctx.store.listProjects(ws(ctx), {
        ...opt('name', ctx.query.get('name')),
        ...opt('strictName', bool(ctx.query, 'strict-name-search')),
        ...opt('archived', bool(ctx.query, 'archived')),
        ...opt('billable', bool(ctx.query, 'billable')),
        ...opt('isTemplate', bool(ctx.query, 'is-template')),
        ...opt('clientIds', list(ctx.query, 'clients')),
        ...opt('sortColumn', ctx.query.get('sort-column')),
        ...opt('sortOrder', ctx.query.get('sort-order') as SortOrder | null),
      }),
    ),
  getProject: (ctx) => ok(ctx.store.getProject(ws(ctx), ctx.pathParams.projectId as string)),

  getTasks: (ctx) =>
    paged(
      ctx,
      ctx.store.listTasks(ws(ctx), ctx.pathParams.projectId as string, {
        ...opt('name', ctx.query.get('name')),
        ...opt('strictName', bool(ctx.query, 'strict-name-search')),
        ...opt('isActive', bool(ctx.query, 'is-active')),
        ...opt('sortColumn', ctx.query.get('sort-column')),
        ...opt('sortOrder', ctx.query.get('sort-order') as SortOrder | null),
      }),
    ),
  getTask: (ctx) => ok(ctx.store.getTask(ws(ctx), ctx.pathParams.projectId as string, ctx.pathParams.taskId as string)),
  createTask: (ctx) => {
    const b = body(ctx);
    return emitted(
      ctx,
      201,
      ctx.store.createTask(ws(ctx), ctx.pathParams.projectId as string, {
        name: str(b.name),
        ...(Array.isArray(b.assigneeIds) ? { assigneeIds: b.assigneeIds.map(String) } : {}),
        ...(b.status === 'ACTIVE' || b.status === 'DONE' ? { status: b.status as Task['status'] } : {}),
      }),
    );
  },
  updateTask: (ctx) => {
    const b = body(ctx);
    return emitted(
      ctx,
      200,
      ctx.store.updateTask(ws(ctx), ctx.pathParams.projectId as string, ctx.pathParams.taskId as string, {
        name: str(b.name),
        ...(Array.isArray(b.assigneeIds) ? { assigneeIds: b.assigneeIds.map(String) } : {}),
        ...(b.status === 'ACTIVE' || b.status === 'DONE' ? { status: b.status as Task['status'] } : {}),
        ...(typeof b.billable === 'boolean' ? { billable: b.billable } : {}),
      }),
    );
  },
  deleteTask: (ctx) =>
    emitted(
      ctx,
      200,
      ctx.store.deleteTask(ws(ctx), ctx.pathParams.projectId as string, ctx.pathParams.taskId as string),
    ),

  getTags: (ctx) =>
    paged(
      ctx,
      ctx.store.listTags(ws(ctx), {
        ...opt('name', ctx.query.get('name')),
        ...opt('strictName', bool(ctx.query, 'strict-name-search')),
        ...opt('archived', bool(ctx.query, 'archived')),
        ...opt('excludedIds', list(ctx.query, 'excluded-ids')),
        ...opt('sortColumn', ctx.query.get('sort-column')),
        ...opt('sortOrder', ctx.query.get('sort-order') as SortOrder | null),
      }),
    ),
  getTag: (ctx) => ok(ctx.store.getTag(ws(ctx), ctx.pathParams.id as string)),
  createNewTag: (ctx) => emitted(ctx, 201, ctx.store.createTag(ws(ctx), { name: str(body(ctx).name) })),
  updateTag: (ctx) => {
    const b = body(ctx);
    return emitted(
      ctx,
      200,
      ctx.store.updateTag(ws(ctx), ctx.pathParams.id as string, {
        ...(b.name !== undefined ? { name: str(b.name) } : {}),
        ...(typeof b.archived === 'boolean' ? { archived: b.archived } : {}),
      }),
    );
  },
  deleteTag: (ctx) => emitted(ctx, 200, ctx.store.deleteTag(ws(ctx), ctx.pathParams.id as string)),

  // Unpaged in the spec: every matching field at once, whatever `page` says.
  ofWorkspace: (ctx) =>
    ok(
      ctx.store.listCustomFields(ws(ctx), {
        ...opt('name', ctx.query.get('name')),
        ...opt('status', ctx.query.get('status') as CustomField['status'] | null),
        ...opt('entityType', ctx.query.get('entity-type')),
      }),
    ),

  getTimeEntries: (ctx) => {
    // Only the page is copied (a user may have thousands of entries; the mock must keep up with
    // a bootstrap at the rate limit).
    const entries = ctx.store.selectTimeEntries(ws(ctx), ctx.pathParams.userId as string, {
      ...opt('start', ctx.query.get('start')),
      ...opt('end', ctx.query.get('end')),
      ...(ctx.query.get('in-progress') === 'true' ? { inProgress: true } : {}),
      ...opt('description', ctx.query.get('description')),
      ...opt('projectId', ctx.query.get('project')),
      ...opt('taskId', ctx.query.get('task')),
      ...opt('tagIds', list(ctx.query, 'tags')),
    });
    const hydrated = ctx.query.get('hydrated') === 'true';
    return paged(ctx, entries, (e) => (hydrated ? ctx.store.hydrate(ws(ctx), e) : copy(e)));
  },
  getTimeEntry: (ctx) => {
    const entry = ctx.store.getTimeEntry(ws(ctx), ctx.pathParams.id as string);
    return ok(ctx.query.get('hydrated') === 'true' ? ctx.store.hydrate(ws(ctx), entry) : entry);
  },
  getInProgressTimeEntries: (ctx) => paged(ctx, ctx.store.listInProgress(ws(ctx))),
  createTimeEntry: (ctx) => {
    if (!ctx.claims.user)
      throw new StoreError(400, 'This token belongs to no user; use POST /user/{userId}/time-entries');
    return createEntry(ctx, ctx.claims.user);
  },
  createForOthers: (ctx) => createEntry(ctx, ctx.pathParams.userId as string),
  updateTimeEntry: (ctx) => {
    const b = body(ctx);
    if (typeof b.start !== 'string') throw new StoreError(400, "Field 'start' is required");
    return emitted(
      ctx,
      200,
      ctx.store.updateTimeEntry(ws(ctx), ctx.pathParams.id as string, {
        start: b.start,
        end: typeof b.end === 'string' ? b.end : null,
        ...entryFields(b),
      }),
    );
  },
  deleteTimeEntry: (ctx) => {
    ctx.emit(ctx.store.deleteTimeEntry(ws(ctx), ctx.pathParams.id as string));
    return { status: 204 };
  },
  stopRunningTimeEntry: (ctx) => {
    const b = body(ctx);
    if (typeof b.end !== 'string') throw new StoreError(400, "Field 'end' is required");
    return emitted(ctx, 200, ctx.store.stopTimer(ws(ctx), ctx.pathParams.userId as string, b.end));
  },

  addonGetSettings: (ctx) => {
    if (!ctx.hooks.getSettings) return notWired(ctx);
    return ok(ctx.hooks.getSettings(ws(ctx), ctx.claims));
  },
  addonUpdateSettings: async (ctx) => {
    if (!ctx.hooks.updateSettings) return notWired(ctx);
    const values = ctx.body;
    if (
      !Array.isArray(values) ||
      values.some((v) => typeof v !== 'object' || v === null || typeof (v as { id?: unknown }).id !== 'string')
    ) {
      throw new StoreError(400, 'Expected a JSON array of {id, value}');
    }
    return ok(await ctx.hooks.updateSettings(ws(ctx), ctx.claims, values as Array<{ id: string; value: unknown }>));
  },
  getAddonWebhooks: (ctx) => {
    if (!ctx.hooks.addonWebhooks) return notWired(ctx);
    return ok(ctx.hooks.addonWebhooks(ws(ctx), ctx.pathParams.addonId as string, ctx.claims));
  },
  addonUserToken: async (ctx) => {
    if (!ctx.hooks.userToken) return notWired(ctx);
    const userId = ctx.pathParams.userId as string;
    ctx.store.getUser(ctx.claims.workspaceId, userId);
    return { status: 200, body: await ctx.hooks.userToken(ctx.claims, userId) };
  },
};

function createEntry(ctx: HandlerContext, userId: string): HandlerResult {
  const b = body(ctx);
  const fields = entryFields(b);
  if (typeof b.end === 'string') {
    if (typeof b.start !== 'string') throw new StoreError(400, "Field 'start' is required");
    return emitted(ctx, 201, ctx.store.createTimeEntry(ws(ctx), { userId, start: b.start, end: b.end, ...fields }));
  }
  return emitted(
    ctx,
    201,
    ctx.store.startTimer(ws(ctx), { userId, ...(typeof b.start === 'string' ? { start: b.start } : {}), ...fields }),
  );
}

function entryFields(b: Record<string, unknown>) {
  return {
    ...(typeof b.description === 'string' ? { description: b.description } : {}),
    ...(typeof b.projectId === 'string' || b.projectId === null ? { projectId: b.projectId as string | null } : {}),
    ...(typeof b.taskId === 'string' || b.taskId === null ? { taskId: b.taskId as string | null } : {}),
    ...(Array.isArray(b.tagIds) ? { tagIds: b.tagIds.map(String) } : {}),
    ...(typeof b.billable === 'boolean' ? { billable: b.billable } : {}),
    ...(Array.isArray(b.customFields)
      ? {
          customFieldValues: (b.customFields as Array<{ customFieldId?: unknown; value?: unknown }>).map((f) => ({
            customFieldId: String(f.customFieldId),
            value: f.value,
          })),
        }
      : {}),
  };
}

function emitted(ctx: HandlerContext, status: number, change: StoreChange): HandlerResult {
  ctx.emit(change);
  for (const earlier of change.also ?? []) ctx.emit(earlier);
  return { status, body: change.entity };
}

function notWired(ctx: HandlerContext): HandlerResult {
  return {
    status: 501,
    body: { message: `${ctx.op.operationId} needs an installed add-on; use the simulator's install()`, code: 501 },
  };
}

export function ok(body: unknown): HandlerResult {
  return { status: 200, body };
}

/**
 * One page the way Clockify pages: `page` is 1-based (default 1), `page-size` defaults to the
 * spec's default (50 almost everywhere), the body is a plain array and `Last-Page` says whether
 * more follow. A page past the end is an empty array with `Last-Page: true`.
 */
export function paged<T>(
  ctx: HandlerContext,
  items: readonly T[],
  map: (item: T) => unknown = (x) => x,
): HandlerResult {
  if (!ctx.op.paged) return ok(items.map(map));
  const page = Math.max(1, intParam(ctx.query, 'page') ?? 1);
  const size = Math.max(1, intParam(ctx.query, 'page-size') ?? ctx.op.defaultPageSize);
  const from = (page - 1) * size;
  const slice = from < items.length ? items.slice(from, from + size) : [];
  return { status: 200, body: slice.map(map), headers: { 'Last-Page': String(from + size >= items.length) } };
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || !/^-?\d+$/.test(raw)) return undefined;
  return Number(raw);
}

function bool(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  return raw === 'true' ? true : raw === 'false' ? false : undefined;
}

function list(query: URLSearchParams, name: string): string[] | undefined {
  const values = query
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  return values.length > 0 ? values : undefined;
}

function opt<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function body(ctx: HandlerContext): Record<string, unknown> {
  if (typeof ctx.body !== 'object' || ctx.body === null || Array.isArray(ctx.body))
    throw new StoreError(400, 'Expected a JSON object body');
  return ctx.body as Record<string, unknown>;
}

function str(value: unknown): string {
  if (typeof value !== 'string') throw new StoreError(400, "Field 'name' is required");
  return value;
}

function nullable(b: Record<string, unknown>, key: string): Record<string, string | null> {
  const v = b[key];
  return typeof v === 'string' || v === null ? { [key]: v } : {};
}
