import type { WebhookEventName } from '@cap/clockify';
import { change, copy, type StoreChange } from './changes.js';
import { CURRENCY, workspaceMembership, type WorkspaceData } from './generate.js';
import { sortBy, type SortOrder } from './query.js';
import type { AccountStatus, Membership, MembershipStatus, Rate, User, UserRecord, WorkspaceRole } from './types.js';
import { requireName, StoreError } from './validation.js';
import type { Workspaces } from './workspaces.js';

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

export interface UserPatch {
  name?: string;
  settings?: Record<string, unknown>;
  profilePicture?: string;
}

const DEFAULT_ACCOUNT_STATUSES: readonly AccountStatus[] = ['ACTIVE', 'PENDING_EMAIL_VERIFICATION', 'NOT_REGISTERED'];

export function requireUser(ws: WorkspaceData, userId: string): UserRecord {
  const rec = ws.users.get(userId);
  if (!rec) throw new StoreError(404, `User with id ${userId} doesn't exist in this workspace`);
  return rec;
}

/** Workspace members: queries, profile and email, membership status, rates, invitations. */
export class Users {
  constructor(private readonly workspaces: Workspaces) {}

  list(workspaceId: string, q: UserQuery = {}): User[] {
    const ws = this.workspaces.get(workspaceId);
    const accountStatuses =
      q.accountStatuses && q.accountStatuses.length > 0 ? q.accountStatuses : DEFAULT_ACCOUNT_STATUSES;
    const projectMembers = q.projectId
      ? new Set(ws.projects.get(q.projectId)?.memberships.map((m) => m.userId) ?? [])
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
    return list.map((u) => this.dto(ws, u, q.memberships ?? 'NONE'));
  }

  get(workspaceId: string, userId: string, memberships: MembershipsParam = 'WORKSPACE'): User {
    const ws = this.workspaces.get(workspaceId);
    return this.dto(ws, requireUser(ws, userId), memberships);
  }

  /** A user's workspace membership status (PENDING, ACTIVE, DECLINED, INACTIVE). */
  membershipStatus(workspaceId: string, userId: string): MembershipStatus {
    return requireUser(this.workspaces.get(workspaceId), userId).membershipStatus;
  }

  /** The user's role in the workspace (OWNER, WORKSPACE_ADMIN, …), as user tokens carry it. */
  role(workspaceId: string, userId: string): WorkspaceRole {
    return requireUser(this.workspaces.get(workspaceId), userId).role;
  }

  update(workspaceId: string, userId: string, patch: UserPatch): StoreChange<User> {
    const ws = this.workspaces.get(workspaceId);
    const rec = requireUser(ws, userId);
    const previous = this.dto(ws, rec, 'WORKSPACE');
    if (patch.name !== undefined) rec.user.name = requireName(patch.name, 'user');
    if (patch.settings !== undefined) rec.user.settings = { ...rec.user.settings, ...patch.settings };
    if (patch.profilePicture !== undefined) rec.user.profilePicture = patch.profilePicture;
    return userChange(workspaceId, 'USER_UPDATED', 'updated', this.dto(ws, rec, 'WORKSPACE'), previous);
  }

  changeEmail(workspaceId: string, userId: string, email: string): StoreChange<User> {
    const ws = this.workspaces.get(workspaceId);
    const rec = requireUser(ws, userId);
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new StoreError(400, `'${email}' is not an email address`);
    if ([...ws.users.values()].some((u) => u.user.email === email && u !== rec))
      throw new StoreError(400, `Email '${email}' is already in use`);
    const previous = this.dto(ws, rec, 'WORKSPACE');
    rec.user.email = email;
    return userChange(workspaceId, 'USER_EMAIL_CHANGED', 'updated', this.dto(ws, rec, 'WORKSPACE'), previous);
  }

  deactivate(workspaceId: string, userId: string): StoreChange<User> {
    return this.setMembership(workspaceId, userId, 'INACTIVE', 'USER_DEACTIVATED_ON_WORKSPACE', ['ACTIVE']);
  }

  activate(workspaceId: string, userId: string): StoreChange<User> {
    return this.setMembership(workspaceId, userId, 'ACTIVE', 'USER_ACTIVATED_ON_WORKSPACE', ['INACTIVE']);
  }

  /** An invited (PENDING) user accepts the invitation. */
  join(workspaceId: string, userId: string): StoreChange<User> {
    const ws = this.workspaces.get(workspaceId);
    const rec = requireUser(ws, userId);
    if (rec.user.status === 'NOT_REGISTERED' || rec.user.status === 'PENDING_EMAIL_VERIFICATION')
      rec.user.status = 'ACTIVE';
    return this.setMembership(workspaceId, userId, 'ACTIVE', 'USER_JOINED_WORKSPACE', ['PENDING']);
  }

  /** Removes a user from the workspace: their memberships go; their time entries stay. */
  remove(workspaceId: string, userId: string): StoreChange<User> {
    const ws = this.workspaces.get(workspaceId);
    const rec = requireUser(ws, userId);
    if (userId === ws.ownerId) throw new StoreError(400, 'The workspace owner cannot be removed');
    const dto = this.dto(ws, rec, 'WORKSPACE');
    ws.users.delete(userId);
    for (const g of ws.userGroups.values()) g.userIds = g.userIds.filter((u) => u !== userId);
    for (const p of ws.projects.values()) p.memberships = p.memberships.filter((m) => m.userId !== userId);
    return userChange(workspaceId, 'USER_DELETED_FROM_WORKSPACE', 'deleted', dto);
  }

  /** Invites people by email: they appear as PENDING, NOT_REGISTERED users. */
  invite(workspaceId: string, emails: readonly string[]): StoreChange<User[]> {
    return this.add(workspaceId, emails, 'PENDING', 'NOT_REGISTERED', 'USERS_INVITED_TO_WORKSPACE');
  }

  /** Adds limited users (people without a Clockify account, tracked by others). */
  addLimited(workspaceId: string, names: readonly string[]): StoreChange<User[]> {
    return this.add(workspaceId, names, 'ACTIVE', 'LIMITED', 'LIMITED_USERS_ADDED_TO_WORKSPACE');
  }

  /** Sets a member's billable (hourly) rate: BILLABLE_RATE_UPDATED. */
  setHourlyRate(workspaceId: string, userId: string, amount: number): StoreChange<User> {
    return this.setRate(workspaceId, userId, amount, 'hourlyRate', 'BILLABLE_RATE_UPDATED');
  }

  /** Sets a member's cost rate: COST_RATE_UPDATED. */
  setCostRate(workspaceId: string, userId: string, amount: number): StoreChange<User> {
    return this.setRate(workspaceId, userId, amount, 'costRate', 'COST_RATE_UPDATED');
  }

  private add(
    workspaceId: string,
    labels: readonly string[],
    membershipStatus: MembershipStatus,
    status: AccountStatus,
    event: WebhookEventName,
  ): StoreChange<User[]> {
    const ws = this.workspaces.get(workspaceId);
    if (labels.length === 0) throw new StoreError(400, 'At least one user is required');
    const added: User[] = [];
    for (const label of labels) {
      const isEmail = label.includes('@');
      const email = isEmail ? label : `${label.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@limited.invalid`;
      if ([...ws.users.values()].some((u) => u.user.email === email))
        throw new StoreError(400, `User with email '${email}' is already in the workspace`);
      const id = this.workspaces.newId(ws);
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
      added.push(this.dto(ws, rec, 'WORKSPACE'));
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
    const ws = this.workspaces.get(workspaceId);
    const rec = requireUser(ws, userId);
    if (!from.includes(rec.membershipStatus)) {
      throw new StoreError(400, `User ${userId} is ${rec.membershipStatus}; expected ${from.join(' or ')}`);
    }
    if (userId === ws.ownerId && to === 'INACTIVE')
      throw new StoreError(400, 'The workspace owner cannot be deactivated');
    const previous = this.dto(ws, rec, 'WORKSPACE');
    rec.membershipStatus = to;
    return userChange(workspaceId, event, 'updated', this.dto(ws, rec, 'WORKSPACE'), previous);
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
    const ws = this.workspaces.get(workspaceId);
    const rec = requireUser(ws, userId);
    const previous = this.dto(ws, rec, 'WORKSPACE');
    rec[field] = { amount, currency: CURRENCY } satisfies Rate;
    return userChange(workspaceId, event, 'updated', this.dto(ws, rec, 'WORKSPACE'), previous);
  }

  private dto(ws: WorkspaceData, rec: UserRecord, memberships: MembershipsParam): User {
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
