import type { WebhookEventName } from '@cap/clockify';
import { objectId, type Rng } from '../random.js';
import { isoDuration, isoInstant } from '../store/format.js';
import type { MockStore, StoreChange } from '../store/store.js';
import type { Client, Project, Tag, Task, TimeEntry, User } from '../store/types.js';

/**
 * Webhook bodies as Clockify sends them (REFERENCE.md §4): the affected entity itself, flat, no
 * envelope and no delivery id, and never more fields than Clockify's examples show. A body richer
 * than Clockify's hides bugs (a platform that replaces its copy with a short body would erase
 * fields and no test would notice), so entity bodies are cut down to the documented keys.
 *
 * Where each shape comes from. SAMPLES = the compiled webhook samples named in REFERENCE.md §0
 * (`apet97/clockify-xcfe:Clockify_Webhook_JSON_Samples (1).md`, doc samples and live captures);
 * no Clockify page documents a schema per event, so they are the best source there is.
 *
 * | Event(s)                                             | Shape                                                    | Source |
 * | ---------------------------------------------------- | -------------------------------------------------------- | ------ |
 * | NEW_TIME_ENTRY, NEW_TIMER_STARTED, TIMER_STOPPED, TIME_ENTRY_UPDATED/DELETED/RESTORED/SPLIT | TIME_ENTRY_KEYS + hydrated project/task/user/tags (no `type`, `kioskId`) | SAMPLES |
 * | NEW_PROJECT, PROJECT_UPDATED, PROJECT_DELETED        | PROJECT_KEYS + `tasks[]` (every task) + `client`         | SAMPLES |
 * | NEW_CLIENT, CLIENT_UPDATED, CLIENT_DELETED           | `{id, name, workspaceId, archived}`                      | SAMPLES |
 * | NEW_TAG, TAG_UPDATED, TAG_DELETED                    | `{id, name, workspaceId, archived}`                      | SAMPLES |
 * | NEW_TASK, TASK_UPDATED, TASK_DELETED                 | TASK_KEYS (no workspaceId, rates, billable)              | SAMPLES |
 * | USER_GROUP_CREATED/UPDATED/DELETED                   | `{id, name, workspaceId, userIds, teamManagers}`         | SAMPLES |
 * | USER_UPDATED, USER_DELETED_FROM_WORKSPACE            | `{id, email, name}`                                      | SAMPLES, REFERENCE §4 |
 * | USER_EMAIL_CHANGED                                   | `{id, email, name, oldEmail}`                            | SAMPLES |
 * | USER_JOINED_WORKSPACE, USER_(DE)ACTIVATED_ON_WORKSPACE | `{id, email, name, profilePicture, settings}` (no status, memberships) | SAMPLES |
 * | USERS_INVITED_TO_WORKSPACE                           | `{workspaceId, inviter{id,email,name,profilePicture,settings}, invitedUserEmails}` | SAMPLES |
 * | LIMITED_USERS_ADDED_TO_WORKSPACE                     | `{workspaceId, inviter{id,email,name,profilePicture}, invitedUserNames}` | SAMPLES |
 * | BILLABLE_RATE_UPDATED, COST_RATE_UPDATED             | `{workspaceId, rateChangeSource, modifiedEntity, currency{id,code}, amount, since}` | SAMPLES (a workspace rate's `rateChangeSource` is a guess: the sample shows PROJECT_MEMBER only) |
 * | EXPENSE_CREATED                                      | `{id, workspaceId, userId, date, projectId, taskId, categoryId, notes, quantity, billable, fileId, total}` | SAMPLES |
 * | EXPENSE_RESTORED                                     | as EXPENSE_CREATED without `taskId`, with `locked`        | SAMPLES |
 * | EXPENSE_UPDATED, EXPENSE_DELETED                     | `{workspaceId, userId, projectId, expenseId, categoryId}` | SAMPLES |
 * | NEW_INVOICE, INVOICE_UPDATED                         | the invoice with totals and `items[]`, no workspaceId     | SAMPLES |
 * | NEW_APPROVAL_REQUEST, APPROVAL_REQUEST_STATUS_UPDATED | `{id, workspaceId, dateRange, owner{…, timezone}, status}` | SAMPLES |
 * | TIME_OFF_REQUESTED/APPROVED/REJECTED/WITHDRAWN       | the request (`timeZone`, `timeOffPeriod.period`, `status`, balances) | SAMPLES |
 * | TIME_OFF_REQUEST_STARTED, TIME_OFF_REQUEST_UPDATED   | as the other time-off events                             | guess: no sample |
 * | ASSIGNMENT_CREATED/UPDATED/DELETED/PUBLISHED         | `{workspaceId, userId, projectId, assignmentId}`          | SAMPLES, REFERENCE §4 |
 * | BALANCE_UPDATED                                      | `{workspaceId, userId, value (a string), note, updatedBy}` | SAMPLES, REFERENCE §4 |
 *
 * Entity events are built from the store's entities (so the add-on's mirror converges on the
 * data the mock API serves); events about things the store does not model (expenses, invoices,
 * approvals, time off, scheduling, balances) are synthesized around real users and projects.
 */

export type WebhookBody = Record<string, unknown>;

export interface WebhookBuildContext {
  readonly store: MockStore;
  readonly workspaceId: string;
  readonly rng: Rng;
  readonly now?: () => number;
}

const DAY_MS = 86_400_000;

/** The keys of each entity that Clockify's webhook examples carry (see the table above). */
const TAG_KEYS = ['id', 'name', 'workspaceId', 'archived'] as const;
const CLIENT_KEYS = ['id', 'name', 'workspaceId', 'archived'] as const;
const TASK_KEYS = [
  'id',
  'name',
  'projectId',
  'assigneeIds',
  'assigneeId',
  'userGroupIds',
  'estimate',
  'status',
  'duration',
] as const;
const PROJECT_KEYS = [
  'id',
  'name',
  'hourlyRate',
  'clientId',
  'workspaceId',
  'billable',
  'color',
  'estimate',
  'archived',
  'duration',
  'clientName',
  'note',
  'public',
  'template',
] as const;
const TIME_ENTRY_KEYS = [
  'id',
  'description',
  'tagIds',
  'userId',
  'billable',
  'taskId',
  'projectId',
  'timeInterval',
  'workspaceId',
  'isLocked',
  'hourlyRate',
  'costRate',
  'customFieldValues',
] as const;
/** USER_UPDATED, USER_DELETED_FROM_WORKSPACE. */
const USER_SHORT_KEYS = ['id', 'email', 'name'] as const;
/** USER_JOINED_WORKSPACE, USER_(DE)ACTIVATED_ON_WORKSPACE: a profile, no status or memberships. */
const USER_PROFILE_KEYS = ['id', 'email', 'name', 'profilePicture', 'settings'] as const;
const USER_GROUP_KEYS = ['id', 'name', 'workspaceId', 'userIds', 'teamManagers'] as const;

function pick(source: object, keys: readonly string[]): WebhookBody {
  const from = source as Record<string, unknown>;
  const out: WebhookBody = {};
  for (const k of keys) if (k in from) out[k] = structuredClone(from[k]);
  return out;
}

/** A time entry as its webhooks carry it: hydrated, with the short related entities of the samples. */
function timeEntryBody(store: MockStore, ws: string, entry: TimeEntry): WebhookBody {
  const hydrated = store.hydrate(ws, entry);
  const project = hydrated.project as Project | null;
  const task = hydrated.task as Task | null;
  const user = hydrated.user as { id: string; name: string; status: string } | null;
  return {
    ...pick(entry, TIME_ENTRY_KEYS),
    // The samples' custom field values carry no `type`.
    customFieldValues: entry.customFieldValues.map((v) => pick(v, ['customFieldId', 'timeEntryId', 'value', 'name'])),
    project: project ? pick(project, PROJECT_KEYS) : null,
    task: task ? { ...pick(task, TASK_KEYS), workspaceId: ws } : null,
    user: user ? { id: user.id, name: user.name, status: user.status } : null,
    tags: (hydrated.tags as Tag[]).map((t) => pick(t, TAG_KEYS)),
  };
}

/** A project as PROJECT_* carry it: with every task of the project and its client embedded. */
function projectBody(store: MockStore, ws: string, project: Project, tasks?: readonly Task[]): WebhookBody {
  let client: Client | undefined;
  try {
    client = project.clientId ? store.getClient(ws, project.clientId) : undefined;
  } catch {
    // A client deleted after the project named it: Clockify's body would have no client either.
    client = undefined;
  }
  return {
    ...pick(project, PROJECT_KEYS),
    tasks: (tasks ?? store.listTasks(ws, project.id)).map((t) => ({ ...pick(t, TASK_KEYS), workspaceId: ws })),
    // No sample shows a project without a client; null is the guess.
    client: client ? pick(client, CLIENT_KEYS) : null,
  };
}

/** The body Clockify sends for a change made in the store. */
export function webhookBodyForChange(store: MockStore, change: StoreChange): WebhookBody {
  const event = change.event;
  if (!event) throw new Error(`a ${change.entityType} change has no webhook`);
  const ws = change.workspaceId;
  switch (change.entityType) {
    case 'timeEntry':
      return timeEntryBody(store, ws, change.entity as TimeEntry);
    case 'project':
      // A deleted project's tasks are gone from the store; the change keeps them (`related`).
      return projectBody(
        store,
        ws,
        change.entity as Project,
        change.kind === 'deleted' ? ((change.related ?? []) as Task[]) : undefined,
      );
    case 'client':
      return pick(change.entity as Client, CLIENT_KEYS);
    case 'tag':
      return pick(change.entity as Tag, TAG_KEYS);
    case 'task':
      return pick(change.entity as Task, TASK_KEYS);
    case 'userGroup':
      return pick(change.entity as object, USER_GROUP_KEYS);
    case 'user': {
      if (Array.isArray(change.entity)) return invitationBody(store, ws, event, change.entity as User[]);
      return userBody(store, ws, event, change.entity as User, change.previous as User | undefined);
    }
    default:
      return { ...(change.entity as WebhookBody) };
  }
}

/** The body of a user event for `user` (as the store has it after the change). */
function userBody(store: MockStore, ws: string, event: WebhookEventName, user: User, previous?: User): WebhookBody {
  switch (event) {
    case 'USER_EMAIL_CHANGED':
      return { ...pick(user, USER_SHORT_KEYS), oldEmail: previous?.email ?? user.email };
    case 'USER_JOINED_WORKSPACE':
    case 'USER_ACTIVATED_ON_WORKSPACE':
    case 'USER_DEACTIVATED_ON_WORKSPACE':
      return pick(user, USER_PROFILE_KEYS);
    case 'BILLABLE_RATE_UPDATED':
    case 'COST_RATE_UPDATED':
      return rateBody(store, ws, user, event);
    default:
      // USER_UPDATED, USER_DELETED_FROM_WORKSPACE
      return pick(user, USER_SHORT_KEYS);
  }
}

/** USERS_INVITED_TO_WORKSPACE / LIMITED_USERS_ADDED_TO_WORKSPACE: the inviter and who was added. */
function invitationBody(store: MockStore, ws: string, event: WebhookEventName, users: readonly User[]): WebhookBody {
  const owner = store.getUser(ws, store.principals(ws).ownerId);
  if (event === 'LIMITED_USERS_ADDED_TO_WORKSPACE') {
    return {
      workspaceId: ws,
      inviter: pick(owner, ['id', 'email', 'name', 'profilePicture']),
      invitedUserNames: users.map((u) => u.name),
    };
  }
  return {
    workspaceId: ws,
    inviter: pick(owner, USER_PROFILE_KEYS),
    invitedUserEmails: users.map((u) => u.email),
  };
}

/**
 * A realistic body for any of the 51 events without changing the store: entity events describe
 * an existing entity (a fresh one where the event creates something), the rest are synthesized.
 * Every call draws new random parts, so two calls rarely produce the same body.
 */
export function buildWebhookBody(event: WebhookEventName, ctx: WebhookBuildContext): WebhookBody {
  const { store, workspaceId: ws, rng } = ctx;
  const now = (ctx.now ?? Date.now)();
  const users = store.listUsers(ws, {
    status: 'ALL',
    accountStatuses: ['ACTIVE', 'PENDING_EMAIL_VERIFICATION', 'NOT_REGISTERED', 'LIMITED'],
    memberships: 'WORKSPACE',
  });
  const members = users.filter((u) =>
    u.memberships.some((m) => m.membershipStatus === 'ACTIVE' || m.membershipStatus === 'INACTIVE'),
  );
  const member = rng.pick(members.length > 0 ? members : users);
  const projects = store.listProjects(ws);
  const project = projects.length > 0 ? rng.pick(projects) : undefined;
  const newId = () => objectId(rng, now);

  switch (event) {
    case 'NEW_TIME_ENTRY':
    case 'TIME_ENTRY_UPDATED':
    case 'TIME_ENTRY_DELETED':
    case 'TIME_ENTRY_RESTORED':
    case 'TIME_ENTRY_SPLIT':
    case 'TIMER_STOPPED':
    case 'NEW_TIMER_STARTED': {
      const running = event === 'NEW_TIMER_STARTED';
      const existing =
        event === 'NEW_TIME_ENTRY' || running ? undefined : store.randomTimeEntry(ws, rng, { running: false });
      if (existing) {
        // An edit of a real entry; the description varies so repeated calls differ.
        const body = timeEntryBody(store, ws, existing);
        return event === 'TIME_ENTRY_UPDATED'
          ? { ...body, description: `${existing.description} (${rng.hex(4)})`.trim() }
          : body;
      }
      const startMs = running ? now - rng.int(0, 30) * 1000 : now - rng.int(30, 60 * 24 * 7) * 60_000;
      const durationS = rng.int(5, 240) * 60;
      const tags = store.listTags(ws, { archived: false });
      const tasks = project ? store.listTasks(ws, project.id, { isActive: true }) : [];
      const task = tasks.length > 0 && rng.chance(0.6) ? rng.pick(tasks) : undefined;
      const entry: TimeEntry = {
        id: newId(),
        description: rng.pick([
          'Sprint planning',
          'Client call',
          'Code review',
          'Writing specs',
          'Bug triage',
          'Design review',
        ]),
        tagIds: tags.length > 0 && rng.chance(0.5) ? [rng.pick(tags).id] : [],
        userId: member.id,
        billable: project?.billable ?? false,
        taskId: task?.id ?? null,
        projectId: project?.id ?? null,
        workspaceId: ws,
        timeInterval: {
          start: isoInstant(startMs),
          end: running ? null : isoInstant(startMs + durationS * 1000),
          duration: running ? null : isoDuration(durationS),
        },
        customFieldValues: [],
        type: 'REGULAR',
        kioskId: null,
        hourlyRate: project?.hourlyRate ?? null,
        costRate: null,
        isLocked: false,
      };
      return timeEntryBody(store, ws, entry);
    }
    case 'NEW_PROJECT':
    case 'PROJECT_UPDATED':
    case 'PROJECT_DELETED': {
      if (!project || event === 'NEW_PROJECT') {
        const fresh: Project = {
          id: newId(),
          name: `New project ${rng.int(100, 999)}`,
          hourlyRate: null,
          costRate: null,
          clientId: '',
          clientName: '',
          workspaceId: ws,
          billable: true,
          memberships: [],
          color: '#03A9F4',
          estimate: { estimate: 'PT0S', type: 'AUTO' },
          archived: false,
          duration: 'PT0S',
          note: '',
          template: false,
          public: true,
          budgetEstimate: null,
          timeEstimate: { estimate: 'PT0S', type: 'AUTO', resetOption: null, active: false, includeNonBillable: true },
        };
        return projectBody(store, ws, fresh, []);
      }
      const body = projectBody(store, ws, project);
      return event === 'PROJECT_UPDATED' ? { ...body, note: `Updated ${rng.hex(6)}` } : body;
    }
    case 'NEW_CLIENT':
    case 'CLIENT_UPDATED':
    case 'CLIENT_DELETED': {
      const clients = store.listClients(ws);
      if (clients.length === 0 || event === 'NEW_CLIENT') {
        return { id: newId(), name: `Client ${rng.hex(4)}`, workspaceId: ws, archived: false };
      }
      const client = pick(rng.pick(clients), CLIENT_KEYS);
      // The documented client body has no note to vary: an update renames.
      return event === 'CLIENT_UPDATED' ? { ...client, name: `${String(client.name)} ${rng.hex(3)}` } : client;
    }
    case 'NEW_TAG':
    case 'TAG_UPDATED':
    case 'TAG_DELETED': {
      const tags = store.listTags(ws);
      if (tags.length === 0 || event === 'NEW_TAG')
        return { id: newId(), name: `tag-${rng.hex(6)}`, workspaceId: ws, archived: false };
      const tag = rng.pick(tags);
      return pick({ ...tag, name: event === 'TAG_UPDATED' ? `${tag.name}-${rng.hex(4)}` : tag.name }, TAG_KEYS);
    }
    case 'NEW_TASK':
    case 'TASK_UPDATED':
    case 'TASK_DELETED': {
      const tasks = project ? store.listTasks(ws, project.id) : [];
      if (tasks.length === 0 || event === 'NEW_TASK') {
        return {
          id: newId(),
          name: `Task ${rng.hex(4)}`,
          projectId: project?.id ?? newId(),
          assigneeIds: [],
          assigneeId: null,
          userGroupIds: [],
          estimate: 'PT0S',
          status: 'ACTIVE',
          duration: 'PT0S',
        };
      }
      const task = rng.pick(tasks);
      return pick({ ...task, name: event === 'TASK_UPDATED' ? `${task.name} (${rng.hex(4)})` : task.name }, TASK_KEYS);
    }
    case 'USER_GROUP_CREATED':
    case 'USER_GROUP_UPDATED':
    case 'USER_GROUP_DELETED': {
      const groups = store.listUserGroups(ws);
      if (groups.length === 0 || event === 'USER_GROUP_CREATED') {
        return { id: newId(), name: `Group ${rng.hex(4)}`, workspaceId: ws, userIds: [member.id], teamManagers: [] };
      }
      const group = rng.pick(groups);
      return pick(
        { ...group, name: event === 'USER_GROUP_UPDATED' ? `${group.name} ${rng.hex(3)}` : group.name },
        USER_GROUP_KEYS,
      );
    }
    case 'USER_UPDATED':
      return { ...pick(member, USER_SHORT_KEYS), name: `${member.name.replace(/ ~[0-9a-f]{4}$/, '')} ~${rng.hex(4)}` };
    case 'USER_JOINED_WORKSPACE':
    case 'USER_ACTIVATED_ON_WORKSPACE':
    case 'USER_DEACTIVATED_ON_WORKSPACE':
      return pick(
        {
          ...member,
          settings: { ...member.settings, myStartOfDay: `0${rng.int(7, 9)}:${rng.pick(['00', '15', '30', '45'])}` },
        },
        USER_PROFILE_KEYS,
      );
    case 'USER_DELETED_FROM_WORKSPACE':
      return pick(member, USER_SHORT_KEYS);
    case 'USER_EMAIL_CHANGED': {
      const [local, domain] = member.email.split('@');
      return { ...pick(member, USER_SHORT_KEYS), email: `${local}.${rng.hex(4)}@${domain}`, oldEmail: member.email };
    }
    case 'USERS_INVITED_TO_WORKSPACE':
    case 'LIMITED_USERS_ADDED_TO_WORKSPACE': {
      const limited = event === 'LIMITED_USERS_ADDED_TO_WORKSPACE';
      const n = rng.int(1, 3);
      const invited: User[] = [];
      for (let i = 0; i < n; i++) {
        invited.push({
          ...member,
          id: newId(),
          email: limited ? `limited.${rng.hex(6)}@limited.invalid` : `invitee.${rng.hex(6)}@example.com`,
          name: limited ? `Limited ${rng.hex(3)}` : '',
        });
      }
      return invitationBody(store, ws, event, invited);
    }
    case 'BILLABLE_RATE_UPDATED':
    case 'COST_RATE_UPDATED':
      return rateBody(store, ws, member, event, rng.int(20, 200) * 100, now);
    case 'EXPENSE_CREATED':
    case 'EXPENSE_UPDATED':
    case 'EXPENSE_DELETED':
    case 'EXPENSE_RESTORED': {
      const quantity = rng.int(1, 20);
      const unit = rng.int(5, 120);
      const id = newId();
      const categoryId = objectId(rng, now - 90 * DAY_MS);
      if (event === 'EXPENSE_UPDATED' || event === 'EXPENSE_DELETED') {
        // Clockify names the expense `expenseId` here, not `id`, and sends nothing else of it.
        return { workspaceId: ws, userId: member.id, projectId: project?.id ?? null, expenseId: id, categoryId };
      }
      const expense: WebhookBody = {
        id,
        workspaceId: ws,
        userId: member.id,
        date: isoInstant(Math.floor((now - rng.int(0, 20) * DAY_MS) / DAY_MS) * DAY_MS),
        projectId: project?.id ?? null,
        categoryId,
        notes: rng.pick(['Taxi', 'Hotel', 'Team lunch', 'Software licence', 'Train ticket', '']),
        quantity,
        billable: project?.billable ?? false,
        fileId: '',
        total: quantity * unit * 100,
      };
      // EXPENSE_CREATED has `taskId`; the EXPENSE_RESTORED sample has `locked` instead.
      return event === 'EXPENSE_CREATED' ? { ...expense, taskId: null } : { ...expense, locked: false };
    }
    case 'NEW_INVOICE':
    case 'INVOICE_UPDATED': {
      const clients = store.listClients(ws);
      const client = clients.length > 0 ? rng.pick(clients) : undefined;
      const quantity = rng.int(1, 40);
      const unitPrice = rng.int(50, 200) * 100;
      const subtotal = quantity * unitPrice;
      const tax = rng.pick([0, 10, 20]);
      const taxAmount = Math.round((subtotal * tax) / 100);
      const status = event === 'NEW_INVOICE' ? 'UNSENT' : rng.pick(['SENT', 'PAID', 'PARTIALLY_PAID']);
      return {
        id: newId(),
        number: String(rng.int(1000, 9999)),
        status,
        issuedDate: isoInstant(Math.floor(now / DAY_MS) * DAY_MS - DAY_MS),
        dueDate: isoInstant(Math.floor(now / DAY_MS) * DAY_MS + 30 * DAY_MS),
        subtotal,
        discount: 0,
        tax,
        tax2: 0,
        discountAmount: 0,
        taxAmount,
        tax2Amount: 0,
        amount: subtotal + taxAmount,
        currency: 'USD',
        subject: `Services ${rng.hex(4)}`,
        note: '',
        clientId: client?.id ?? null,
        clientName: client?.name ?? null,
        clientAddress: client?.address ?? null,
        userId: store.principals(ws).ownerId,
        items: [
          {
            order: 1,
            quantity,
            description: project ? `Work on ${project.name}` : 'Consulting',
            unitPrice,
            amount: subtotal,
            itemType: null,
            timeEntryIds: [],
          },
        ],
      };
    }
    case 'NEW_APPROVAL_REQUEST':
    case 'APPROVAL_REQUEST_STATUS_UPDATED': {
      const weekStart = Math.floor((now - 7 * DAY_MS) / DAY_MS) * DAY_MS;
      const approver = users.find((u) => u.id === store.principals(ws).ownerId) ?? member;
      const state =
        event === 'NEW_APPROVAL_REQUEST' ? 'PENDING' : rng.pick(['APPROVED', 'REJECTED', 'WITHDRAWN_SUBMISSION']);
      return {
        id: newId(),
        workspaceId: ws,
        dateRange: { start: isoInstant(weekStart), end: isoInstant(weekStart + 7 * DAY_MS - 1000) },
        owner: {
          userId: member.id,
          userName: member.name,
          // Lower-case z in this body (the user settings spell it `timeZone`).
          timezone: String(member.settings.timeZone ?? 'UTC'),
          startOfWeek: 'MONDAY',
        },
        status: {
          state,
          updatedBy: state === 'PENDING' ? member.id : approver.id,
          updatedByUserName: state === 'PENDING' ? member.name : approver.name,
          updatedAt: isoInstant(now),
          note: state === 'REJECTED' ? 'Please add descriptions' : '',
        },
      };
    }
    case 'TIME_OFF_REQUESTED':
    case 'TIME_OFF_REQUEST_APPROVED':
    case 'TIME_OFF_REQUEST_REJECTED':
    case 'TIME_OFF_REQUEST_STARTED':
    case 'TIME_OFF_REQUEST_UPDATED':
    case 'TIME_OFF_REQUEST_WITHDRAWN': {
      const statusType =
        event === 'TIME_OFF_REQUEST_APPROVED' || event === 'TIME_OFF_REQUEST_STARTED'
          ? 'APPROVED'
          : event === 'TIME_OFF_REQUEST_REJECTED'
            ? 'REJECTED'
            : event === 'TIME_OFF_REQUEST_WITHDRAWN'
              ? 'WITHDRAWN'
              : 'PENDING';
      const decided = statusType !== 'PENDING';
      const approver = users.find((u) => u.id === store.principals(ws).ownerId) ?? member;
      const changer = statusType === 'WITHDRAWN' ? member : approver;
      const startDay =
        Math.floor(now / DAY_MS) * DAY_MS + (event === 'TIME_OFF_REQUEST_STARTED' ? 0 : rng.int(3, 40) * DAY_MS);
      const days = rng.int(1, 5);
      return {
        id: newId(),
        userId: member.id,
        workspaceId: ws,
        policyId: objectId(rng, now - 200 * DAY_MS),
        timeZone: String(member.settings.timeZone ?? 'UTC'),
        halfDay: false,
        timeOffPeriod: { period: { start: isoInstant(startDay), end: isoInstant(startDay + days * DAY_MS - 1) } },
        note: rng.pick(['Family trip', 'Doctor appointment', null, 'Moving house']),
        status: {
          statusType,
          changedByUserId: decided ? changer.id : null,
          changedByUserName: decided ? changer.name : null,
          changedAt: decided ? isoInstant(now) : null,
          note: statusType === 'REJECTED' ? 'Not this week' : null,
        },
        balanceDiff: days,
        createdAt: isoInstant(now - rng.int(1, 10) * DAY_MS),
        requesterUserId: member.id,
        excludeDays: [],
        negativeBalanceUsed: 0,
        balanceValueAtRequest: rng.int(5, 25),
      };
    }
    case 'ASSIGNMENT_CREATED':
    case 'ASSIGNMENT_UPDATED':
    case 'ASSIGNMENT_DELETED':
    case 'ASSIGNMENT_PUBLISHED':
      return { workspaceId: ws, userId: member.id, projectId: project?.id ?? null, assignmentId: newId() };
    case 'BALANCE_UPDATED':
      return {
        workspaceId: ws,
        userId: member.id,
        // A string in Clockify's body, though it holds a number.
        value: String(rng.int(-5, 10)),
        note: rng.pick(['Carry-over from last year', 'Correction', 'Extra day for overtime']),
        updatedBy: store.principals(ws).ownerId,
      };
  }
  return assertNever(event);
}

/**
 * BILLABLE_RATE_UPDATED / COST_RATE_UPDATED: the membership whose rate changed, with both of its
 * rates as `{amount}`, the workspace currency and the new amount. The store's rates are
 * workspace rates, so the membership is the WORKSPACE one.
 */
function rateBody(
  store: MockStore,
  workspaceId: string,
  user: User,
  event: 'BILLABLE_RATE_UPDATED' | 'COST_RATE_UPDATED',
  amount?: number,
  now: number = Date.now(),
): WebhookBody {
  const membership = user.memberships.find((m) => m.membershipType === 'WORKSPACE');
  const field = event === 'BILLABLE_RATE_UPDATED' ? 'hourlyRate' : 'costRate';
  const rates = {
    hourlyRate: { amount: membership?.hourlyRate?.amount ?? 0 },
    costRate: { amount: membership?.costRate?.amount ?? 0 },
  };
  if (amount !== undefined) rates[field] = { amount };
  const currency = store.getWorkspace(workspaceId).currencies.find((c) => c.isDefault);
  return {
    workspaceId,
    // Guess: the sample shows PROJECT_MEMBER for a project rate; this is a workspace rate.
    rateChangeSource: 'WORKSPACE_MEMBER',
    modifiedEntity: {
      userId: user.id,
      ...rates,
      targetId: workspaceId,
      membershipType: 'WORKSPACE',
      membershipStatus: membership?.membershipStatus ?? 'ACTIVE',
    },
    currency: { id: currency?.id ?? '', code: currency?.code ?? 'USD' },
    amount: rates[field].amount,
    since: isoInstant(Math.floor(now / DAY_MS) * DAY_MS),
  };
}

function assertNever(x: never): never {
  throw new Error(`unknown webhook event ${String(x)}`);
}
