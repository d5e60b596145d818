import type { WebhookEventName } from '@cap/clockify';
import { objectId, type Rng } from '../random.js';
import { isoDuration, isoInstant } from '../store/format.js';
import type { MockStore, StoreChange } from '../store/store.js';
import type { TimeEntry, User } from '../store/types.js';

/**
 * Webhook bodies as Clockify sends them (REFERENCE.md §4): the affected entity itself, flat, no
 * envelope and no delivery id. Entity events use the store's entities (time entries hydrated with
 * project, task, user and tags); events about things the store does not model (expenses,
 * invoices, approvals, time off, scheduling, balances) are synthesized around real users and
 * projects, shaped after the OpenAPI DTOs of those resources.
 */

export type WebhookBody = Record<string, unknown>;

export interface WebhookBuildContext {
  readonly store: MockStore;
  readonly workspaceId: string;
  readonly rng: Rng;
  readonly now?: () => number;
}

const DAY_MS = 86_400_000;

/** The body Clockify sends for a change made in the store. */
export function webhookBodyForChange(store: MockStore, change: StoreChange): WebhookBody {
  const event = change.event;
  if (!event) throw new Error(`a ${change.entityType} change has no webhook`);
  const ws = change.workspaceId;
  switch (change.entityType) {
    case 'timeEntry':
      return { ...store.hydrate(ws, change.entity as TimeEntry) };
    case 'user': {
      if (Array.isArray(change.entity)) return usersBody(ws, change.entity as User[]);
      const user = change.entity as User;
      if (event === 'USER_DELETED_FROM_WORKSPACE') return { id: user.id, email: user.email, name: user.name };
      if (event === 'USER_EMAIL_CHANGED')
        return { ...user, oldEmail: (change.previous as User | undefined)?.email ?? user.email };
      if (event === 'BILLABLE_RATE_UPDATED' || event === 'COST_RATE_UPDATED') return rateBody(ws, user, event);
      return { ...user };
    }
    default:
      return { ...(change.entity as WebhookBody) };
  }
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
        const body = store.hydrate(ws, existing);
        return event === 'TIME_ENTRY_UPDATED'
          ? { ...body, description: `${body.description} (${rng.hex(4)})`.trim() }
          : { ...body };
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
      return { ...store.hydrate(ws, entry) };
    }
    case 'NEW_PROJECT':
    case 'PROJECT_UPDATED':
    case 'PROJECT_DELETED': {
      if (!project || event === 'NEW_PROJECT') {
        return {
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
      }
      return { ...project, note: event === 'PROJECT_UPDATED' ? `Updated ${rng.hex(6)}` : project.note };
    }
    case 'NEW_CLIENT':
    case 'CLIENT_UPDATED':
    case 'CLIENT_DELETED': {
      const clients = store.listClients(ws);
      if (clients.length === 0 || event === 'NEW_CLIENT') {
        return {
          id: newId(),
          name: `Client ${rng.hex(4)}`,
          email: null,
          workspaceId: ws,
          archived: false,
          address: null,
          note: null,
          ccEmails: [],
          currencyId: newId(),
          currencyCode: 'USD',
        };
      }
      const client = rng.pick(clients);
      return { ...client, note: event === 'CLIENT_UPDATED' ? `Updated ${rng.hex(6)}` : client.note };
    }
    case 'NEW_TAG':
    case 'TAG_UPDATED':
    case 'TAG_DELETED': {
      const tags = store.listTags(ws);
      if (tags.length === 0 || event === 'NEW_TAG')
        return { id: newId(), name: `tag-${rng.hex(6)}`, workspaceId: ws, archived: false };
      const tag = rng.pick(tags);
      return { ...tag, name: event === 'TAG_UPDATED' ? `${tag.name}-${rng.hex(4)}` : tag.name };
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
          billable: project?.billable ?? true,
          hourlyRate: null,
          costRate: null,
          budgetEstimate: 0,
        };
      }
      const task = rng.pick(tasks);
      return { ...task, name: event === 'TASK_UPDATED' ? `${task.name} (${rng.hex(4)})` : task.name };
    }
    case 'USER_GROUP_CREATED':
    case 'USER_GROUP_UPDATED':
    case 'USER_GROUP_DELETED': {
      const groups = store.listUserGroups(ws);
      if (groups.length === 0 || event === 'USER_GROUP_CREATED') {
        return { id: newId(), name: `Group ${rng.hex(4)}`, workspaceId: ws, userIds: [member.id], teamManagers: [] };
      }
      const group = rng.pick(groups);
      return { ...group, name: event === 'USER_GROUP_UPDATED' ? `${group.name} ${rng.hex(3)}` : group.name };
    }
    case 'USER_UPDATED':
    case 'USER_JOINED_WORKSPACE':
    case 'USER_ACTIVATED_ON_WORKSPACE':
    case 'USER_DEACTIVATED_ON_WORKSPACE':
      return {
        ...member,
        settings: { ...member.settings, myStartOfDay: `0${rng.int(7, 9)}:${rng.pick(['00', '15', '30', '45'])}` },
      };
    case 'USER_DELETED_FROM_WORKSPACE':
      return { id: member.id, email: member.email, name: member.name };
    case 'USER_EMAIL_CHANGED': {
      const [local, domain] = member.email.split('@');
      return { ...member, email: `${local}.${rng.hex(4)}@${domain}`, oldEmail: member.email };
    }
    case 'USERS_INVITED_TO_WORKSPACE':
    case 'LIMITED_USERS_ADDED_TO_WORKSPACE': {
      const limited = event === 'LIMITED_USERS_ADDED_TO_WORKSPACE';
      const n = rng.int(1, 3);
      const invited: User[] = [];
      for (let i = 0; i < n; i++) {
        const id = newId();
        invited.push({
          id,
          email: limited ? `limited.${rng.hex(6)}@limited.invalid` : `invitee.${rng.hex(6)}@example.com`,
          name: limited ? `Limited ${rng.hex(3)}` : '',
          memberships: [
            {
              userId: id,
              hourlyRate: null,
              costRate: null,
              targetId: ws,
              membershipType: 'WORKSPACE',
              membershipStatus: limited ? 'ACTIVE' : 'PENDING',
            },
          ],
          profilePicture: 'https://img.clockify.me/no-user-image.png',
          activeWorkspace: ws,
          defaultWorkspace: ws,
          settings: {},
          status: limited ? 'LIMITED' : 'NOT_REGISTERED',
          customFields: [],
        });
      }
      return usersBody(ws, invited);
    }
    case 'BILLABLE_RATE_UPDATED':
    case 'COST_RATE_UPDATED':
      return rateBody(ws, { ...member, memberships: member.memberships }, event, rng.int(20, 200) * 100);
    case 'EXPENSE_CREATED':
    case 'EXPENSE_UPDATED':
    case 'EXPENSE_DELETED':
    case 'EXPENSE_RESTORED': {
      const quantity = rng.int(1, 20);
      const unit = rng.int(5, 120);
      return {
        id: newId(),
        workspaceId: ws,
        userId: member.id,
        projectId: project?.id ?? null,
        taskId: null,
        categoryId: objectId(rng, now - 90 * DAY_MS),
        date: isoInstant(now - rng.int(0, 20) * DAY_MS),
        quantity,
        total: quantity * unit * 100,
        billable: project?.billable ?? false,
        notes: rng.pick(['Taxi', 'Hotel', 'Team lunch', 'Software licence', 'Train ticket']),
        fileId: null,
        locked: false,
        isLocked: false,
      };
    }
    case 'NEW_INVOICE':
    case 'INVOICE_UPDATED': {
      const clients = store.listClients(ws);
      const client = clients.length > 0 ? rng.pick(clients) : undefined;
      const amount = rng.int(500, 20_000) * 100;
      const paid = event === 'INVOICE_UPDATED' && rng.chance(0.5) ? amount : 0;
      return {
        id: newId(),
        workspaceId: ws,
        number: String(rng.int(1000, 9999)),
        clientId: client?.id ?? null,
        clientName: client?.name ?? null,
        currency: 'USD',
        amount,
        balance: amount - paid,
        paid,
        status: event === 'NEW_INVOICE' ? 'UNSENT' : paid === amount ? 'PAID' : 'SENT',
        issuedDate: isoInstant(now - DAY_MS),
        dueDate: isoInstant(now + 30 * DAY_MS),
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
          timeZone: String(member.settings.timeZone ?? 'UTC'),
          startOfWeek: 'MONDAY',
        },
        status: {
          state,
          note: state === 'REJECTED' ? 'Please add descriptions' : '',
          updatedBy: state === 'PENDING' ? member.id : approver.id,
          updatedByUserName: state === 'PENDING' ? member.name : approver.name,
          updatedAt: isoInstant(now),
        },
        creator: { userId: member.id, userName: member.name, userEmail: member.email },
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
      const startDay =
        Math.floor(now / DAY_MS) * DAY_MS + (event === 'TIME_OFF_REQUEST_STARTED' ? 0 : rng.int(3, 40) * DAY_MS);
      const days = rng.int(1, 5);
      return {
        id: newId(),
        workspaceId: ws,
        userId: member.id,
        userName: member.name,
        userEmail: member.email,
        userTimeZone: String(member.settings.timeZone ?? 'UTC'),
        requesterUserId: member.id,
        requesterUserName: member.name,
        policyId: objectId(rng, now - 200 * DAY_MS),
        policyName: rng.pick(['Vacation', 'Sick leave', 'Parental leave', 'Personal day']),
        timeUnit: 'DAYS',
        timeOffPeriod: {
          period: { start: isoInstant(startDay), end: isoInstant(startDay + days * DAY_MS - 1000) },
          halfDay: false,
          halfDayPeriod: null,
          halfDayHours: null,
        },
        balance: rng.int(5, 25),
        balanceDiff: -days,
        note: rng.pick(['Family trip', 'Doctor appointment', '', 'Moving house']),
        createdAt: isoInstant(now - rng.int(1, 10) * DAY_MS),
        status: {
          statusType,
          changedAt: isoInstant(now),
          changedByUserId: member.id,
          changedByUserName: member.name,
          changedForUserName: member.name,
          note: '',
        },
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
        value: rng.int(-5, 10),
        note: rng.pick(['Carry-over from last year', 'Correction', 'Extra day for overtime']),
        updatedBy: store.principals(ws).ownerId,
      };
  }
  return assertNever(event);
}

function usersBody(workspaceId: string, users: readonly User[]): WebhookBody {
  return { workspaceId, users: users.map((u) => ({ ...u })) };
}

function rateBody(
  workspaceId: string,
  user: User,
  event: 'BILLABLE_RATE_UPDATED' | 'COST_RATE_UPDATED',
  amount?: number,
): WebhookBody {
  const membership = user.memberships.find((m) => m.membershipType === 'WORKSPACE');
  const field = event === 'BILLABLE_RATE_UPDATED' ? 'hourlyRate' : 'costRate';
  const rate = amount !== undefined ? { amount, currency: 'USD' } : (membership?.[field] ?? null);
  return {
    workspaceId,
    userId: user.id,
    userName: user.name,
    targetId: workspaceId,
    membershipType: 'WORKSPACE',
    [field]: rate,
  };
}

function assertNever(x: never): never {
  throw new Error(`unknown webhook event ${String(x)}`);
}
