import { Rng } from '../random.js';
import type { StoreChange } from './changes.js';
import { Clients, type ClientInput, type ClientPatch } from './clients.js';
import { CustomFields, type CustomFieldInput, type CustomFieldPatch, type CustomFieldQuery } from './custom-fields.js';
import { generateWorkspace, type WorkspaceData } from './generate.js';
import { Projects, type ProjectInput, type ProjectPatch, type ProjectQuery } from './projects.js';
import type { NamedQuery } from './query.js';
import { Tags, type TagInput, type TagPatch, type TagQuery } from './tags.js';
import { Tasks, type TaskInput, type TaskPatch, type TaskQuery } from './tasks.js';
import {
  TimeEntries,
  type HydratedTimeEntry,
  type TimeEntryInput,
  type TimeEntryPatch,
  type TimeEntryQuery,
  type TimerInput,
} from './time-entries.js';
import type {
  Client,
  CustomField,
  MembershipStatus,
  Project,
  Tag,
  Task,
  TimeEntry,
  User,
  UserGroup,
  Workspace,
  WorkspaceRole,
  WorkspaceSizes,
  WorkspaceSpec,
} from './types.js';
import { UserGroups, type UserGroupInput, type UserGroupPatch } from './user-groups.js';
import { Users, type MembershipsParam, type UserPatch, type UserQuery } from './users.js';
import { Workspaces } from './workspaces.js';

export type { EntityKind, StoreChange } from './changes.js';
export type { CustomFieldQuery } from './custom-fields.js';
export type { ProjectQuery } from './projects.js';
export type { NamedQuery, SortOrder } from './query.js';
export type { TagQuery } from './tags.js';
export type { TaskQuery } from './tasks.js';
export type { HydratedTimeEntry, TimeEntryInput, TimeEntryQuery } from './time-entries.js';
export type { MembershipsParam, UserQuery } from './users.js';
export { StoreError } from './validation.js';

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

/**
 * The simulator's Clockify: seeded workspaces with their users, groups, clients, projects, tasks,
 * tags, custom fields and time entries; queries the mock API serves and mutations that return
 * what changed. Reads return copies, so callers cannot corrupt the store by editing results.
 *
 * Each kind of entity is handled by its own module over the shared workspace data; this class
 * is the one entry point to all of them.
 */
export class MockStore {
  readonly seed: string;
  readonly nowMs: number;
  private readonly workspaces: Workspaces;
  private readonly users: Users;
  private readonly userGroups: UserGroups;
  private readonly clients: Clients;
  private readonly projects: Projects;
  private readonly tasks: Tasks;
  private readonly tags: Tags;
  private readonly customFields: CustomFields;
  private readonly timeEntries: TimeEntries;

  constructor(options: MockStoreOptions = {}) {
    this.seed = String(options.seed ?? 'clockify-simulator');
    this.nowMs = options.nowMs ?? Date.now();
    const given = options.workspaces ?? 1;
    if (typeof given === 'number' && (!Number.isInteger(given) || given < 1 || given > 1000))
      throw new Error('workspaces must be between 1 and 1000');
    const specs: readonly WorkspaceSpec[] =
      typeof given === 'number' ? Array.from({ length: given }, () => ({})) : given.length > 0 ? given : [{}];
    const root = new Rng(this.seed);
    const data = new Map<string, WorkspaceData>();
    specs.forEach((spec, i) => {
      const sized = options.sizes ? { ...spec, sizes: { ...options.sizes, ...spec.sizes } } : spec;
      const ws = generateWorkspace(root.fork(`workspace-${i}`), sized, this.nowMs);
      if (data.has(ws.workspace.id)) throw new Error(`workspace ${ws.workspace.id} is listed twice`);
      data.set(ws.workspace.id, ws);
    });
    this.workspaces = new Workspaces(data, options.clock ?? Date.now);
    this.users = new Users(this.workspaces);
    this.userGroups = new UserGroups(this.workspaces);
    this.clients = new Clients(this.workspaces);
    this.projects = new Projects(this.workspaces);
    this.tasks = new Tasks(this.workspaces);
    this.tags = new Tags(this.workspaces);
    this.customFields = new CustomFields(this.workspaces);
    this.timeEntries = new TimeEntries(this.workspaces);
  }

  // ---------------------------------------------------------------- workspace (workspaces.ts)

  workspaceIds(): string[] {
    return this.workspaces.ids();
  }

  hasWorkspace(workspaceId: string): boolean {
    return this.workspaces.has(workspaceId);
  }

  principals(workspaceId: string): { ownerId: string; addonUserId: string } {
    return this.workspaces.principals(workspaceId);
  }

  summary(workspaceId: string) {
    return this.workspaces.summary(workspaceId);
  }

  getWorkspace(workspaceId: string): Workspace {
    return this.workspaces.describe(workspaceId);
  }

  updateWorkspace(workspaceId: string, patch: { name?: string }): StoreChange<Workspace> {
    return this.workspaces.update(workspaceId, patch);
  }

  // ---------------------------------------------------------------- users (users.ts)

  listUsers(workspaceId: string, q?: UserQuery): User[] {
    return this.users.list(workspaceId, q);
  }

  getUser(workspaceId: string, userId: string, memberships?: MembershipsParam): User {
    return this.users.get(workspaceId, userId, memberships);
  }

  membershipStatus(workspaceId: string, userId: string): MembershipStatus {
    return this.users.membershipStatus(workspaceId, userId);
  }

  userRole(workspaceId: string, userId: string): WorkspaceRole {
    return this.users.role(workspaceId, userId);
  }

  updateUser(workspaceId: string, userId: string, patch: UserPatch): StoreChange<User> {
    return this.users.update(workspaceId, userId, patch);
  }

  changeUserEmail(workspaceId: string, userId: string, email: string): StoreChange<User> {
    return this.users.changeEmail(workspaceId, userId, email);
  }

  deactivateUser(workspaceId: string, userId: string): StoreChange<User> {
    return this.users.deactivate(workspaceId, userId);
  }

  activateUser(workspaceId: string, userId: string): StoreChange<User> {
    return this.users.activate(workspaceId, userId);
  }

  joinWorkspace(workspaceId: string, userId: string): StoreChange<User> {
    return this.users.join(workspaceId, userId);
  }

  removeUser(workspaceId: string, userId: string): StoreChange<User> {
    return this.users.remove(workspaceId, userId);
  }

  inviteUsers(workspaceId: string, emails: readonly string[]): StoreChange<User[]> {
    return this.users.invite(workspaceId, emails);
  }

  addLimitedUsers(workspaceId: string, names: readonly string[]): StoreChange<User[]> {
    return this.users.addLimited(workspaceId, names);
  }

  setUserHourlyRate(workspaceId: string, userId: string, amount: number): StoreChange<User> {
    return this.users.setHourlyRate(workspaceId, userId, amount);
  }

  setUserCostRate(workspaceId: string, userId: string, amount: number): StoreChange<User> {
    return this.users.setCostRate(workspaceId, userId, amount);
  }

  // ---------------------------------------------------------------- user groups (user-groups.ts)

  listUserGroups(workspaceId: string, q?: NamedQuery & { projectId?: string }): UserGroup[] {
    return this.userGroups.list(workspaceId, q);
  }

  createUserGroup(workspaceId: string, input: UserGroupInput): StoreChange<UserGroup> {
    return this.userGroups.create(workspaceId, input);
  }

  updateUserGroup(workspaceId: string, groupId: string, patch: UserGroupPatch): StoreChange<UserGroup> {
    return this.userGroups.update(workspaceId, groupId, patch);
  }

  deleteUserGroup(workspaceId: string, groupId: string): StoreChange<UserGroup> {
    return this.userGroups.delete(workspaceId, groupId);
  }

  // ---------------------------------------------------------------- clients (clients.ts)

  listClients(workspaceId: string, q?: NamedQuery): Client[] {
    return this.clients.list(workspaceId, q);
  }

  getClient(workspaceId: string, clientId: string): Client {
    return this.clients.get(workspaceId, clientId);
  }

  createClient(workspaceId: string, input: ClientInput): StoreChange<Client> {
    return this.clients.create(workspaceId, input);
  }

  updateClient(workspaceId: string, clientId: string, patch: ClientPatch): StoreChange<Client> {
    return this.clients.update(workspaceId, clientId, patch);
  }

  deleteClient(workspaceId: string, clientId: string): StoreChange<Client> {
    return this.clients.delete(workspaceId, clientId);
  }

  // ---------------------------------------------------------------- projects (projects.ts)

  listProjects(workspaceId: string, q?: ProjectQuery): Project[] {
    return this.projects.list(workspaceId, q);
  }

  getProject(workspaceId: string, projectId: string): Project {
    return this.projects.get(workspaceId, projectId);
  }

  createProject(workspaceId: string, input: ProjectInput): StoreChange<Project> {
    return this.projects.create(workspaceId, input);
  }

  updateProject(workspaceId: string, projectId: string, patch: ProjectPatch): StoreChange<Project> {
    return this.projects.update(workspaceId, projectId, patch);
  }

  deleteProject(workspaceId: string, projectId: string): StoreChange<Project> {
    return this.projects.delete(workspaceId, projectId);
  }

  // ---------------------------------------------------------------- tasks (tasks.ts)

  listTasks(workspaceId: string, projectId: string, q?: TaskQuery): Task[] {
    return this.tasks.list(workspaceId, projectId, q);
  }

  getTask(workspaceId: string, projectId: string, taskId: string): Task {
    return this.tasks.get(workspaceId, projectId, taskId);
  }

  createTask(workspaceId: string, projectId: string, input: TaskInput): StoreChange<Task> {
    return this.tasks.create(workspaceId, projectId, input);
  }

  updateTask(workspaceId: string, projectId: string, taskId: string, patch: TaskPatch): StoreChange<Task> {
    return this.tasks.update(workspaceId, projectId, taskId, patch);
  }

  deleteTask(workspaceId: string, projectId: string, taskId: string): StoreChange<Task> {
    return this.tasks.delete(workspaceId, projectId, taskId);
  }

  // ---------------------------------------------------------------- tags (tags.ts)

  listTags(workspaceId: string, q?: TagQuery): Tag[] {
    return this.tags.list(workspaceId, q);
  }

  getTag(workspaceId: string, tagId: string): Tag {
    return this.tags.get(workspaceId, tagId);
  }

  createTag(workspaceId: string, input: TagInput): StoreChange<Tag> {
    return this.tags.create(workspaceId, input);
  }

  updateTag(workspaceId: string, tagId: string, patch: TagPatch): StoreChange<Tag> {
    return this.tags.update(workspaceId, tagId, patch);
  }

  deleteTag(workspaceId: string, tagId: string): StoreChange<Tag> {
    return this.tags.delete(workspaceId, tagId);
  }

  // ---------------------------------------------------------------- custom fields (custom-fields.ts)

  listCustomFields(workspaceId: string, q?: CustomFieldQuery): CustomField[] {
    return this.customFields.list(workspaceId, q);
  }

  createCustomField(workspaceId: string, input: CustomFieldInput): StoreChange<CustomField> {
    return this.customFields.create(workspaceId, input);
  }

  updateCustomField(workspaceId: string, fieldId: string, patch: CustomFieldPatch): StoreChange<CustomField> {
    return this.customFields.update(workspaceId, fieldId, patch);
  }

  deleteCustomField(workspaceId: string, fieldId: string): StoreChange<CustomField> {
    return this.customFields.delete(workspaceId, fieldId);
  }

  // ---------------------------------------------------------------- time entries (time-entries.ts)

  listTimeEntries(workspaceId: string, userId: string, q?: TimeEntryQuery): TimeEntry[] {
    return this.timeEntries.list(workspaceId, userId, q);
  }

  /** `listTimeEntries` without copying: the store's own objects, to be copied before handing out. */
  selectTimeEntries(workspaceId: string, userId: string, q?: TimeEntryQuery): readonly Readonly<TimeEntry>[] {
    return this.timeEntries.select(workspaceId, userId, q);
  }

  listInProgress(workspaceId: string): TimeEntry[] {
    return this.timeEntries.listInProgress(workspaceId);
  }

  getTimeEntry(workspaceId: string, entryId: string): TimeEntry {
    return this.timeEntries.get(workspaceId, entryId);
  }

  runningTimer(workspaceId: string, userId: string): TimeEntry | undefined {
    return this.timeEntries.runningTimer(workspaceId, userId);
  }

  randomTimeEntry(workspaceId: string, rng: Rng, filter?: { running?: boolean }): TimeEntry | undefined {
    return this.timeEntries.random(workspaceId, rng, filter);
  }

  hydrate(workspaceId: string, entry: TimeEntry): HydratedTimeEntry {
    return this.timeEntries.hydrate(workspaceId, entry);
  }

  createTimeEntry(workspaceId: string, input: TimeEntryInput & { end: string }): StoreChange<TimeEntry> {
    return this.timeEntries.create(workspaceId, input);
  }

  startTimer(workspaceId: string, input: TimerInput): StoreChange<TimeEntry> {
    return this.timeEntries.startTimer(workspaceId, input);
  }

  stopTimer(workspaceId: string, userId: string, end?: string): StoreChange<TimeEntry> {
    return this.timeEntries.stopTimer(workspaceId, userId, end);
  }

  updateTimeEntry(workspaceId: string, entryId: string, patch: TimeEntryPatch): StoreChange<TimeEntry> {
    return this.timeEntries.update(workspaceId, entryId, patch);
  }

  deleteTimeEntry(workspaceId: string, entryId: string): StoreChange<TimeEntry> {
    return this.timeEntries.delete(workspaceId, entryId);
  }

  restoreTimeEntry(workspaceId: string, entryId: string): StoreChange<TimeEntry> {
    return this.timeEntries.restore(workspaceId, entryId);
  }

  deletedTimeEntryIds(workspaceId: string): string[] {
    return this.timeEntries.deletedIds(workspaceId);
  }

  splitTimeEntry(workspaceId: string, entryId: string, at: string): StoreChange<TimeEntry> {
    return this.timeEntries.split(workspaceId, entryId, at);
  }
}
