import type { WebhookEventName } from '@cap/clockify';
import type { Rng } from '../random.js';
import { isoInstant } from '../store/format.js';
import { StoreError, type MockStore, type StoreChange } from '../store/store.js';
import type { MembershipStatus, User } from '../store/types.js';

const ALL_ACCOUNTS = ['ACTIVE', 'PENDING_EMAIL_VERIFICATION', 'NOT_REGISTERED', 'LIMITED'];

/** Events the store can produce by a real change (the rest are synthesized bodies). */
export const MUTABLE_EVENTS: ReadonlySet<WebhookEventName> = new Set<WebhookEventName>([
  'NEW_TAG',
  'TAG_UPDATED',
  'TAG_DELETED',
  'NEW_CLIENT',
  'CLIENT_UPDATED',
  'CLIENT_DELETED',
  'NEW_PROJECT',
  'PROJECT_UPDATED',
  'PROJECT_DELETED',
  'NEW_TASK',
  'TASK_UPDATED',
  'TASK_DELETED',
  'NEW_TIME_ENTRY',
  'NEW_TIMER_STARTED',
  'TIMER_STOPPED',
  'TIME_ENTRY_UPDATED',
  'TIME_ENTRY_DELETED',
  'TIME_ENTRY_RESTORED',
  'TIME_ENTRY_SPLIT',
  'USER_GROUP_CREATED',
  'USER_GROUP_UPDATED',
  'USER_GROUP_DELETED',
  'USER_UPDATED',
  'USER_EMAIL_CHANGED',
  'USER_ACTIVATED_ON_WORKSPACE',
  'USER_DEACTIVATED_ON_WORKSPACE',
  'USER_JOINED_WORKSPACE',
  'USER_DELETED_FROM_WORKSPACE',
  'USERS_INVITED_TO_WORKSPACE',
  'LIMITED_USERS_ADDED_TO_WORKSPACE',
  'BILLABLE_RATE_UPDATED',
  'COST_RATE_UPDATED',
]);

/**
 * Makes a plausible change in the store that Clockify would announce with `event`: a new tag for
 * NEW_TAG, a renamed one for TAG_UPDATED, a stopped timer for TIMER_STOPPED, and so on. Returns
 * undefined when the store cannot (the event is not modelled, or nothing is left to change,
 * e.g. TIMER_STOPPED with no timer running); callers then fall back to a synthesized body.
 */
export function randomChange(
  store: MockStore,
  workspaceId: string,
  event: WebhookEventName,
  rng: Rng,
  nowMs: number = Date.now(),
): StoreChange | undefined {
  if (!MUTABLE_EVENTS.has(event)) return undefined;
  try {
    return makeChange(store, workspaceId, event, rng, nowMs);
  } catch (err) {
    if (err instanceof StoreError) return undefined;
    throw err;
  }
}

function makeChange(
  store: MockStore,
  ws: string,
  event: WebhookEventName,
  rng: Rng,
  nowMs: number,
): StoreChange | undefined {
  const suffix = rng.hex(6);
  const pickOr = <T>(items: readonly T[]): T | undefined => (items.length > 0 ? rng.pick(items) : undefined);
  const users = () => store.listUsers(ws, { status: 'ALL', accountStatuses: ALL_ACCOUNTS, memberships: 'WORKSPACE' });
  const withStatus = (status: MembershipStatus): User[] =>
    users().filter((u) => u.memberships[0]?.membershipStatus === status);
  const owner = store.principals(ws).ownerId;

  switch (event) {
    case 'NEW_TAG':
      return store.createTag(ws, { name: `tag-${suffix}` });
    case 'TAG_UPDATED': {
      const tag = pickOr(store.listTags(ws));
      return tag && store.updateTag(ws, tag.id, { name: `${tag.name.replace(/~[0-9a-f]{6}$/, '')}~${suffix}` });
    }
    case 'TAG_DELETED': {
      const tag = pickOr(store.listTags(ws));
      return tag && store.deleteTag(ws, tag.id);
    }
    case 'NEW_CLIENT':
      return store.createClient(ws, { name: `Client ${suffix}`, email: `billing-${suffix}@example.com` });
    case 'CLIENT_UPDATED': {
      const client = pickOr(store.listClients(ws));
      return client && store.updateClient(ws, client.id, { note: `Reviewed ${suffix}` });
    }
    case 'CLIENT_DELETED': {
      const client = pickOr(store.listClients(ws));
      return client && store.deleteClient(ws, client.id);
    }
    case 'NEW_PROJECT':
      return store.createProject(ws, { name: `Project ${suffix}`, memberIds: [owner] });
    case 'PROJECT_UPDATED': {
      const project = pickOr(store.listProjects(ws));
      return project && store.updateProject(ws, project.id, { note: `Status ${suffix}` });
    }
    case 'PROJECT_DELETED': {
      const project = pickOr(store.listProjects(ws));
      return project && store.deleteProject(ws, project.id);
    }
    case 'NEW_TASK': {
      const project = pickOr(store.listProjects(ws, { archived: false }));
      return project && store.createTask(ws, project.id, { name: `Task ${suffix}` });
    }
    case 'TASK_UPDATED':
    case 'TASK_DELETED': {
      const projects = store.listProjects(ws).filter((p) => store.listTasks(ws, p.id).length > 0);
      const project = pickOr(projects);
      const task = project && pickOr(store.listTasks(ws, project.id));
      if (!project || !task) return undefined;
      return event === 'TASK_UPDATED'
        ? store.updateTask(ws, project.id, task.id, { name: `${task.name.replace(/ ~[0-9a-f]{6}$/, '')} ~${suffix}` })
        : store.deleteTask(ws, project.id, task.id);
    }
    case 'NEW_TIME_ENTRY': {
      const user = pickOr(withStatus('ACTIVE'));
      if (!user) return undefined;
      const start = nowMs - rng.int(60, 60 * 24 * 3) * 60_000;
      const project = pickOr(store.listProjects(ws, { archived: false }));
      return store.createTimeEntry(ws, {
        userId: user.id,
        start: isoInstant(start),
        end: isoInstant(start + rng.int(5, 120) * 60_000),
        description: `Manual entry ${suffix}`,
        ...(project ? { projectId: project.id } : {}),
      });
    }
    case 'NEW_TIMER_STARTED': {
      const idle = withStatus('ACTIVE').filter((u) => !store.runningTimer(ws, u.id));
      const user = pickOr(idle);
      if (!user) return undefined;
      const project = pickOr(store.listProjects(ws, { archived: false }));
      return store.startTimer(ws, {
        userId: user.id,
        start: isoInstant(nowMs),
        description: `Timer ${suffix}`,
        ...(project ? { projectId: project.id } : {}),
      });
    }
    case 'TIMER_STOPPED': {
      const running = store.listInProgress(ws);
      const entry = pickOr(running);
      if (!entry) return undefined;
      const end = Math.max(nowMs, Date.parse(entry.timeInterval.start) + 1000);
      return store.stopTimer(ws, entry.userId, isoInstant(end));
    }
    case 'TIME_ENTRY_UPDATED': {
      const entry = store.randomTimeEntry(ws, rng, { running: false });
      return (
        entry &&
        store.updateTimeEntry(ws, entry.id, {
          description: `${entry.description.replace(/ ~[0-9a-f]{6}$/, '')} ~${suffix}`.trim(),
        })
      );
    }
    case 'TIME_ENTRY_DELETED': {
      const entry = store.randomTimeEntry(ws, rng, { running: false });
      return entry && store.deleteTimeEntry(ws, entry.id);
    }
    case 'TIME_ENTRY_RESTORED': {
      const id = pickOr(store.deletedTimeEntryIds(ws));
      return id === undefined ? undefined : store.restoreTimeEntry(ws, id);
    }
    case 'TIME_ENTRY_SPLIT': {
      const entry = store.randomTimeEntry(ws, rng, { running: false });
      if (!entry || entry.timeInterval.end === null) return undefined;
      const start = Date.parse(entry.timeInterval.start);
      const end = Date.parse(entry.timeInterval.end);
      if (end - start < 2000) return undefined;
      return store.splitTimeEntry(ws, entry.id, isoInstant(start + Math.floor((end - start) / 2000) * 1000));
    }
    case 'USER_GROUP_CREATED':
      return store.createUserGroup(ws, { name: `Group ${suffix}`, userIds: [owner] });
    case 'USER_GROUP_UPDATED': {
      const group = pickOr(store.listUserGroups(ws));
      return (
        group && store.updateUserGroup(ws, group.id, { name: `${group.name.replace(/ ~[0-9a-f]{6}$/, '')} ~${suffix}` })
      );
    }
    case 'USER_GROUP_DELETED': {
      const group = pickOr(store.listUserGroups(ws));
      return group && store.deleteUserGroup(ws, group.id);
    }
    case 'USER_UPDATED': {
      const user = pickOr(withStatus('ACTIVE'));
      return (
        user &&
        store.updateUser(ws, user.id, {
          settings: { myStartOfDay: `0${rng.int(6, 9)}:${rng.pick(['00', '15', '30', '45'])}`, note: suffix },
        })
      );
    }
    case 'USER_EMAIL_CHANGED': {
      const user = pickOr(withStatus('ACTIVE'));
      if (!user) return undefined;
      const [local, domain] = user.email.split('@');
      return store.changeUserEmail(
        ws,
        user.id,
        `${(local ?? 'user').replace(/\+[0-9a-f]{6}$/, '')}+${suffix}@${domain ?? 'example.com'}`,
      );
    }
    case 'USER_DEACTIVATED_ON_WORKSPACE': {
      const user = pickOr(withStatus('ACTIVE').filter((u) => u.id !== owner));
      return user && store.deactivateUser(ws, user.id);
    }
    case 'USER_ACTIVATED_ON_WORKSPACE': {
      const user = pickOr(withStatus('INACTIVE'));
      return user && store.activateUser(ws, user.id);
    }
    case 'USER_JOINED_WORKSPACE': {
      const user = pickOr(withStatus('PENDING'));
      return user && store.joinWorkspace(ws, user.id);
    }
    case 'USER_DELETED_FROM_WORKSPACE': {
      const candidates = users().filter((u) => u.id !== owner);
      // Keep a few people around so a long burst does not empty the workspace.
      if (candidates.length < 3) return undefined;
      return store.removeUser(ws, rng.pick(candidates).id);
    }
    case 'USERS_INVITED_TO_WORKSPACE':
      return store.inviteUsers(ws, [`invitee.${suffix}@example.com`]);
    case 'LIMITED_USERS_ADDED_TO_WORKSPACE':
      return store.addLimitedUsers(ws, [`Limited ${suffix}`]);
    case 'BILLABLE_RATE_UPDATED':
    case 'COST_RATE_UPDATED': {
      const user = pickOr(withStatus('ACTIVE'));
      if (!user) return undefined;
      const amount = rng.int(20, 250) * 100;
      return event === 'BILLABLE_RATE_UPDATED'
        ? store.setUserHourlyRate(ws, user.id, amount)
        : store.setUserCostRate(ws, user.id, amount);
    }
    default:
      return undefined;
  }
}
