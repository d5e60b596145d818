import { change, copy, type StoreChange } from './changes.js';
import { requireClient } from './clients.js';
import { CURRENCY, type WorkspaceData } from './generate.js';
import { matchesName, sortBy, type NamedQuery } from './query.js';
import type { Project } from './types.js';
import { requireUser } from './users.js';
import { requireName, StoreError } from './validation.js';
import type { Workspaces } from './workspaces.js';

export interface ProjectQuery extends NamedQuery {
  readonly billable?: boolean;
  readonly clientIds?: readonly string[];
  readonly isTemplate?: boolean;
}

export interface ProjectInput {
  name: string;
  clientId?: string;
  billable?: boolean;
  color?: string;
  public?: boolean;
  note?: string;
  archived?: boolean;
  memberIds?: readonly string[];
}

export interface ProjectPatch {
  name?: string;
  clientId?: string | null;
  billable?: boolean;
  color?: string;
  public?: boolean;
  note?: string;
  archived?: boolean;
}

export function requireProject(ws: WorkspaceData, id: string): Project {
  const p = ws.projects.get(id);
  if (!p) throw new StoreError(404, `Project with id ${id} doesn't exist`);
  return p;
}

export class Projects {
  constructor(private readonly workspaces: Workspaces) {}

  list(workspaceId: string, q: ProjectQuery = {}): Project[] {
    const ws = this.workspaces.get(workspaceId);
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

  get(workspaceId: string, projectId: string): Project {
    return copy(requireProject(this.workspaces.get(workspaceId), projectId));
  }

  create(workspaceId: string, input: ProjectInput): StoreChange<Project> {
    const ws = this.workspaces.get(workspaceId);
    const name = requireName(input.name, 'project');
    if ([...ws.projects.values()].some((p) => p.name === name && p.clientId === (input.clientId ?? ''))) {
      throw new StoreError(400, `Project with name '${name}' already exists`);
    }
    const client = input.clientId ? requireClient(ws, input.clientId) : undefined;
    const id = this.workspaces.newId(ws);
    const memberIds = input.memberIds ?? [ws.ownerId];
    for (const m of memberIds) requireUser(ws, m);
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

  update(workspaceId: string, projectId: string, patch: ProjectPatch): StoreChange<Project> {
    const ws = this.workspaces.get(workspaceId);
    const project = requireProject(ws, projectId);
    const previous = copy(project);
    if (patch.name !== undefined) project.name = requireName(patch.name, 'project');
    if (patch.clientId !== undefined) {
      const client = patch.clientId ? requireClient(ws, patch.clientId) : undefined;
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
  delete(workspaceId: string, projectId: string): StoreChange<Project> {
    const ws = this.workspaces.get(workspaceId);
    const project = requireProject(ws, projectId);
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
}
