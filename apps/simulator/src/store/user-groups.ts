import { change, copy, type StoreChange } from './changes.js';
import type { WorkspaceData } from './generate.js';
import { matchesName, sortNamed, type NamedQuery } from './query.js';
import type { UserGroup } from './types.js';
import { requireUser } from './users.js';
import { requireName, StoreError } from './validation.js';
import type { Workspaces } from './workspaces.js';

function requireUserGroup(ws: WorkspaceData, id: string): UserGroup {
  const g = ws.userGroups.get(id);
  if (!g) throw new StoreError(404, `User group with id ${id} doesn't exist`);
  return g;
}

export interface UserGroupInput {
  name: string;
  userIds?: readonly string[];
}

export type UserGroupPatch = Partial<UserGroupInput>;

export class UserGroups {
  constructor(private readonly workspaces: Workspaces) {}

  list(workspaceId: string, q: NamedQuery & { projectId?: string } = {}): UserGroup[] {
    const ws = this.workspaces.get(workspaceId);
    const list = [...ws.userGroups.values()].filter(
      (g) => matchesName(g.name, q) && (q.projectId === undefined || groupOnProject(ws, g, q.projectId)),
    );
    sortNamed(list, q);
    return list.map(copy);
  }

  create(workspaceId: string, input: UserGroupInput): StoreChange<UserGroup> {
    const ws = this.workspaces.get(workspaceId);
    const name = requireName(input.name, 'user group');
    if ([...ws.userGroups.values()].some((g) => g.name === name))
      throw new StoreError(400, `User group with name '${name}' already exists`);
    for (const u of input.userIds ?? []) requireUser(ws, u);
    const group: UserGroup = {
      id: this.workspaces.newId(ws),
      name,
      workspaceId,
      userIds: [...(input.userIds ?? [])],
      teamManagers: [],
    };
    ws.userGroups.set(group.id, group);
    return change(workspaceId, 'USER_GROUP_CREATED', 'userGroup', 'created', group);
  }

  update(workspaceId: string, groupId: string, patch: UserGroupPatch): StoreChange<UserGroup> {
    const ws = this.workspaces.get(workspaceId);
    const group = requireUserGroup(ws, groupId);
    const previous = copy(group);
    if (patch.name !== undefined) group.name = requireName(patch.name, 'user group');
    if (patch.userIds !== undefined) {
      for (const u of patch.userIds) requireUser(ws, u);
      group.userIds = [...patch.userIds];
    }
    return change(workspaceId, 'USER_GROUP_UPDATED', 'userGroup', 'updated', group, previous);
  }

  delete(workspaceId: string, groupId: string): StoreChange<UserGroup> {
    const ws = this.workspaces.get(workspaceId);
    const group = requireUserGroup(ws, groupId);
    ws.userGroups.delete(groupId);
    return change(workspaceId, 'USER_GROUP_DELETED', 'userGroup', 'deleted', group);
  }
}

function groupOnProject(ws: WorkspaceData, g: UserGroup, projectId: string): boolean {
  const project = ws.projects.get(projectId);
  if (!project) return false;
  const members = new Set(project.memberships.map((m) => m.userId));
  return g.userIds.some((u) => members.has(u));
}
