import { randomBytes } from 'node:crypto';
import { objectId, OBJECT_ID, Rng } from '../random.js';
import { isoDuration, isoInstant, parseIsoDuration } from './format.js';
import {
  DEFAULT_SIZES,
  MAX_SIZES,
  type AccountStatus,
  type Client,
  type CustomField,
  type MembershipStatus,
  type Project,
  type Rate,
  type Tag,
  type Task,
  type TimeEntry,
  type User,
  type UserGroup,
  type UserRecord,
  type Workspace,
  type WorkspaceRole,
  type WorkspaceSizes,
  type WorkspaceSpec,
} from './types.js';

/** Everything the mock knows about one workspace. Maps keep insertion order. */
export interface WorkspaceData {
  readonly workspace: Workspace;
  readonly users: Map<string, UserRecord>;
  readonly userGroups: Map<string, UserGroup>;
  readonly clients: Map<string, Client>;
  readonly projects: Map<string, Project>;
  /** Tasks by project id. */
  readonly tasks: Map<string, Map<string, Task>>;
  readonly tags: Map<string, Tag>;
  readonly customFields: Map<string, CustomField>;
  readonly entries: Map<string, TimeEntry>;
  /** Each user's entries, newest start first (ties by id, descending): Clockify's order. */
  readonly entriesByUser: Map<string, TimeEntry[]>;
  /** Deleted entries kept for TIME_ENTRY_RESTORED. */
  readonly deletedEntries: Map<string, TimeEntry>;
  readonly ownerId: string;
  /** The add-on's own user in this workspace (INSTALLED `addonUserId`). */
  readonly addonUserId: string;
  readonly sizes: WorkspaceSizes;
  /**
   * Random source for later mutations (ids, names). Seeded from the OS, not the data seed: two
   * processes rebuilding the same workspace must not mint the same ids for their new entities.
   */
  readonly rng: Rng;
}

const FIRST_NAMES = [
  'Ana',
  'Marko',
  'Jelena',
  'Nikola',
  'Sofia',
  'Luka',
  'Mia',
  'Ivan',
  'Elena',
  'David',
  'Sara',
  'Petar',
  'Nina',
  'Stefan',
  'Maya',
  'Aleksa',
  'Olivia',
  'Noah',
  'Emma',
  'Liam',
  'Chloe',
  'Lucas',
  'Zoe',
  'Milan',
  'Iva',
  'Filip',
  'Lea',
  'Omar',
  'Hana',
  'Jonas',
  'Priya',
  'Ken',
  'Amara',
  'Mateo',
  'Ines',
  'Tariq',
  'Yuki',
  'Lars',
  'Rosa',
  'Kofi',
];
const LAST_NAMES = [
  'Jovanović',
  'Petrović',
  'Nikolić',
  'Smith',
  'García',
  'Müller',
  'Rossi',
  'Novak',
  'Kowalski',
  'Tanaka',
  'Okafor',
  'Silva',
  'Horvat',
  'Dubois',
  'Andersen',
  'Ivanova',
  'Costa',
  'Nguyen',
  'Khan',
  'Brown',
  'Marković',
  'Ilić',
  'Weber',
  'Lindqvist',
  'Moreau',
  'Fischer',
  'Haddad',
  'Sato',
  'Mensah',
  'Kovač',
];
const COMPANY_WORDS = [
  'Acme',
  'Blue',
  'Northwind',
  'Globex',
  'Initech',
  'Umbrella',
  'Stark',
  'Wayne',
  'Vertex',
  'Pioneer',
  'Lumen',
  'Orbit',
  'Cedar',
  'Harbor',
  'Summit',
  'Atlas',
  'Nimbus',
  'Quartz',
  'Falcon',
  'Maple',
];
const COMPANY_SUFFIXES = [
  'Labs',
  'Studio',
  'Group',
  'Partners',
  'Systems',
  'Media',
  'Logistics',
  'Foods',
  'Health',
  'Works',
];
const PROJECT_WORDS = [
  'Website redesign',
  'Mobile app',
  'Data migration',
  'Q3 campaign',
  'Onboarding flow',
  'API integration',
  'Brand refresh',
  'Support retainer',
  'Internal tools',
  'Security audit',
  'Analytics dashboard',
  'Checkout revamp',
  'Infrastructure',
  'Research',
  'Content plan',
  'Localization',
  'Payroll sync',
  'Customer portal',
  'Billing service',
  'Newsletter',
];
const TASK_WORDS = [
  'Design',
  'Development',
  'Code review',
  'Testing',
  'Meetings',
  'Planning',
  'Documentation',
  'Deployment',
  'Bug fixing',
  'Research',
  'Copywriting',
  'QA',
  'Project management',
  'Estimation',
  'Support',
];
const TAG_WORDS = [
  'billable',
  'internal',
  'urgent',
  'overtime',
  'remote',
  'on-site',
  'meeting',
  'travel',
  'training',
  'support',
  'review',
  'sprint',
  'maintenance',
  'sales',
  'hiring',
  'admin',
  'research',
  'design',
  'backend',
  'frontend',
];
const DESCRIPTIONS = [
  'Sprint planning',
  'Daily stand-up',
  'Fixing login bug',
  'Client call',
  'Reviewing pull requests',
  'Writing specs',
  'Preparing demo',
  'Deploying release',
  'Refactoring billing module',
  'Updating documentation',
  'Pairing session',
  'Investigating incident',
  'Design review',
  'Email triage',
  'Estimating backlog',
  'User interviews',
  '',
];
const COLORS = [
  '#03A9F4',
  '#4CAF50',
  '#FF9800',
  '#9C27B0',
  '#E91E63',
  '#3F51B5',
  '#009688',
  '#795548',
  '#607D8B',
  '#F44336',
  '#CDDC39',
  '#2196F3',
];
const GROUP_WORDS = [
  'Engineering',
  'Design',
  'Marketing',
  'Sales',
  'Support',
  'Operations',
  'Finance',
  'Leadership',
  'QA',
  'Data',
];
const CUSTOM_FIELD_TEMPLATES: ReadonlyArray<
  Pick<CustomField, 'name' | 'type' | 'allowedValues' | 'entityType' | 'placeholder'>
> = [
  {
    name: 'Location',
    type: 'DROPDOWN_SINGLE',
    allowedValues: ['Office', 'Home', 'Client site'],
    entityType: 'TIMEENTRY',
    placeholder: 'Where?',
  },
  { name: 'Ticket', type: 'TXT', allowedValues: [], entityType: 'TIMEENTRY', placeholder: 'ABC-123' },
  { name: 'Kilometers', type: 'NUMBER', allowedValues: [], entityType: 'TIMEENTRY', placeholder: '0' },
  { name: 'Employee number', type: 'TXT', allowedValues: [], entityType: 'USER', placeholder: 'E-0000' },
  { name: 'Overtime approved', type: 'CHECKBOX', allowedValues: [], entityType: 'TIMEENTRY', placeholder: '' },
  {
    name: 'Activities',
    type: 'DROPDOWN_MULTIPLE',
    allowedValues: ['Coding', 'Meeting', 'Writing', 'Review'],
    entityType: 'TIMEENTRY',
    placeholder: '',
  },
  { name: 'Reference', type: 'LINK', allowedValues: [], entityType: 'TIMEENTRY', placeholder: 'https://' },
];

const DAY_MS = 86_400_000;
/** Creation time embedded in generated ids (time entries use their start instead). */
const ID_EPOCH = Date.UTC(2025, 0, 1);
export const CURRENCY: Rate['currency'] = 'USD';

export function resolveSizes(partial: Partial<WorkspaceSizes> | undefined): WorkspaceSizes {
  const out: Record<string, number> = {};
  for (const key of Object.keys(DEFAULT_SIZES) as Array<keyof WorkspaceSizes>) {
    const v = partial?.[key] ?? DEFAULT_SIZES[key];
    if (!Number.isInteger(v) || v < 0)
      throw new Error(`workspace size "${key}" must be a non-negative integer, got ${String(v)}`);
    if (v > MAX_SIZES[key]) throw new Error(`workspace size "${key}" must be at most ${MAX_SIZES[key]}, got ${v}`);
    out[key] = v;
  }
  if (out.users === 0) throw new Error('a workspace needs at least one user (its owner)');
  if (out.days === 0) out.days = 1;
  return out as unknown as WorkspaceSizes;
}

/**
 * Builds one workspace from a random source. The same generator state and `nowMs` give the same
 * workspace, so another process can rebuild it from the seed.
 */
export function generateWorkspace(rng: Rng, spec: WorkspaceSpec, nowMs: number): WorkspaceData {
  const sizes = resolveSizes(spec.sizes);
  // Ids embed a creation time; anchoring it to a fixed date (not to now) keeps the workspace,
  // its users, projects and the rest identical for a seed whenever the simulator starts.
  const createdAt = ID_EPOCH - 400 * DAY_MS;
  const wsId = spec.id ?? objectId(rng, createdAt);
  if (!OBJECT_ID.test(wsId)) throw new Error(`workspace id must be 24 lower-case hex characters, got "${wsId}"`);
  const companyName = `${rng.pick(COMPANY_WORDS)} ${rng.pick(COMPANY_SUFFIXES)}`;
  const domain = `${companyName.toLowerCase().replace(/[^a-z]+/g, '-')}.example`;
  const idAt = (ms: number) => objectId(rng, ms);
  const later = (from: number) => from + rng.int(0, ID_EPOCH - from);

  // Users: the owner first, then a realistic mix of membership states.
  const users = new Map<string, UserRecord>();
  const emails = new Set<string>();
  const pendingAt = sizes.users >= 3 ? sizes.users - 1 : -1;
  const inactiveAt = sizes.users >= 3 ? sizes.users - 2 : -1;
  for (let i = 0; i < sizes.users; i++) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const name = `${first} ${last}`;
    let email = `${ascii(first)}.${ascii(last)}@${domain}`;
    for (let n = 2; emails.has(email); n++) email = `${ascii(first)}.${ascii(last)}${n}@${domain}`;
    emails.add(email);
    let membershipStatus: MembershipStatus;
    if (i === 0) membershipStatus = 'ACTIVE';
    else if (i === pendingAt) membershipStatus = 'PENDING';
    else if (i === inactiveAt) membershipStatus = 'INACTIVE';
    else {
      const r = rng.next();
      membershipStatus = r < 0.78 ? 'ACTIVE' : r < 0.88 ? 'PENDING' : r < 0.96 ? 'INACTIVE' : 'DECLINED';
    }
    const status: AccountStatus =
      membershipStatus === 'PENDING'
        ? rng.chance(0.7)
          ? 'NOT_REGISTERED'
          : 'PENDING_EMAIL_VERIFICATION'
        : rng.chance(0.04)
          ? 'LIMITED'
          : 'ACTIVE';
    const role: WorkspaceRole =
      i === 0 ? 'OWNER' : i === 1 ? 'WORKSPACE_ADMIN' : rng.chance(0.08) ? 'TEAM_MANAGER' : 'USER';
    const id = idAt(later(createdAt));
    const hourly = rng.chance(0.6) ? { amount: rng.int(20, 150) * 100, currency: CURRENCY } : null;
    const user: User = {
      id,
      email,
      name,
      memberships: [],
      profilePicture: 'https://img.clockify.me/no-user-image.png',
      activeWorkspace: wsId,
      defaultWorkspace: wsId,
      settings: userSettings(rng),
      status,
      customFields: [],
    };
    users.set(id, {
      user,
      membershipStatus,
      role,
      hourlyRate: hourly,
      costRate: hourly ? { amount: Math.round(hourly.amount * 0.6), currency: CURRENCY } : null,
    });
  }
  const userList = [...users.values()];
  const owner = userList[0] as UserRecord;
  const members = userList.filter((u) => u.membershipStatus === 'ACTIVE' || u.membershipStatus === 'INACTIVE');

  const workspace: Workspace = {
    id: wsId,
    name: spec.name ?? companyName,
    hourlyRate: { amount: 5000, currency: CURRENCY },
    costRate: { amount: 3000, currency: CURRENCY },
    memberships: userList.map((u) => workspaceMembership(u, wsId)),
    workspaceSettings: workspaceSettings(),
    imageUrl: '',
    featureSubscriptionType: {
      addonSubscriptionPlan: 'PRO',
      featurePermissions: [],
      legacy: false,
      paidPlan: true,
      regionalAllowed: true,
      weight: 40,
    },
    features: [
      'ADD_TIME_FOR_OTHERS',
      'APPROVAL',
      'CUSTOM_FIELDS',
      'EXPENSES',
      'INVOICING',
      'SCHEDULING',
      'TIME_OFF',
      'USER_CUSTOM_FIELDS',
    ],
    currencies: [{ id: idAt(createdAt), code: CURRENCY, isDefault: true }],
    subdomain: { enabled: false, name: null },
    cakeOrganizationId: idAt(createdAt),
  };
  const currencyId = (workspace.currencies[0] as { id: string }).id;

  const userGroups = new Map<string, UserGroup>();
  for (let i = 0; i < sizes.userGroups; i++) {
    const id = idAt(later(createdAt));
    const groupMembers = rng.sample(members, rng.int(1, Math.max(1, Math.min(members.length, 8))));
    const manager = groupMembers.find((m) => m.role === 'TEAM_MANAGER');
    userGroups.set(id, {
      id,
      name: i < GROUP_WORDS.length ? (GROUP_WORDS[i] as string) : `${rng.pick(GROUP_WORDS)} ${i + 1}`,
      workspaceId: wsId,
      userIds: groupMembers.map((m) => m.user.id),
      teamManagers: manager ? [{ id: manager.user.id, name: manager.user.name }] : [],
    });
  }

  const clients = new Map<string, Client>();
  const clientNames = new Set<string>();
  for (let i = 0; i < sizes.clients; i++) {
    let name = `${rng.pick(COMPANY_WORDS)} ${rng.pick(COMPANY_SUFFIXES)}`;
    for (let n = 2; clientNames.has(name); n++) name = `${name.replace(/ \d+$/, '')} ${n}`;
    clientNames.add(name);
    const id = idAt(later(createdAt));
    clients.set(id, {
      id,
      name,
      email: rng.chance(0.7) ? `billing@${ascii(name).replace(/\s+/g, '-')}.example` : null,
      workspaceId: wsId,
      archived: rng.chance(0.1),
      address: rng.chance(0.5) ? `${rng.int(1, 200)} ${rng.pick(LAST_NAMES)} Street` : null,
      note: null,
      ccEmails: [],
      currencyId,
      currencyCode: CURRENCY,
    });
  }
  const clientList = [...clients.values()];

  const projects = new Map<string, Project>();
  const tasks = new Map<string, Map<string, Task>>();
  const projectNames = new Set<string>();
  for (let i = 0; i < sizes.projects; i++) {
    let name = rng.pick(PROJECT_WORDS);
    for (let n = 2; projectNames.has(name); n++) name = `${name.replace(/ #\d+$/, '')} #${n}`;
    projectNames.add(name);
    const id = idAt(later(createdAt));
    const client = clientList.length > 0 && rng.chance(0.8) ? rng.pick(clientList) : undefined;
    const projectMembers = rng.sample(members, rng.int(1, Math.max(1, Math.min(members.length, 6))));
    const billable = rng.chance(0.7);
    projects.set(id, {
      id,
      name,
      hourlyRate: billable ? { amount: rng.int(40, 200) * 100, currency: CURRENCY } : null,
      costRate: null,
      clientId: client?.id ?? '',
      clientName: client?.name ?? '',
      workspaceId: wsId,
      billable,
      memberships: projectMembers.map((m) => ({
        userId: m.user.id,
        hourlyRate: null,
        costRate: null,
        targetId: id,
        membershipType: 'PROJECT',
        membershipStatus: 'ACTIVE',
      })),
      color: rng.pick(COLORS),
      estimate: { estimate: 'PT0S', type: 'AUTO' },
      archived: rng.chance(0.08),
      duration: 'PT0S',
      note: '',
      template: false,
      public: rng.chance(0.6),
      budgetEstimate: null,
      timeEstimate: { estimate: 'PT0S', type: 'AUTO', resetOption: null, active: false, includeNonBillable: true },
    });
    const projectTasks = new Map<string, Task>();
    const taskNames = rng.sample(TASK_WORDS, Math.min(sizes.tasksPerProject, TASK_WORDS.length));
    for (let t = 0; t < sizes.tasksPerProject; t++) {
      const taskId = idAt(later(createdAt));
      const assignees = rng.chance(0.5) ? rng.sample(projectMembers, 1).map((m) => m.user.id) : [];
      projectTasks.set(taskId, {
        id: taskId,
        name: (taskNames[t] as string | undefined) ?? `Task ${t + 1}`,
        projectId: id,
        assigneeIds: assignees,
        assigneeId: null,
        userGroupIds: [],
        estimate: 'PT0S',
        status: rng.chance(0.85) ? 'ACTIVE' : 'DONE',
        duration: 'PT0S',
        billable,
        hourlyRate: null,
        costRate: null,
        budgetEstimate: 0,
      });
    }
    tasks.set(id, projectTasks);
  }

  const tags = new Map<string, Tag>();
  for (let i = 0; i < sizes.tags; i++) {
    const id = idAt(later(createdAt));
    const base = TAG_WORDS[i % TAG_WORDS.length] as string;
    tags.set(id, {
      id,
      name: i < TAG_WORDS.length ? base : `${base}-${Math.floor(i / TAG_WORDS.length) + 1}`,
      workspaceId: wsId,
      archived: rng.chance(0.05),
    });
  }
  const tagIds = [...tags.values()].filter((t) => !t.archived).map((t) => t.id);

  const customFields = new Map<string, CustomField>();
  for (let i = 0; i < sizes.customFields; i++) {
    const tpl = CUSTOM_FIELD_TEMPLATES[i % CUSTOM_FIELD_TEMPLATES.length] as (typeof CUSTOM_FIELD_TEMPLATES)[number];
    const id = idAt(later(createdAt));
    customFields.set(id, {
      id,
      name:
        i < CUSTOM_FIELD_TEMPLATES.length
          ? tpl.name
          : `${tpl.name} ${Math.floor(i / CUSTOM_FIELD_TEMPLATES.length) + 1}`,
      type: tpl.type,
      allowedValues: [...tpl.allowedValues],
      description: '',
      entityType: tpl.entityType,
      onlyAdminCanEdit: rng.chance(0.2),
      placeholder: tpl.placeholder,
      projectDefaultValues: [],
      required: false,
      status: rng.chance(0.85) ? 'VISIBLE' : rng.chance(0.5) ? 'INVISIBLE' : 'INACTIVE',
      workspaceDefaultValue: tpl.type === 'CHECKBOX' ? false : tpl.type === 'DROPDOWN_MULTIPLE' ? [] : null,
      workspaceId: wsId,
    });
  }
  const entryFields = [...customFields.values()].filter((f) => f.entityType === 'TIMEENTRY' && f.status !== 'INACTIVE');

  const data: WorkspaceData = {
    workspace,
    users,
    userGroups,
    clients,
    projects,
    tasks,
    tags,
    customFields,
    entries: new Map(),
    entriesByUser: new Map(userList.map((u) => [u.user.id, []])),
    deletedEntries: new Map(),
    ownerId: owner.user.id,
    addonUserId: idAt(ID_EPOCH),
    sizes,
    rng: new Rng(randomBytes(16).toString('hex')),
  };

  // Time entries: only people who joined track time; running timers go to active members.
  if (members.length > 0) {
    const activeProjects = [...projects.values()].filter((p) => !p.archived);
    const windowStart = nowMs - sizes.days * DAY_MS;
    for (let i = 0; i < sizes.entries; i++) {
      const member = members[i % members.length] as UserRecord;
      const day = Math.floor(windowStart / DAY_MS) * DAY_MS + rng.int(0, sizes.days - 1) * DAY_MS;
      let startMs = day + rng.int(7 * 60, 18 * 60) * 60_000 + rng.int(0, 59) * 1000;
      const durationS = rng.int(5, 240) * 60;
      // Today's entries must have finished already; move the ones that would not have to yesterday.
      if (startMs + durationS * 1000 > nowMs - 60_000) startMs -= DAY_MS;
      const endMs = startMs + durationS * 1000;
      addEntry(data, makeEntry(data, rng, member.user.id, startMs, endMs, activeProjects, tagIds, entryFields));
    }
    const runners = members.filter((m) => m.membershipStatus === 'ACTIVE').slice(0, sizes.runningTimers);
    for (const member of runners) {
      const startMs = nowMs - rng.int(5, 180) * 60_000;
      addEntry(data, makeEntry(data, rng, member.user.id, startMs, null, activeProjects, tagIds, entryFields));
    }
  }
  recomputeDurations(data);
  return data;
}

function makeEntry(
  data: WorkspaceData,
  rng: Rng,
  userId: string,
  startMs: number,
  endMs: number | null,
  projects: readonly Project[],
  tagIds: readonly string[],
  fields: readonly CustomField[],
): TimeEntry {
  const project = projects.length > 0 && rng.chance(0.85) ? rng.pick(projects) : undefined;
  const projectTasks = project
    ? [...(data.tasks.get(project.id)?.values() ?? [])].filter((t) => t.status === 'ACTIVE')
    : [];
  const task = projectTasks.length > 0 && rng.chance(0.6) ? rng.pick(projectTasks) : undefined;
  const id = objectId(rng, startMs);
  const record = data.users.get(userId);
  return {
    id,
    description: rng.pick(DESCRIPTIONS),
    tagIds: tagIds.length > 0 && rng.chance(0.5) ? rng.sample(tagIds, rng.int(1, Math.min(2, tagIds.length))) : [],
    userId,
    billable: project?.billable ?? false,
    taskId: task?.id ?? null,
    projectId: project?.id ?? null,
    workspaceId: data.workspace.id,
    timeInterval: {
      start: isoInstant(startMs),
      end: endMs === null ? null : isoInstant(endMs),
      duration:
        endMs === null
          ? null
          : isoDuration((Math.floor(endMs / 1000) * 1000 - Math.floor(startMs / 1000) * 1000) / 1000),
    },
    customFieldValues: fields.length > 0 && rng.chance(0.4) ? [fieldValue(rng, rng.pick(fields), id)] : [],
    type: 'REGULAR',
    kioskId: null,
    hourlyRate: project?.hourlyRate ?? record?.hourlyRate ?? null,
    costRate: record?.costRate ?? null,
    isLocked: false,
  };
}

export function fieldValue(rng: Rng, field: CustomField, timeEntryId: string) {
  let value: unknown;
  switch (field.type) {
    case 'NUMBER':
      value = rng.int(1, 120);
      break;
    case 'CHECKBOX':
      value = rng.chance(0.5);
      break;
    case 'DROPDOWN_SINGLE':
      value = rng.pick(field.allowedValues.length > 0 ? field.allowedValues : ['A']);
      break;
    case 'DROPDOWN_MULTIPLE':
      value = rng.sample(field.allowedValues, rng.int(1, Math.max(1, field.allowedValues.length)));
      break;
    case 'LINK':
      value = `https://tickets.example/${rng.int(100, 999)}`;
      break;
    default:
      value = `ABC-${rng.int(100, 9999)}`;
  }
  return { customFieldId: field.id, timeEntryId, value, name: field.name, type: field.type };
}

/** Inserts an entry into the id map and its user's newest-first list. */
export function addEntry(data: WorkspaceData, entry: TimeEntry): void {
  data.entries.set(entry.id, entry);
  let list = data.entriesByUser.get(entry.userId);
  if (!list) {
    list = [];
    data.entriesByUser.set(entry.userId, list);
  }
  // Binary search for the first position whose entry sorts after this one.
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(list[mid] as TimeEntry, entry) < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, entry);
}

export function removeEntry(data: WorkspaceData, id: string): TimeEntry | undefined {
  const entry = data.entries.get(id);
  if (!entry) return undefined;
  data.entries.delete(id);
  const list = data.entriesByUser.get(entry.userId);
  if (list) {
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
  }
  return entry;
}

/** Newest start first; equal starts by id, descending. */
export function compareEntries(a: TimeEntry, b: TimeEntry): number {
  if (a.timeInterval.start !== b.timeInterval.start) return a.timeInterval.start < b.timeInterval.start ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Tracked time per project and task, as Clockify reports in `duration`. */
export function recomputeDurations(data: WorkspaceData): void {
  const perProject = new Map<string, number>();
  const perTask = new Map<string, number>();
  for (const e of data.entries.values()) {
    const seconds = parseIsoDuration(e.timeInterval.duration);
    if (e.projectId) perProject.set(e.projectId, (perProject.get(e.projectId) ?? 0) + seconds);
    if (e.taskId) perTask.set(e.taskId, (perTask.get(e.taskId) ?? 0) + seconds);
  }
  for (const p of data.projects.values()) p.duration = isoDuration(perProject.get(p.id) ?? 0);
  for (const list of data.tasks.values())
    for (const t of list.values()) t.duration = isoDuration(perTask.get(t.id) ?? 0);
}

export function workspaceMembership(u: UserRecord, workspaceId: string) {
  return {
    userId: u.user.id,
    hourlyRate: u.hourlyRate,
    costRate: u.costRate,
    targetId: workspaceId,
    membershipType: 'WORKSPACE' as const,
    membershipStatus: u.membershipStatus,
  };
}

function ascii(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'dj')
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '');
}

function userSettings(rng: Rng): Record<string, unknown> {
  return {
    weekStart: 'MONDAY',
    timeZone: rng.pick(['Europe/Belgrade', 'Europe/London', 'America/New_York', 'Asia/Tokyo', 'UTC']),
    timeFormat: rng.pick(['HOUR24', 'HOUR12']),
    dateFormat: 'DD/MM/YYYY',
    sendNewsletter: false,
    weeklyUpdates: false,
    longRunning: true,
    scheduledReports: true,
    approval: true,
    pto: true,
    alerts: true,
    reminders: true,
    timeTrackingManual: false,
    summaryReportSettings: { group: 'PROJECT', subgroup: 'TIME_ENTRY' },
    isCompactViewOn: false,
    dashboardSelection: 'ME',
    dashboardViewType: 'PROJECT',
    dashboardPinToTop: false,
    projectListCollapse: 50,
    collapseAllProjectLists: false,
    groupSimilarEntriesDisabled: false,
    myStartOfDay: '09:00',
    projectPickerTaskFilter: false,
    lang: 'EN',
    multiFactorEnabled: false,
    scheduling: true,
    onboarding: false,
    showOnlyWorkingDays: false,
    theme: 'DEFAULT',
    invoiceReminders: false,
  };
}

function workspaceSettings(): Record<string, unknown> {
  return {
    timeRoundingInReports: false,
    onlyAdminsSeeBillableRates: true,
    onlyAdminsCreateProject: true,
    onlyAdminsSeeDashboard: false,
    defaultBillableProjects: true,
    lockTimeEntries: null,
    lockTimeZone: null,
    round: { round: 'Round to nearest', minutes: '15' },
    projectFavorites: true,
    canSeeTimeSheet: true,
    canSeeTracker: true,
    projectPickerSpecialFilter: false,
    forceProjects: false,
    forceTasks: false,
    forceTags: false,
    forceDescription: false,
    onlyAdminsSeeAllTimeEntries: false,
    onlyAdminsSeePublicProjectsEntries: false,
    trackTimeDownToSecond: true,
    projectGroupingLabel: 'client',
    adminOnlyPages: [],
    automaticLock: null,
    onlyAdminsCreateTag: false,
    onlyAdminsCreateTask: false,
    timeTrackingMode: 'DEFAULT',
    multiFactorEnabled: false,
    numberFormat: 'COMMA_PERIOD',
    currencyFormat: 'CURRENCY_SPACE_VALUE',
    durationFormat: 'FULL',
    isProjectPublicByDefault: true,
    activeBillableHours: true,
    workingDays: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'],
    entityCreationPermissions: {
      whoCanCreateProjectsAndClients: 'ADMINS',
      whoCanCreateTags: 'EVERYONE',
      whoCanCreateTasks: 'ADMINS_AND_PROJECT_MANAGERS',
    },
    onlyAdminsCanChangeBillableStatus: false,
    taskLabel: 'Task',
    projectLabel: 'Project',
  };
}
