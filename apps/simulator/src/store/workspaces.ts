import { objectId } from '../random.js';
import { change, copy, type StoreChange } from './changes.js';
import { workspaceMembership, type WorkspaceData } from './generate.js';
import type { Workspace } from './types.js';
import { requireName, StoreError } from './validation.js';

/**
 * The store's workspaces and its clock, shared by every domain, plus the workspace entity
 * itself: its details, principals, counts and name.
 */
export class Workspaces {
  constructor(
    private readonly data: ReadonlyMap<string, WorkspaceData>,
    private readonly clock: () => number,
  ) {}

  ids(): string[] {
    return [...this.data.keys()];
  }

  has(workspaceId: string): boolean {
    return this.data.has(workspaceId);
  }

  get(workspaceId: string): WorkspaceData {
    const ws = this.data.get(workspaceId);
    if (!ws) throw new StoreError(404, `Workspace with id ${workspaceId} doesn't exist`);
    return ws;
  }

  now(): number {
    return this.clock();
  }

  newId(ws: WorkspaceData): string {
    return objectId(ws.rng, this.clock());
  }

  /** The owner (INSTALLED `asUser`) and the add-on's own user of a workspace. */
  principals(workspaceId: string): { ownerId: string; addonUserId: string } {
    const ws = this.get(workspaceId);
    return { ownerId: ws.ownerId, addonUserId: ws.addonUserId };
  }

  /** Counts per entity type, for humans and tests. */
  summary(workspaceId: string) {
    const ws = this.get(workspaceId);
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

  describe(workspaceId: string): Workspace {
    const ws = this.get(workspaceId);
    ws.workspace.memberships = [...ws.users.values()].map((u) => workspaceMembership(u, ws.workspace.id));
    return copy(ws.workspace);
  }

  update(workspaceId: string, patch: { name?: string }): StoreChange<Workspace> {
    const ws = this.get(workspaceId);
    const previous = this.describe(workspaceId);
    if (patch.name !== undefined) ws.workspace.name = requireName(patch.name, 'workspace');
    return change(workspaceId, undefined, 'workspace', 'updated', this.describe(workspaceId), previous);
  }
}
