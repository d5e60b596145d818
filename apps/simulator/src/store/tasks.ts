import { change, copy, type StoreChange } from './changes.js';
import type { WorkspaceData } from './generate.js';
import { requireProject } from './projects.js';
import { matchesName, sortNamed, type NamedQuery } from './query.js';
import type { Task } from './types.js';
import { requireUser } from './users.js';
import { requireName, StoreError } from './validation.js';
import type { Workspaces } from './workspaces.js';

export interface TaskQuery extends NamedQuery {
  readonly isActive?: boolean;
}

export interface TaskInput {
  name: string;
  assigneeIds?: readonly string[];
  status?: Task['status'];
  billable?: boolean;
}

export type TaskPatch = Partial<TaskInput>;

export function requireTask(ws: WorkspaceData, projectId: string, taskId: string): Task {
  requireProject(ws, projectId);
  const t = ws.tasks.get(projectId)?.get(taskId);
  if (!t) throw new StoreError(404, `Task with id ${taskId} doesn't exist on project ${projectId}`);
  return t;
}

/** Tasks, kept per project. */
export class Tasks {
  constructor(private readonly workspaces: Workspaces) {}

  list(workspaceId: string, projectId: string, q: TaskQuery = {}): Task[] {
    const ws = this.workspaces.get(workspaceId);
    requireProject(ws, projectId);
    const list = [...(ws.tasks.get(projectId)?.values() ?? [])].filter(
      (t) => matchesName(t.name, q) && (q.isActive === undefined || (t.status === 'ACTIVE') === q.isActive),
    );
    sortNamed(list, q);
    return list.map(copy);
  }

  get(workspaceId: string, projectId: string, taskId: string): Task {
    return copy(requireTask(this.workspaces.get(workspaceId), projectId, taskId));
  }

  create(workspaceId: string, projectId: string, input: TaskInput): StoreChange<Task> {
    const ws = this.workspaces.get(workspaceId);
    const project = requireProject(ws, projectId);
    const name = requireName(input.name, 'task');
    const tasks = ws.tasks.get(projectId) ?? new Map<string, Task>();
    if ([...tasks.values()].some((t) => t.name === name))
      throw new StoreError(400, `Task with name '${name}' already exists on this project`);
    for (const u of input.assigneeIds ?? []) requireUser(ws, u);
    const task: Task = {
      id: this.workspaces.newId(ws),
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

  update(workspaceId: string, projectId: string, taskId: string, patch: TaskPatch): StoreChange<Task> {
    const ws = this.workspaces.get(workspaceId);
    const task = requireTask(ws, projectId, taskId);
    const previous = copy(task);
    if (patch.name !== undefined) task.name = requireName(patch.name, 'task');
    if (patch.assigneeIds !== undefined) {
      for (const u of patch.assigneeIds) requireUser(ws, u);
      task.assigneeIds = [...patch.assigneeIds];
    }
    if (patch.status !== undefined) task.status = patch.status;
    if (patch.billable !== undefined) task.billable = patch.billable;
    return change(workspaceId, 'TASK_UPDATED', 'task', 'updated', task, previous);
  }

  delete(workspaceId: string, projectId: string, taskId: string): StoreChange<Task> {
    const ws = this.workspaces.get(workspaceId);
    const task = requireTask(ws, projectId, taskId);
    ws.tasks.get(projectId)?.delete(taskId);
    for (const e of ws.entries.values()) if (e.taskId === taskId) e.taskId = null;
    return change(workspaceId, 'TASK_DELETED', 'task', 'deleted', task);
  }
}
