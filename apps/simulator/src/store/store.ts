import type { WebhookEventName } from '@cap/clockify';
import { objectId, Rng } from '../random.js';
import { isoDuration, isoInstant, parseInstant } from './format.js';
import {
  addEntry,
  compareEntries,
  CURRENCY,
  generateWorkspace,
  recomputeDurations,
  removeEntry,
  workspaceMembership,
  type WorkspaceData,
} from './generate.js';
import type {
  AccountStatus,
  Client,
  CustomField,
  Membership,
  MembershipStatus,
  Project,
  Rate,
  Tag,
  Task,
  TimeEntry,
  User,
  UserGroup,
  UserRecord,
  Workspace,
  WorkspaceSizes,
  WorkspaceSpec,
} from './types.js';

export type EntityKind =
  'workspace' | 'user' | 'userGroup' | 'client' | 'project' | 'task' | 'tag' | 'customField' | 'timeEntry';

/**
 * What a mutation changed, with the webhook Clockify sends for it (undefined when Clockify sends
 * none, e.g. custom fields). `entity` is a snapshot after the change (for deletions: the entity as
 * it was), `previous` the snapshot before. Snapshots are copies: later changes do not alter them.
 */
export interface StoreChange<T = unknown> {
  readonly workspaceId: string;
  readonly event: WebhookEventName | undefined;
  readonly entityType: EntityKind;
  readonly kind: 'created' | 'updated' | 'deleted';
  readonly entity: T;
  readonly previous?: T;
  /** Other entities touched by the same operation (e.g. the second half of a split entry). */
  readonly related?: readonly unknown[];
  /** Changes that happened first as a consequence (e.g. a running timer stopped by a new one). */
  readonly also?: readonly StoreChange[];
}

export class StoreError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface MockStoreOptions {
  readonly seed?: string | number;
  /** One entry per workspace, or how many workspaces; default one workspace. */
  readonly workspaces?: number | readonly WorkspaceSpec[];
  /** Sizes of every workspace that does not set its own (defaults: DEFAULT_SIZES). */
  readonly sizes?: Partial<WorkspaceSizes>;
  /** The "now" the data is generated around (ms); default the current time. */
  readonly nowMs?: number;
  /** Clock for mutations; default Date.now. */
  readonly clock?: () => number;
}

export type SortOrder = 'ASCENDING' | 'DESCENDING';
export type MembershipsParam = 'ALL' | 'NONE' | 'WORKSPACE' | 'PROJECT' | 'USERGROUP';

export interface UserQuery {
  readonly status?: MembershipStatus | 'ALL';
  /** Account statuses to include; default ACTIVE, PENDING_EMAIL_VERIFICATION, NOT_REGISTERED (as Clockify). */
  readonly accountStatuses?: readonly string[];
  readonly email?: string;
  readonly name?: string;
  readonly projectId?: string;
  readonly memberships?: MembershipsParam;
  readonly sortColumn?: string;
  readonly sortOrder?: SortOrder;
}

export interface NamedQuery {
  readonly name?: string;
  readonly strictName?: boolean;
  readonly archived?: boolean;
  readonly sortColumn?: string;
  readonly sortOrder?: SortOrder;
}

export interface ProjectQuery extends NamedQuery {
  readonly billable?: boolean;
  readonly clientIds?: readonly string[];
  readonly isTemplate?: boolean;
}

export interface TaskQuery extends NamedQuery {
  readonly isActive?: boolean;
}

export interface TagQuery extends NamedQuery {
  readonly excludedIds?: readonly string[];
}

export interface CustomFieldQuery {
  readonly name?: string;
  readonly status?: CustomField['status'];
  readonly entityType?: string;
}

export interface TimeEntryQuery {
  /** Only entries starting at or after this instant. */
  readonly start?: string;
  /** Only entries starting at or before this instant. */
  readonly end?: string;
  readonly inProgress?: boolean;
  readonly description?: string;
  readonly projectId?: string;
  readonly taskId?: string;
  readonly tagIds?: readonly string[];
}

/** A time entry with its related entities attached, as `hydrated=true` and webhooks carry it. */
export type HydratedTimeEntry = TimeEntry & {
  project: Project | null;
  task: Task | null;
  tags: Tag[];
  user: { id: string; name: string; email: string; status: AccountStatus } | null;
};

const DEFAULT_ACCOUNT_STATUSES: readonly AccountStatus[] = ['ACTIVE', 'PENDING_EMAIL_VERIFICATION', 'NOT_REGISTERED'];

/**
 * The simulator's Clockify: seeded workspaces with their users, groups, clients, projects, tasks,
 * tags, custom fields and time entries; queries the mock API serves and mutations that return
 * what changed. Reads return copies, so callers cannot corrupt the store by editing results.
 */
export class MockStore {
  readonly seed: string;
  readonly nowMs: number;
  private readonly data = new Map<string, WorkspaceData>();
  private readonly clock: () => number;

  constructor(options: MockStoreOptions = {}) {
    this.seed = String(options.seed ?? 'clockify-simulator');
    this.nowMs = options.nowMs ?? Date.now();
    this.clock = options.clock ?? Date.now;
    const given = options.workspaces ?? 1;
    if (typeof given === 'number' && (!Number.isInteger(given) || given < 1 || given > 1000))
      throw new Error('workspaces must be between 1 and 1000');
    const specs: readonly WorkspaceSpec[] =
      typeof given === 'number' ? Array.from({ length: given }, () => ({})) : given.length > 0 ? given : [{}];
    const root = new Rng(this.seed);
    specs.forEach((spec, i) => {
      const sized = options.sizes ? { ...spec, sizes: { ...options.sizes, ...spec.sizes } } : spec;
      const ws = generateWorkspace(root.fork(`workspace-${i}`), sized, this.nowMs);
      if (this.data.has(ws.workspace.id)) throw new Error(`workspace ${ws.workspace.id} is listed twice`);
      this.data.set(ws.workspace.id, ws);
    });
  }

  workspaceIds(): string[] {
    return [...this.data.keys()];
  }

  hasWorkspace(workspaceId: string): boolean {
    return this.data.has(workspaceId);
  }

  /** The owner (INSTALLED `asUser`) and the add-on's own user of a workspace. */
  principals(workspaceId: string): { ownerId: string; addonUserId: string } {
    const ws = this.ws(workspaceId);
    return { ownerId: ws.ownerId, addonUserId: ws.addonUserId };
  }

  /** Counts per entity type, for humans and tests. */
  summary(workspaceId: string) {
    const ws = this.ws(workspaceId);
    let tasks = 0;
    for (const t of ws.tasks.values()) tasks += t.size;
    let running = 0;
    for (const e of ws.entries.values()) if (e.timeInterval.end === null) running++;
    return {
      id: ws.workspace.id,
      name: ws.workspace.name,
      ownerId: ws.ownerId,
      users: ws.users.size,
      userGroups: ws.userGroups.size,
      clients: ws.clients.size,
      projects: ws.projects.size,
      tasks,
      tags: ws.tags.size,
      customFields: ws.customFields.size,
      timeEntries: ws.entries.size,
      runningTimers: running,
    };
  }

  // ---------------------------------------------------------------- queries

  getWorkspace(workspaceId: string): Workspace {
    const ws = this.ws(workspaceId);
    ws.workspace.memberships = [...ws.users.values()].map((u) => workspaceMembership(u, ws.workspace.id));
    return copy(ws.workspace);
  }

  listUsers(workspaceId: string, q: UserQuery = {}): User[] {
    const ws = this.ws(workspaceId);
    const accountStatuses =
      q.accountStatuses && q.accountStatuses.length > 0 ? q.accountStatuses : DEFAULT_ACCOUNT_STATUSES;
    const projectMembers = q.projectId
      ? new Set(
          this.ws(workspaceId)
            .projects.get(q.projectId)
            ?.memberships.map((m) => m.userId) ?? [],
        )
      : undefined;
    const list = [...ws.users.values()].filter(
      (u) =>
        (q.status === undefined || q.status === 'ALL' || u.membershipStatus === q.status) &&
        accountStatuses.includes(u.user.status) &&
        (q.email === undefined || u.user.email.toLowerCase().includes(q.email.toLowerCase())) &&
        (q.name === undefined || u.user.name.toLowerCase().includes(q.name.toLowerCase())) &&
        (projectMembers === undefined || projectMembers.has(u.user.id)),
    );
    const column = q.sortColumn ?? 'EMAIL';
    const key = (u: UserRecord): string | number =>
      column === 'ID'
        ? u.user.id
        : column === 'NAME' || column === 'NAME_LOWERCASE'
          ? u.user.name.toLowerCase()
          : column === 'HOURLYRATE'
            ? (u.hourlyRate?.amount ?? 0)
            : column === 'COSTRATE'
              ? (u.costRate?.amount ?? 0)
              : u.user.email.toLowerCase();
    sortBy(list, key, (u) => u.user.id, q.sortOrder);
    return list.map((u) => this.userDto(ws, u, q.memberships ?? 'NONE'));
  }

  getUser(workspaceId: string, userId: string, memberships: MembershipsParam = 'WORKSPACE'): User {
    const ws = this.ws(workspaceId);
    return this.userDto(ws, this.userRecord(ws, userId), memberships);
  }

  /** A user's workspace membership status (PENDING, ACTIVE, DECLINED, INACTIVE). */
  membershipStatus(workspaceId: string, userId: string): MembershipStatus {
    return this.userRecord(this.ws(workspaceId), userId).membershipStatus;
  }

  listUserGroups(workspaceId: string, q: NamedQuery & { projectId?: string } = {}): UserGroup[] {
    const ws = this.ws(workspaceId);
    const list = [...ws.userGroups.values()].filter(
      (g) => matchesName(g.name, q) && (q.projectId === undefined || this.groupOnProject(ws, g, q.projectId)),
    );
    sortBy(
      list,
      (g) => (q.sortColumn === 'ID' ? g.id : g.name.toLowerCase()),
      (g) => g.id,
      q.sortOrder,
    );
    return list.map(copy);
  }

  listClients(workspaceId: string, q: NamedQuery = {}): Client[] {
    const ws = this.ws(workspaceId);
    const list = [...ws.clients.values()].filter(
      (c) => matchesName(c.name, q) && (q.archived === undefined || c.archived === q.archived),
    );
    sortBy(
      list,
      (c) => (q.sortColumn === 'ID' ? c.id : c.name.toLowerCase()),
      (c) => c.id,
      q.sortOrder,
    );
    return list.map(copy);
  }

  getClient(workspaceId: string, clientId: string): Client {
    return copy(this.client(this.ws(workspaceId), clientId));
  }

  listProjects(workspaceId: string, q: ProjectQuery = {}): Project[] {
    const ws = this.ws(workspaceId);
    const clientIds = q.clientIds && q.clientIds.length > 0 ? new Set(q.clientIds) : undefined;
    const list = [...ws.projects.values()].filter(
      (p) =>
        matchesName(p.name, q) &&
        (q.archived === undefined || p.archived === q.archived) &&
        (q.billable === undefined || p.billable === q.billable) &&
        (q.isTemplate === undefined || p.template === q.isTemplate) &&
        (clientIds === undefined || clientIds.has(p.clientId)),
    );
    const column = q.sortColumn ?? 'NAME';
    sortBy(
      list,
      (p) => (column === 'ID' ? p.id : column === 'CLIENT_NAME' ? p.clientName.toLowerCase() : p.name.toLowerCase()),
      (p) => p.id,
      q.sortOrder,
    );
    return list.map(copy);
  }

  getProject(workspaceId: string, projectId: string): Project {
    return copy(this.project(this.ws(workspaceId), projectId));
  }

  listTasks(workspaceId: string, projectId: string, q: TaskQuery = {}): Task[] {
    const ws = this.ws(workspaceId);
    this.project(ws, projectId);
    const list = [...(ws.tasks.get(projectId)?.values() ?? [])].filter(
      (t) => matchesName(t.name, q) && (q.isActive === undefined || (t.status === 'ACTIVE') === q.isActive),
    );
    sortBy(
      list,
      (t) => (q.sortColumn === 'ID' ? t.id : t.name.toLowerCase()),
      (t) => t.id,
      q.sortOrder,
    );
    return list.map(copy);
  }

  getTask(workspaceId: string, projectId: string, taskId: string): Task {
    return copy(this.task(this.ws(workspaceId), projectId, taskId));
  }

  listTags(workspaceId: string, q: TagQuery = {}): Tag[] {
    const ws = this.ws(workspaceId);
    const excluded = new Set(q.excludedIds ?? []);
    const list = [...ws.tags.values()].filter(
      (t) => matchesName(t.name, q) && (q.archived === undefined || t.archived === q.archived) && !excluded.has(t.id),
    );
    sortBy(
      list,
      (t) => (q.sortColumn === 'ID' ? t.id : t.name.toLowerCase()),
      (t) => t.id,
      q.sortOrder,
    );
    return list.map(copy);
  }

  getTag(workspaceId: string, tagId: string): Tag {
    return copy(this.tag(this.ws(workspaceId), tagId));
  }

  listCustomFields(workspaceId: string, q: CustomFieldQuery = {}): CustomField[] {
    const ws = this.ws(workspaceId);
    const entityTypes = q.entityType ? q.entityType.split(',').map((s) => s.trim().toUpperCase()) : undefined;
    const list = [...ws.customFields.values()].filter(
      (f) =>
        (q.name === undefined || f.name.toLowerCase().includes(q.name.toLowerCase())) &&
        (q.status === undefined || f.status === q.status) &&
        (entityTypes === undefined || entityTypes.includes(f.entityType)),
    );
    sortBy(
      list,
      (f) => f.name.toLowerCase(),
      (f) => f.id,
      'ASCENDING',
    );
    return list.map(copy);
  }

  listTimeEntries(workspaceId: string, userId: string, q: TimeEntryQuery = {}): TimeEntry[] {
    const ws = this.ws(workspaceId);
    this.userRecord(ws, userId);
    const start = q.start !== undefined ? instant(q.start, 'start') : undefined;
    const end = q.end !== undefined ? instant(q.end, 'end') : undefined;
    const tagIds = q.tagIds && q.tagIds.length > 0 ? q.tagIds : undefined;
    const description = q.description?.toLowerCase();
    return (ws.entriesByUser.get(userId) ?? [])
      .filter((e) => {
        const s = Date.parse(e.timeInterval.start);
        return (
          (start === undefined || s >= start) &&
          (end === undefined || s <= end) &&
          (q.inProgress === undefined || (e.timeInterval.end === null) === q.inProgress) &&
          (q.projectId === undefined || e.projectId === q.projectId) &&
          (q.taskId === undefined || e.taskId === q.taskId) &&
          (description === undefined || e.description.toLowerCase().includes(description)) &&
          (tagIds === undefined || tagIds.some((t) => e.tagIds.includes(t)))
        );
      })
      .map(copy);
  }

  /** Running timers of the workspace, newest first. */
  listInProgress(workspaceId: string): TimeEntry[] {
    const ws = this.ws(workspaceId);
    return [...ws.entries.values()]
      .filter((e) => e.timeInterval.end === null)
      .sort(compareEntries)
      .map(copy);
  }

  getTimeEntry(workspaceId: string, entryId: string): TimeEntry {
    return copy(this.entry(this.ws(workspaceId), entryId));
  }

  /** The running timer of a user, if any. */
  runningTimer(workspaceId: string, userId: string): TimeEntry | undefined {
    const running = this.ws(workspaceId)
      .entriesByUser.get(userId)
      ?.find((e) => e.timeInterval.end === null);
    return running ? copy(running) : undefined;
  }

  /** A random entry of the workspace (finished or running as asked), without copying every entry. */
  randomTimeEntry(workspaceId: string, rng: Rng, filter: { running?: boolean } = {}): TimeEntry | undefined {
    const ws = this.ws(workspaceId);
    const ids = [...ws.entries.keys()];
    for (let attempt = 0; attempt < 20 && ids.length > 0; attempt++) {
      const entry = ws.entries.get(rng.pick(ids)) as TimeEntry;
      if (filter.running === undefined || (entry.timeInterval.end === null) === filter.running) return copy(entry);
    }
    const match = [...ws.entries.values()].find(
      (e) => filter.running === undefined || (e.timeInterval.end === null) === filter.running,
    );
    return match ? copy(match) : undefined;
  }

  hydrate(workspaceId: string, entry: TimeEntry): HydratedTimeEntry {
    const ws = this.ws(workspaceId);
    const project = entry.projectId ? ws.projects.get(entry.projectId) : undefined;
    const task = entry.projectId && entry.taskId ? ws.tasks.get(entry.projectId)?.get(entry.taskId) : undefined;
    const user = ws.users.get(entry.userId)?.user;
    return {
      ...copy(entry),
      project: project ? copy(project) : null,
      task: task ? copy(task) : null,
      tags: entry.tagIds
        .map((id) => ws.tags.get(id))
        .filter((t): t is Tag => t !== undefined)
        .map(copy),
      user: user ? { id: user.id, name: user.name, email: user.email, status: user.status } : null,
    };
  }

  // ---------------------------------------------------------------- tags

  createTag(workspaceId: string, input: { name: string; archived?: boolean }): StoreChange<Tag> {
    const ws = this.ws(workspaceId);
    const name = requireName(input.name, 'tag');
    if ([...ws.tags.values()].some((t) => t.name === name))
      throw new StoreError(400, `Tag with name '${name}' already exists`);
    const tag: Tag = { id: this.newId(ws), name, workspaceId, archived: input.archived ?? false };
    ws.tags.set(tag.id, tag);
    return change(workspaceId, 'NEW_TAG', 'tag', 'created', tag);
  }

  updateTag(workspaceId: string, tagId: string, patch: { name?: string; archived?: boolean }): StoreChange<Tag> {
    const ws = this.ws(workspaceId);
    const tag = this.tag(ws, tagId);
    const previous = copy(tag);
    if (patch.name !== undefined) tag.name = requireName(patch.name, 'tag');
    if (patch.archived !== undefined) tag.archived = patch.archived;
    return change(workspaceId, 'TAG_UPDATED', 'tag', 'updated', tag, previous);
  }

  deleteTag(workspaceId: string, tagId: string): StoreChange<Tag> {
    const ws = this.ws(workspaceId);
    const tag = this.tag(ws, tagId);
    ws.tags.delete(tagId);
    for (const e of ws.entries.values()) if (e.tagIds.includes(tagId)) e.tagIds = e.tagIds.filter((t) => t !== tagId);
    return change(workspaceId, 'TAG_DELETED', 'tag', 'deleted', tag);
  }

  // ---------------------------------------------------------------- clients

  createClient(
    workspaceId: string,
    input: { name: string; email?: string | null; address?: string | null; note?: string | null; archived?: boolean },
  ): StoreChange<Client> {
    const ws = this.ws(workspaceId);
    const name = requireName(input.name, 'client');
    if ([...ws.clients.values()].some((c) => c.name === name))
      throw new StoreError(400, `Client with name '${name}' already exists`);
    const currency = ws.workspace.currencies[0] as { id: string; code: string };
    const client: Client = {
      id: this.newId(ws),
      name,
      email: input.email ?? null,
      workspaceId,
      archived: input.archived ?? false,
      address: input.address ?? null,
      note: input.note ?? null,
      ccEmails: [],
      currencyId: currency.id,
      currencyCode: currency.code,
    };
    ws.clients.set(client.id, client);
    return change(workspaceId, 'NEW_CLIENT', 'client', 'created', client);
  }

  updateClient(
    workspaceId: string,
    clientId: string,
    patch: { name?: string; email?: string | null; address?: string | null; note?: string | null; archived?: boolean },
  ): StoreChange<Client> {
    const ws = this.ws(workspaceId);
    const client = this.client(ws, clientId);
    const previous = copy(client);
    if (patch.name !== undefined) client.name = requireName(patch.name, 'client');
    if (patch.email !== undefined) client.email = patch.email;
    if (patch.address !== undefined) client.address = patch.address;
    if (patch.note !== undefined) client.note = patch.note;
    if (patch.archived !== undefined) client.archived = patch.archived;
    if (client.name !== previous.name)
      for (const p of ws.projects.values()) if (p.clientId === clientId) p.clientName = client.name;
    return change(workspaceId, 'CLIENT_UPDATED', 'client', 'updated', client, previous);
  }

  deleteClient(workspaceId: string, clientId: string): StoreChange<Client> {
    const ws = this.ws(workspaceId);
    const client = this.client(ws, clientId);
    ws.clients.delete(clientId);
    for (const p of ws.projects.values()) {
      if (p.clientId === clientId) {
        p.clientId = '';
        p.clientName = '';
      }
    }
    return change(workspaceId, 'CLIENT_DELETED', 'client', 'deleted', client);
  }

  // ---------------------------------------------------------------- projects

  createProject(
    workspaceId: string,
    input: {
      name: string;
      clientId?: string;
      billable?: boolean;
      color?: string;
      public?: boolean;
      note?: string;
      archived?: boolean;
      memberIds?: readonly string[];
    },
  ): StoreChange<Project> {
    const ws = this.ws(workspaceId);
    const name = requireName(input.name, 'project');
    if ([...ws.projects.values()].some((p) => p.name === name && p.clientId === (input.clientId ?? ''))) {
      throw new StoreError(400, `Project with name '${name}' already exists`);
    }
    const client = input.clientId ? this.client(ws, input.clientId) : undefined;
    const id = this.newId(ws);
    const memberIds = input.memberIds ?? [ws.ownerId];
    for (const m of memberIds) this.userRecord(ws, m);
    const project: Project = {
      id,
      name,
      hourlyRate: input.billable === false ? null : { amount: 10_000, currency: CURRENCY },
      costRate: null,
      clientId: client?.id ?? '',
      clientName: client?.name ?? '',
      workspaceId,
      billable: input.billable ?? true,
      memberships: memberIds.map((userId) => ({
        userId,
        hourlyRate: null,
        costRate: null,
        targetId: id,
        membershipType: 'PROJECT',
        membershipStatus: 'ACTIVE',
      })),
      color: input.color ?? ws.rng.pick(['#03A9F4', '#4CAF50', '#FF9800', '#9C27B0']),
      estimate: { estimate: 'PT0S', type: 'AUTO' },
      archived: input.archived ?? false,
      duration: 'PT0S',
      note: input.note ?? '',
      template: false,
      public: input.public ?? true,
      budgetEstimate: null,
      timeEstimate: { estimate: 'PT0S', type: 'AUTO', resetOption: null, active: false, includeNonBillable: true },
    };
    ws.projects.set(id, project);
    ws.tasks.set(id, new Map());
    return change(workspaceId, 'NEW_PROJECT', 'project', 'created', project);
  }

  updateProject(
    workspaceId: string,
    projectId: string,
    patch: {
      name?: string;
      clientId?: string | null;
      billable?: boolean;
      color?: string;
      public?: boolean;
      note?: string;
      archived?: boolean;
    },
  ): StoreChange<Project> {
    const ws = this.ws(workspaceId);
    const project = this.project(ws, projectId);
    const previous = copy(project);
    if (patch.name !== undefined) project.name = requireName(patch.name, 'project');
    if (patch.clientId !== undefined) {
      const client = patch.clientId ? this.client(ws, patch.clientId) : undefined;
      project.clientId = client?.id ?? '';
      project.clientName = client?.name ?? '';
    }
    if (patch.billable !== undefined) project.billable = patch.billable;
    if (patch.color !== undefined) project.color = patch.color;
    if (patch.public !== undefined) project.public = patch.public;
    if (patch.note !== undefined) project.note = patch.note;
    if (patch.archived !== undefined) project.archived = patch.archived;
    return change(workspaceId, 'PROJECT_UPDATED', 'project', 'updated', project, previous);
  }

  /** Deletes a project with its tasks; its time entries lose the project, as in Clockify. */
  deleteProject(workspaceId: string, projectId: string): StoreChange<Project> {
    const ws = this.ws(workspaceId);
    const project = this.project(ws, projectId);
    // Kept for the webhook: PROJECT_DELETED embeds the project's tasks as they were.
    const tasks = [...(ws.tasks.get(projectId)?.values() ?? [])].map(copy);
    ws.projects.delete(projectId);
    ws.tasks.delete(projectId);
    for (const e of ws.entries.values()) {
      if (e.projectId === projectId) {
        e.projectId = null;
        e.taskId = null;
      }
    }
    return { ...change(workspaceId, 'PROJECT_DELETED', 'project', 'deleted', project), related: tasks };
  }

  // ---------------------------------------------------------------- tasks

  createTask(
    workspaceId: string,
    projectId: string,
    input: { name: string; assigneeIds?: readonly string[]; status?: Task['status']; billable?: boolean },
  ): StoreChange<Task> {
    const ws = this.ws(workspaceId);
    const project = this.project(ws, projectId);
    const name = requireName(input.name, 'task');
    const tasks = ws.tasks.get(projectId) ?? new Map<string, Task>();
    if ([...tasks.values()].some((t) => t.name === name))
      throw new StoreError(400, `Task with name '${name}' already exists on this project`);
    for (const u of input.assigneeIds ?? []) this.userRecord(ws, u);
    const task: Task = {
      id: this.newId(ws),
      name,
      projectId,
      assigneeIds: [...(input.assigneeIds ?? [])],
      assigneeId: null,
      userGroupIds: [],
      estimate: 'PT0S',
      status: input.status ?? 'ACTIVE',
      duration: 'PT0S',
      billable: input.billable ?? project.billable,
      hourlyRate: null,
      costRate: null,
      budgetEstimate: 0,
    };
    tasks.set(task.id, task);
    ws.tasks.set(projectId, tasks);
    return change(workspaceId, 'NEW_TASK', 'task', 'created', task);
  }

  updateTask(
    workspaceId: string,
    projectId: string,
    taskId: string,
    patch: { name?: string; assigneeIds?: readonly string[]; status?: Task['status']; billable?: boolean },
  ): StoreChange<Task> {
    const ws = this.ws(workspaceId);
    const task = this.task(ws, projectId, taskId);
    const previous = copy(task);
    if (patch.name !== undefined) task.name = requireName(patch.name, 'task');
    if (patch.assigneeIds !== undefined) {
      for (const u of patch.assigneeIds) this.userRecord(ws, u);
      task.assigneeIds = [...patch.assigneeIds];
    }
    if (patch.status !== undefined) task.status = patch.status;
    if (patch.billable !== undefined) task.billable = patch.billable;
    return change(workspaceId, 'TASK_UPDATED', 'task', 'updated', task, previous);
  }

  deleteTask(workspaceId: string, projectId: string, taskId: string): StoreChange<Task> {
    const ws = this.ws(workspaceId);
    const task = this.task(ws, projectId, taskId);
    ws.tasks.get(projectId)?.delete(taskId);
    for (const e of ws.entries.values()) if (e.taskId === taskId) e.taskId = null;
    return change(workspaceId, 'TASK_DELETED', 'task', 'deleted', task);
  }

  // ---------------------------------------------------------------- user groups

  createUserGroup(workspaceId: string, input: { name: string; userIds?: readonly string[] }): StoreChange<UserGroup> {
    const ws = this.ws(workspaceId);
    const name = requireName(input.name, 'user group');
    if ([...ws.userGroups.values()].some((g) => g.name === name))
      throw new StoreError(400, `User group with name '${name}' already exists`);
    for (const u of input.userIds ?? []) this.userRecord(ws, u);
    const group: UserGroup = {
      id: this.newId(ws),
      name,
      workspaceId,
      userIds: [...(input.userIds ?? [])],
      teamManagers: [],
    };
    ws.userGroups.set(group.id, group);
    return change(workspaceId, 'USER_GROUP_CREATED', 'userGroup', 'created', group);
  }

  updateUserGroup(
    workspaceId: string,
    groupId: string,
    patch: { name?: string; userIds?: readonly string[] },
  ): StoreChange<UserGroup> {
    const ws = this.ws(workspaceId);
    const group = this.userGroup(ws, groupId);
    const previous = copy(group);
    if (patch.name !== undefined) group.name = requireName(patch.name, 'user group');
    if (patch.userIds !== undefined) {
      for (const u of patch.userIds) this.userRecord(ws, u);
      group.userIds = [...patch.userIds];
    }
    return change(workspaceId, 'USER_GROUP_UPDATED', 'userGroup', 'updated', group, previous);
  }

  deleteUserGroup(workspaceId: string, groupId: string): StoreChange<UserGroup> {
    const ws = this.ws(workspaceId);
    const group = this.userGroup(ws, groupId);
    ws.userGroups.delete(groupId);
    return change(workspaceId, 'USER_GROUP_DELETED', 'userGroup', 'deleted', group);
  }

  // ---------------------------------------------------------------- users

  updateUser(
    workspaceId: string,
    userId: string,
    patch: { name?: string; settings?: Record<string, unknown>; profilePicture?: string },
  ): StoreChange<User> {
    const ws = this.ws(workspaceId);
    const rec = this.userRecord(ws, userId);
    const previous = this.userDto(ws, rec, 'WORKSPACE');
    if (patch.name !== undefined) rec.user.name = requireName(patch.name, 'user');
    if (patch.settings !== undefined) rec.user.settings = { ...rec.user.settings, ...patch.settings };
    if (patch.profilePicture !== undefined) rec.user.profilePicture = patch.profilePicture;
    return userChange(workspaceId, 'USER_UPDATED', 'updated', this.userDto(ws, rec, 'WORKSPACE'), previous);
  }

  changeUserEmail(workspaceId: string, userId: string, email: string): StoreChange<User> {
    const ws = this.ws(workspaceId);
    const rec = this.userRecord(ws, userId);
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new StoreError(400, `'${email}' is not an email address`);
    if ([...ws.users.values()].some((u) => u.user.email === email && u !== rec))
      throw new StoreError(400, `Email '${email}' is already in use`);
    const previous = this.userDto(ws, rec, 'WORKSPACE');
    rec.user.email = email;
    return userChange(workspaceId, 'USER_EMAIL_CHANGED', 'updated', this.userDto(ws, rec, 'WORKSPACE'), previous);
  }

  deactivateUser(workspaceId: string, userId: string): StoreChange<User> {
    return this.setMembership(workspaceId, userId, 'INACTIVE', 'USER_DEACTIVATED_ON_WORKSPACE', ['ACTIVE']);
  }

  activateUser(workspaceId: string, userId: string): StoreChange<User> {
    return this.setMembership(workspaceId, userId, 'ACTIVE', 'USER_ACTIVATED_ON_WORKSPACE', ['INACTIVE']);
  }

  /** An invited (PENDING) user accepts the invitation. */
  joinWorkspace(workspaceId: string, userId: string): StoreChange<User> {
    const ws = this.ws(workspaceId);
    const rec = this.userRecord(ws, userId);
    if (rec.user.status === 'NOT_REGISTERED' || rec.user.status === 'PENDING_EMAIL_VERIFICATION')
      rec.user.status = 'ACTIVE';
    return this.setMembership(workspaceId, userId, 'ACTIVE', 'USER_JOINED_WORKSPACE', ['PENDING']);
  }

  /** Removes a user from the workspace: their memberships go; their time entries stay. */
  removeUser(workspaceId: string, userId: string): StoreChange<User> {
    const ws = this.ws(workspaceId);
    const rec = this.userRecord(ws, userId);
    if (userId === ws.ownerId) throw new StoreError(400, 'The workspace owner cannot be removed');
    const dto = this.userDto(ws, rec, 'WORKSPACE');
    ws.users.delete(userId);
    for (const g of ws.userGroups.values()) g.userIds = g.userIds.filter((u) => u !== userId);
    for (const p of ws.projects.values()) p.memberships = p.memberships.filter((m) => m.userId !== userId);
    return userChange(workspaceId, 'USER_DELETED_FROM_WORKSPACE', 'deleted', dto);
  }

  /** Invites people by email: they appear as PENDING, NOT_REGISTERED users. */
  inviteUsers(workspaceId: string, emails: readonly string[]): StoreChange<User[]> {
    return this.addUsers(workspaceId, emails, 'PENDING', 'NOT_REGISTERED', 'USERS_INVITED_TO_WORKSPACE');
  }

  /** Adds limited users (people without a Clockify account, tracked by others). */
  addLimitedUsers(workspaceId: string, names: readonly string[]): StoreChange<User[]> {
    return this.addUsers(workspaceId, names, 'ACTIVE', 'LIMITED', 'LIMITED_USERS_ADDED_TO_WORKSPACE');
  }

  /** Sets a member's billable (hourly) rate: BILLABLE_RATE_UPDATED. */
  setUserHourlyRate(workspaceId: string, userId: string, amount: number): StoreChange<User> {
    return this.setRate(workspaceId, userId, amount, 'hourlyRate', 'BILLABLE_RATE_UPDATED');
  }

  /** Sets a member's cost rate: COST_RATE_UPDATED. */
  setUserCostRate(workspaceId: string, userId: string, amount: number): StoreChange<User> {
    return this.setRate(workspaceId, userId, amount, 'costRate', 'COST_RATE_UPDATED');
  }

  // ---------------------------------------------------------------- custom fields and workspace

  createCustomField(
    workspaceId: string,
    input: {
      name: string;
      type: CustomField['type'];
      allowedValues?: readonly string[];
      entityType?: CustomField['entityType'];
    },
  ): StoreChange<CustomField> {
    const ws = this.ws(workspaceId);
    const field: CustomField = {
      id: this.newId(ws),
      name: requireName(input.name, 'custom field'),
      type: input.type,
      allowedValues: [...(input.allowedValues ?? [])],
      description: '',
      entityType: input.entityType ?? 'TIMEENTRY',
      onlyAdminCanEdit: false,
      placeholder: '',
      projectDefaultValues: [],
      required: false,
      status: 'VISIBLE',
      workspaceDefaultValue: null,
      workspaceId,
    };
    ws.customFields.set(field.id, field);
    return change(workspaceId, undefined, 'customField', 'created', field);
  }

  updateCustomField(
    workspaceId: string,
    fieldId: string,
    patch: { name?: string; status?: CustomField['status']; allowedValues?: readonly string[]; required?: boolean },
  ): StoreChange<CustomField> {
    const ws = this.ws(workspaceId);
    const field = ws.customFields.get(fieldId);
    if (!field) throw new StoreError(404, `Custom field with id ${fieldId} doesn't exist`);
    const previous = copy(field);
    if (patch.name !== undefined) field.name = requireName(patch.name, 'custom field');
    if (patch.status !== undefined) field.status = patch.status;
    if (patch.allowedValues !== undefined) field.allowedValues = [...patch.allowedValues];
    if (patch.required !== undefined) field.required = patch.required;
    return change(workspaceId, undefined, 'customField', 'updated', field, previous);
  }

  deleteCustomField(workspaceId: string, fieldId: string): StoreChange<CustomField> {
    const ws = this.ws(workspaceId);
    const field = ws.customFields.get(fieldId);
    if (!field) throw new StoreError(404, `Custom field with id ${fieldId} doesn't exist`);
    ws.customFields.delete(fieldId);
    for (const e of ws.entries.values())
      e.customFieldValues = e.customFieldValues.filter((v) => v.customFieldId !== fieldId);
    return change(workspaceId, undefined, 'customField', 'deleted', field);
  }

  updateWorkspace(workspaceId: string, patch: { name?: string }): StoreChange<Workspace> {
    const ws = this.ws(workspaceId);
    const previous = this.getWorkspace(workspaceId);
    if (patch.name !== undefined) ws.workspace.name = requireName(patch.name, 'workspace');
    return change(workspaceId, undefined, 'workspace', 'updated', this.getWorkspace(workspaceId), previous);
  }

  // ---------------------------------------------------------------- time entries

  /** A finished entry added by hand: NEW_TIME_ENTRY. */
  createTimeEntry(workspaceId: string, input: TimeEntryInput & { end: string }): StoreChange<TimeEntry> {
    const ws = this.ws(workspaceId);
    const entry = this.buildEntry(ws, input, input.end);
    addEntry(ws, entry);
    this.touchDurations(ws);
    return change(workspaceId, 'NEW_TIME_ENTRY', 'timeEntry', 'created', entry);
  }

  /**
   * Starts a timer (NEW_TIMER_STARTED). A timer the user already runs is stopped first, as
   * Clockify does; that TIMER_STOPPED change is returned in `also`.
   */
  startTimer(workspaceId: string, input: Omit<TimeEntryInput, 'start'> & { start?: string }): StoreChange<TimeEntry> {
    const ws = this.ws(workspaceId);
    const start = input.start ?? isoInstant(this.clock());
    const running = ws.entriesByUser.get(input.userId)?.find((e) => e.timeInterval.end === null);
    const also = running ? [this.stopTimer(workspaceId, input.userId, start)] : [];
    const entry = this.buildEntry(ws, { ...input, start }, null);
    addEntry(ws, entry);
    return {
      ...change(workspaceId, 'NEW_TIMER_STARTED', 'timeEntry', 'created', entry),
      ...(also.length > 0 ? { also } : {}),
    };
  }

  /** Stops the user's running timer: TIMER_STOPPED. */
  stopTimer(workspaceId: string, userId: string, end?: string): StoreChange<TimeEntry> {
    const ws = this.ws(workspaceId);
    this.userRecord(ws, userId);
    const running = ws.entriesByUser.get(userId)?.find((e) => e.timeInterval.end === null);
    if (!running) throw new StoreError(404, 'No time entry in progress for this user');
    const previous = copy(running);
    const endMs = end !== undefined ? instant(end, 'end') : this.clock();
    const startMs = Date.parse(running.timeInterval.start);
    if (endMs < startMs) throw new StoreError(400, 'End must not be before start');
    running.timeInterval = {
      start: running.timeInterval.start,
      end: isoInstant(endMs),
      duration: isoDuration((endMs - startMs) / 1000),
    };
    this.touchDurations(ws);
    return change(workspaceId, 'TIMER_STOPPED', 'timeEntry', 'updated', running, previous);
  }

  updateTimeEntry(
    workspaceId: string,
    entryId: string,
    patch: Partial<Omit<TimeEntryInput, 'userId'>> & { end?: string | null },
  ): StoreChange<TimeEntry> {
    const ws = this.ws(workspaceId);
    const entry = this.entry(ws, entryId);
    const previous = copy(entry);
    const merged: TimeEntryInput = {
      userId: entry.userId,
      start: patch.start ?? entry.timeInterval.start,
      description: patch.description ?? entry.description,
      projectId: patch.projectId !== undefined ? patch.projectId : entry.projectId,
      taskId:
        patch.taskId !== undefined
          ? patch.taskId
          : patch.projectId !== undefined && patch.projectId !== entry.projectId
            ? null
            : entry.taskId,
      tagIds: patch.tagIds ?? entry.tagIds,
      billable: patch.billable ?? entry.billable,
      customFieldValues:
        patch.customFieldValues ??
        entry.customFieldValues.map((v) => ({ customFieldId: v.customFieldId, value: v.value })),
    };
    const end = patch.end !== undefined ? patch.end : entry.timeInterval.end;
    const rebuilt = this.buildEntry(ws, merged, end, entry.id);
    removeEntry(ws, entry.id);
    addEntry(ws, rebuilt);
    this.touchDurations(ws);
    return change(workspaceId, 'TIME_ENTRY_UPDATED', 'timeEntry', 'updated', rebuilt, previous);
  }

  deleteTimeEntry(workspaceId: string, entryId: string): StoreChange<TimeEntry> {
    const ws = this.ws(workspaceId);
    this.entry(ws, entryId);
    const entry = removeEntry(ws, entryId) as TimeEntry;
    ws.deletedEntries.set(entryId, entry);
    this.touchDurations(ws);
    return change(workspaceId, 'TIME_ENTRY_DELETED', 'timeEntry', 'deleted', entry);
  }

  /** Brings back a deleted entry: TIME_ENTRY_RESTORED. */
  restoreTimeEntry(workspaceId: string, entryId: string): StoreChange<TimeEntry> {
    const ws = this.ws(workspaceId);
    const entry = ws.deletedEntries.get(entryId);
    if (!entry) throw new StoreError(404, `No deleted time entry with id ${entryId}`);
    ws.deletedEntries.delete(entryId);
    addEntry(ws, entry);
    this.touchDurations(ws);
    return change(workspaceId, 'TIME_ENTRY_RESTORED', 'timeEntry', 'created', entry);
  }

  /** Ids of deleted entries that can be restored. */
  deletedTimeEntryIds(workspaceId: string): string[] {
    return [...this.ws(workspaceId).deletedEntries.keys()];
  }

  /**
   * Splits a finished entry at an instant: the entry keeps the first part, a new entry holds the
   * rest (in `related`). TIME_ENTRY_SPLIT carries the shortened original.
   */
  splitTimeEntry(workspaceId: string, entryId: string, at: string): StoreChange<TimeEntry> {
    const ws = this.ws(workspaceId);
    const entry = this.entry(ws, entryId);
    if (entry.timeInterval.end === null) throw new StoreError(400, 'A running timer cannot be split');
    const atMs = instant(at, 'at');
    const startMs = Date.parse(entry.timeInterval.start);
    const endMs = Date.parse(entry.timeInterval.end);
    if (!(atMs > startMs && atMs < endMs))
      throw new StoreError(400, 'The split point must lie strictly inside the entry');
    const previous = copy(entry);
    entry.timeInterval = {
      start: entry.timeInterval.start,
      end: isoInstant(atMs),
      duration: isoDuration((atMs - startMs) / 1000),
    };
    const second: TimeEntry = {
      ...copy(previous),
      id: objectId(ws.rng, this.clock()),
      timeInterval: {
        start: isoInstant(atMs),
        end: previous.timeInterval.end,
        duration: isoDuration((endMs - atMs) / 1000),
      },
    };
    second.customFieldValues = second.customFieldValues.map((v) => ({ ...v, timeEntryId: second.id }));
    addEntry(ws, second);
    return {
      ...change(workspaceId, 'TIME_ENTRY_SPLIT', 'timeEntry', 'updated', entry, previous),
      related: [copy(second)],
    };
  }

  // ---------------------------------------------------------------- internals

  private buildEntry(ws: WorkspaceData, input: TimeEntryInput, end: string | null, id?: string): TimeEntry {
    const rec = this.userRecord(ws, input.userId);
    const startMs = instant(input.start, 'start');
    const endMs = end === null ? null : instant(end, 'end');
    if (endMs !== null && endMs < startMs) throw new StoreError(400, 'End must not be before start');
    const project = input.projectId ? this.project(ws, input.projectId) : undefined;
    if (input.taskId && !project) throw new StoreError(400, 'A task needs its project');
    const task = project && input.taskId ? this.task(ws, project.id, input.taskId) : undefined;
    for (const t of input.tagIds ?? []) this.tag(ws, t);
    const entryId = id ?? objectId(ws.rng, this.clock());
    const fieldValues = (input.customFieldValues ?? []).map((v) => {
      const field = ws.customFields.get(v.customFieldId);
      if (!field) throw new StoreError(404, `Custom field with id ${v.customFieldId} doesn't exist`);
      return { customFieldId: field.id, timeEntryId: entryId, value: v.value, name: field.name, type: field.type };
    });
    return {
      id: entryId,
      description: input.description ?? '',
      tagIds: [...(input.tagIds ?? [])],
      userId: rec.user.id,
      billable: input.billable ?? project?.billable ?? false,
      taskId: task?.id ?? null,
      projectId: project?.id ?? null,
      workspaceId: ws.workspace.id,
      timeInterval: {
        start: isoInstant(startMs),
        end: endMs === null ? null : isoInstant(endMs),
        duration: endMs === null ? null : isoDuration(Math.floor(endMs / 1000) - Math.floor(startMs / 1000)),
      },
      customFieldValues: fieldValues,
      type: 'REGULAR',
      kioskId: null,
      hourlyRate: project?.hourlyRate ?? rec.hourlyRate,
      costRate: rec.costRate,
      isLocked: false,
    };
  }

  private addUsers(
    workspaceId: string,
    labels: readonly string[],
    membershipStatus: MembershipStatus,
    status: AccountStatus,
    event: WebhookEventName,
  ): StoreChange<User[]> {
    const ws = this.ws(workspaceId);
    if (labels.length === 0) throw new StoreError(400, 'At least one user is required');
    const added: User[] = [];
    for (const label of labels) {
      const isEmail = label.includes('@');
      const email = isEmail ? label : `${label.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@limited.invalid`;
      if ([...ws.users.values()].some((u) => u.user.email === email))
        throw new StoreError(400, `User with email '${email}' is already in the workspace`);
      const id = this.newId(ws);
      const rec: UserRecord = {
        user: {
          id,
          email,
          name: isEmail ? '' : label,
          memberships: [],
          profilePicture: 'https://img.clockify.me/no-user-image.png',
          activeWorkspace: workspaceId,
          defaultWorkspace: workspaceId,
          settings: {},
          status,
          customFields: [],
        },
        membershipStatus,
        role: 'USER',
        hourlyRate: null,
        costRate: null,
      };
      ws.users.set(id, rec);
      ws.entriesByUser.set(id, []);
      added.push(this.userDto(ws, rec, 'WORKSPACE'));
    }
    return change(workspaceId, event, 'user', 'created', added);
  }

  private setMembership(
    workspaceId: string,
    userId: string,
    to: MembershipStatus,
    event: WebhookEventName,
    from: readonly MembershipStatus[],
  ): StoreChange<User> {
    const ws = this.ws(workspaceId);
    const rec = this.userRecord(ws, userId);
    if (!from.includes(rec.membershipStatus)) {
      throw new StoreError(400, `User ${userId} is ${rec.membershipStatus}; expected ${from.join(' or ')}`);
    }
    if (userId === ws.ownerId && to === 'INACTIVE')
      throw new StoreError(400, 'The workspace owner cannot be deactivated');
    const previous = this.userDto(ws, rec, 'WORKSPACE');
    rec.membershipStatus = to;
    return userChange(workspaceId, event, 'updated', this.userDto(ws, rec, 'WORKSPACE'), previous);
  }

  private setRate(
    workspaceId: string,
    userId: string,
    amount: number,
    field: 'hourlyRate' | 'costRate',
    event: WebhookEventName,
  ): StoreChange<User> {
    if (!Number.isInteger(amount) || amount < 0)
      throw new StoreError(400, 'A rate is a non-negative integer amount in cents');
    const ws = this.ws(workspaceId);
    const rec = this.userRecord(ws, userId);
    const previous = this.userDto(ws, rec, 'WORKSPACE');
    rec[field] = { amount, currency: CURRENCY } satisfies Rate;
    return userChange(workspaceId, event, 'updated', this.userDto(ws, rec, 'WORKSPACE'), previous);
  }

  private userDto(ws: WorkspaceData, rec: UserRecord, memberships: MembershipsParam): User {
    const list: Membership[] = [];
    if (memberships === 'ALL' || memberships === 'WORKSPACE') list.push(workspaceMembership(rec, ws.workspace.id));
    if (memberships === 'ALL' || memberships === 'PROJECT') {
      for (const p of ws.projects.values())
        for (const m of p.memberships) if (m.userId === rec.user.id) list.push(copy(m));
    }
    if (memberships === 'ALL' || memberships === 'USERGROUP') {
      for (const g of ws.userGroups.values()) {
        if (g.userIds.includes(rec.user.id)) {
          list.push({
            userId: rec.user.id,
            hourlyRate: null,
            costRate: null,
            targetId: g.id,
            membershipType: 'USERGROUP',
            membershipStatus: 'ACTIVE',
          });
        }
      }
    }
    return { ...copy(rec.user), memberships: list };
  }

  private groupOnProject(ws: WorkspaceData, g: UserGroup, projectId: string): boolean {
    const project = ws.projects.get(projectId);
    if (!project) return false;
    const members = new Set(project.memberships.map((m) => m.userId));
    return g.userIds.some((u) => members.has(u));
  }

  private touchDurations(ws: WorkspaceData): void {
    // Cheap enough for simulator sizes, and keeps project/task `duration` honest after edits.
    if (ws.entries.size <= 50_000) recomputeDurations(ws);
  }

  private newId(ws: WorkspaceData): string {
    return objectId(ws.rng, this.clock());
  }

  private ws(workspaceId: string): WorkspaceData {
    const ws = this.data.get(workspaceId);
    if (!ws) throw new StoreError(404, `Workspace with id ${workspaceId} doesn't exist`);
    return ws;
  }

  private userRecord(ws: WorkspaceData, userId: string): UserRecord {
    const rec = ws.users.get(userId);
    if (!rec) throw new StoreError(404, `User with id ${userId} doesn't exist in this workspace`);
    return rec;
  }

  private userGroup(ws: WorkspaceData, id: string): UserGroup {
    const g = ws.userGroups.get(id);
    if (!g) throw new StoreError(404, `User group with id ${id} doesn't exist`);
    return g;
  }

  private client(ws: WorkspaceData, id: string): Client {
    const c = ws.clients.get(id);
    if (!c) throw new StoreError(404, `Client with id ${id} doesn't exist`);
    return c;
  }

  private project(ws: WorkspaceData, id: string): Project {
    const p = ws.projects.get(id);
    if (!p) throw new StoreError(404, `Project with id ${id} doesn't exist`);
    return p;
  }

  private task(ws: WorkspaceData, projectId: string, taskId: string): Task {
    this.project(ws, projectId);
    const t = ws.tasks.get(projectId)?.get(taskId);
    if (!t) throw new StoreError(404, `Task with id ${taskId} doesn't exist on project ${projectId}`);
    return t;
  }

  private tag(ws: WorkspaceData, id: string): Tag {
    const t = ws.tags.get(id);
    if (!t) throw new StoreError(404, `Tag with id ${id} doesn't exist`);
    return t;
  }

  private entry(ws: WorkspaceData, id: string): TimeEntry {
    const e = ws.entries.get(id);
    if (!e) throw new StoreError(404, `Time entry with id ${id} doesn't exist`);
    return e;
  }
}

export interface TimeEntryInput {
  readonly userId: string;
  readonly start: string;
  readonly description?: string;
  readonly projectId?: string | null;
  readonly taskId?: string | null;
  readonly tagIds?: readonly string[];
  readonly billable?: boolean;
  readonly customFieldValues?: ReadonlyArray<{ customFieldId: string; value: unknown }>;
}

function change<T>(
  workspaceId: string,
  event: WebhookEventName | undefined,
  entityType: EntityKind,
  kind: StoreChange['kind'],
  entity: T,
  previous?: T,
): StoreChange<T> {
  return {
    workspaceId,
    event,
    entityType,
    kind,
    entity: copy(entity),
    ...(previous !== undefined ? { previous } : {}),
  };
}

function userChange(
  workspaceId: string,
  event: WebhookEventName,
  kind: StoreChange['kind'],
  user: User,
  previous?: User,
): StoreChange<User> {
  return change(workspaceId, event, 'user', kind, user, previous);
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

function requireName(name: string, what: string): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (trimmed.length === 0) throw new StoreError(400, `A ${what} needs a name`);
  if (trimmed.length > 250) throw new StoreError(400, `The ${what} name is longer than 250 characters`);
  return trimmed;
}

function matchesName(name: string, q: NamedQuery): boolean {
  if (q.name === undefined || q.name === '') return true;
  return q.strictName ? name === q.name : name.toLowerCase().includes(q.name.toLowerCase());
}

function sortBy<T>(
  list: T[],
  key: (x: T) => string | number,
  id: (x: T) => string,
  order: SortOrder | undefined,
): void {
  const dir = order === 'DESCENDING' ? -1 : 1;
  list.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return (ka < kb ? -1 : 1) * dir;
    const ia = id(a);
    const ib = id(b);
    return (ia < ib ? -1 : ia > ib ? 1 : 0) * dir;
  });
}

function instant(value: string, what: string): number {
  const ms = parseInstant(value);
  if (Number.isNaN(ms))
    throw new StoreError(400, `'${value.slice(0, 40)}' is not a valid ${what} (expected yyyy-MM-ddThh:mm:ssZ)`);
  return ms;
}
