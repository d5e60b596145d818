import type { Rng } from '../random.js';
import { change, copy, type StoreChange } from './changes.js';
import { requireCustomField } from './custom-fields.js';
import { isoDuration, isoInstant } from './format.js';
import { addEntry, compareEntries, recomputeDurations, removeEntry, type WorkspaceData } from './generate.js';
import { requireProject } from './projects.js';
import { requireTag } from './tags.js';
import { requireTask } from './tasks.js';
import type { AccountStatus, Project, Tag, Task, TimeEntry } from './types.js';
import { requireUser } from './users.js';
import { instant, StoreError } from './validation.js';
import type { Workspaces } from './workspaces.js';

export interface TimeEntryQuery {
  /** Only entries starting at or after this instant. */
  readonly start?: string;
  /** Only entries starting at or before this instant. */
  readonly end?: string;
  readonly inProgress?: boolean;
  readonly description?: string;
  readonly projectId?: string;
  readonly taskId?: string;
  readonly tagIds?: readonly string[];
}

export interface TimeEntryInput {
  readonly userId: string;
  readonly start: string;
  readonly description?: string;
  readonly projectId?: string | null;
  readonly taskId?: string | null;
  readonly tagIds?: readonly string[];
  readonly billable?: boolean;
  readonly customFieldValues?: ReadonlyArray<{ customFieldId: string; value: unknown }>;
}

export type TimerInput = Omit<TimeEntryInput, 'start'> & { start?: string };

export type TimeEntryPatch = Partial<Omit<TimeEntryInput, 'userId'>> & { end?: string | null };

/** A time entry with its related entities attached, as `hydrated=true` and webhooks carry it. */
export type HydratedTimeEntry = TimeEntry & {
  project: Project | null;
  task: Task | null;
  tags: Tag[];
  user: { id: string; name: string; email: string; status: AccountStatus } | null;
};

/** Parsed starts, by entry object: a listing filters thousands of entries per page request. */
const parsedStarts = new WeakMap<Readonly<TimeEntry>, { readonly iso: string; readonly ms: number }>();

function startMs(e: Readonly<TimeEntry>): number {
  const iso = e.timeInterval.start;
  const cached = parsedStarts.get(e);
  if (cached?.iso === iso) return cached.ms;
  const ms = Date.parse(iso);
  parsedStarts.set(e, { iso, ms });
  return ms;
}

function requireEntry(ws: WorkspaceData, id: string): TimeEntry {
  const e = ws.entries.get(id);
  if (!e) throw new StoreError(404, `Time entry with id ${id} doesn't exist`);
  return e;
}

/** Time entries and timers: queries, edits, deletion and restore, splitting. */
export class TimeEntries {
  constructor(private readonly workspaces: Workspaces) {}

  list(workspaceId: string, userId: string, q: TimeEntryQuery = {}): TimeEntry[] {
    return this.select(workspaceId, userId, q).map(copy);
  }

  /**
   * The entries `list` returns, as the store's own objects, not copies: for a reader that hands
   * out (copies) only part of them, such as one page of a user's thousands of entries.
   */
  select(workspaceId: string, userId: string, q: TimeEntryQuery = {}): readonly Readonly<TimeEntry>[] {
    const ws = this.workspaces.get(workspaceId);
    requireUser(ws, userId);
    const start = q.start !== undefined ? instant(q.start, 'start') : undefined;
    const end = q.end !== undefined ? instant(q.end, 'end') : undefined;
    const tagIds = q.tagIds && q.tagIds.length > 0 ? q.tagIds : undefined;
    const description = q.description?.toLowerCase();
    return (ws.entriesByUser.get(userId) ?? []).filter((e) => {
      const s = startMs(e);
      return (
        (start === undefined || s >= start) &&
        (end === undefined || s <= end) &&
        (q.inProgress === undefined || (e.timeInterval.end === null) === q.inProgress) &&
        (q.projectId === undefined || e.projectId === q.projectId) &&
        (q.taskId === undefined || e.taskId === q.taskId) &&
        (description === undefined || e.description.toLowerCase().includes(description)) &&
        (tagIds === undefined || tagIds.some((t) => e.tagIds.includes(t)))
      );
    });
  }

  /** Running timers of the workspace, newest first. */
  listInProgress(workspaceId: string): TimeEntry[] {
    const ws = this.workspaces.get(workspaceId);
    return [...ws.entries.values()]
      .filter((e) => e.timeInterval.end === null)
      .sort(compareEntries)
      .map(copy);
  }

  get(workspaceId: string, entryId: string): TimeEntry {
    return copy(requireEntry(this.workspaces.get(workspaceId), entryId));
  }

  /** The running timer of a user, if any. */
  runningTimer(workspaceId: string, userId: string): TimeEntry | undefined {
    const running = this.workspaces
      .get(workspaceId)
      .entriesByUser.get(userId)
      ?.find((e) => e.timeInterval.end === null);
    return running ? copy(running) : undefined;
  }

  /** A random entry of the workspace (finished or running as asked), without copying every entry. */
  random(workspaceId: string, rng: Rng, filter: { running?: boolean } = {}): TimeEntry | undefined {
    const ws = this.workspaces.get(workspaceId);
    const ids = [...ws.entries.keys()];
    for (let attempt = 0; attempt < 20 && ids.length > 0; attempt++) {
      const entry = ws.entries.get(rng.pick(ids)) as TimeEntry;
      if (filter.running === undefined || (entry.timeInterval.end === null) === filter.running) return copy(entry);
    }
    const match = [...ws.entries.values()].find(
      (e) => filter.running === undefined || (e.timeInterval.end === null) === filter.running,
    );
    return match ? copy(match) : undefined;
  }

  hydrate(workspaceId: string, entry: TimeEntry): HydratedTimeEntry {
    const ws = this.workspaces.get(workspaceId);
    const project = entry.projectId ? ws.projects.get(entry.projectId) : undefined;
    const task = entry.projectId && entry.taskId ? ws.tasks.get(entry.projectId)?.get(entry.taskId) : undefined;
    const user = ws.users.get(entry.userId)?.user;
    return {
      ...copy(entry),
      project: project ? copy(project) : null,
      task: task ? copy(task) : null,
      tags: entry.tagIds
        .map((id) => ws.tags.get(id))
        .filter((t): t is Tag => t !== undefined)
        .map(copy),
      user: user ? { id: user.id, name: user.name, email: user.email, status: user.status } : null,
    };
  }

  /** A finished entry added by hand: NEW_TIME_ENTRY. */
  create(workspaceId: string, input: TimeEntryInput & { end: string }): StoreChange<TimeEntry> {
    const ws = this.workspaces.get(workspaceId);
    const entry = this.build(ws, input, input.end);
    addEntry(ws, entry);
    touchDurations(ws);
    return change(workspaceId, 'NEW_TIME_ENTRY', 'timeEntry', 'created', entry);
  }

  /**
   * Starts a timer (NEW_TIMER_STARTED). A timer the user already runs is stopped first, as
   * Clockify does; that TIMER_STOPPED change is returned in `also`.
   */
  startTimer(workspaceId: string, input: TimerInput): StoreChange<TimeEntry> {
    const ws = this.workspaces.get(workspaceId);
    const start = input.start ?? isoInstant(this.workspaces.now());
    const running = ws.entriesByUser.get(input.userId)?.find((e) => e.timeInterval.end === null);
    const also = running ? [this.stopTimer(workspaceId, input.userId, start)] : [];
    const entry = this.build(ws, { ...input, start }, null);
    addEntry(ws, entry);
    return {
      ...change(workspaceId, 'NEW_TIMER_STARTED', 'timeEntry', 'created', entry),
      ...(also.length > 0 ? { also } : {}),
    };
  }

  /** Stops the user's running timer: TIMER_STOPPED. */
  stopTimer(workspaceId: string, userId: string, end?: string): StoreChange<TimeEntry> {
    const ws = this.workspaces.get(workspaceId);
    requireUser(ws, userId);
    const running = ws.entriesByUser.get(userId)?.find((e) => e.timeInterval.end === null);
    if (!running) throw new StoreError(404, 'No time entry in progress for this user');
    const previous = copy(running);
    const endMs = end !== undefined ? instant(end, 'end') : this.workspaces.now();
    const startMs = Date.parse(running.timeInterval.start);
    if (endMs < startMs) throw new StoreError(400, 'End must not be before start');
    running.timeInterval = {
      start: running.timeInterval.start,
      end: isoInstant(endMs),
      duration: isoDuration((endMs - startMs) / 1000),
    };
    touchDurations(ws);
    return change(workspaceId, 'TIMER_STOPPED', 'timeEntry', 'updated', running, previous);
  }

  update(workspaceId: string, entryId: string, patch: TimeEntryPatch): StoreChange<TimeEntry> {
    const ws = this.workspaces.get(workspaceId);
    const entry = requireEntry(ws, entryId);
    const previous = copy(entry);
    const merged: TimeEntryInput = {
      userId: entry.userId,
      start: patch.start ?? entry.timeInterval.start,
      description: patch.description ?? entry.description,
      projectId: patch.projectId !== undefined ? patch.projectId : entry.projectId,
      taskId:
        patch.taskId !== undefined
          ? patch.taskId
          : patch.projectId !== undefined && patch.projectId !== entry.projectId
            ? null
            : entry.taskId,
      tagIds: patch.tagIds ?? entry.tagIds,
      billable: patch.billable ?? entry.billable,
      customFieldValues:
        patch.customFieldValues ??
        entry.customFieldValues.map((v) => ({ customFieldId: v.customFieldId, value: v.value })),
    };
    const end = patch.end !== undefined ? patch.end : entry.timeInterval.end;
    const rebuilt = this.build(ws, merged, end, entry.id);
    removeEntry(ws, entry.id);
    addEntry(ws, rebuilt);
    touchDurations(ws);
    return change(workspaceId, 'TIME_ENTRY_UPDATED', 'timeEntry', 'updated', rebuilt, previous);
  }

  delete(workspaceId: string, entryId: string): StoreChange<TimeEntry> {
    const ws = this.workspaces.get(workspaceId);
    requireEntry(ws, entryId);
    const entry = removeEntry(ws, entryId) as TimeEntry;
    ws.deletedEntries.set(entryId, entry);
    touchDurations(ws);
    return change(workspaceId, 'TIME_ENTRY_DELETED', 'timeEntry', 'deleted', entry);
  }

  /** Brings back a deleted entry: TIME_ENTRY_RESTORED. */
  restore(workspaceId: string, entryId: string): StoreChange<TimeEntry> {
    const ws = this.workspaces.get(workspaceId);
    const entry = ws.deletedEntries.get(entryId);
    if (!entry) throw new StoreError(404, `No deleted time entry with id ${entryId}`);
    ws.deletedEntries.delete(entryId);
    addEntry(ws, entry);
    touchDurations(ws);
    return change(workspaceId, 'TIME_ENTRY_RESTORED', 'timeEntry', 'created', entry);
  }

  /** Ids of deleted entries that can be restored. */
  deletedIds(workspaceId: string): string[] {
    return [...this.workspaces.get(workspaceId).deletedEntries.keys()];
  }

  /**
   * Splits a finished entry at an instant: the entry keeps the first part, a new entry holds the
   * rest (in `related`). TIME_ENTRY_SPLIT carries the shortened original.
   */
  split(workspaceId: string, entryId: string, at: string): StoreChange<TimeEntry> {
    const ws = this.workspaces.get(workspaceId);
    const entry = requireEntry(ws, entryId);
    if (entry.timeInterval.end === null) throw new StoreError(400, 'A running timer cannot be split');
    const atMs = instant(at, 'at');
    const startMs = Date.parse(entry.timeInterval.start);
    const endMs = Date.parse(entry.timeInterval.end);
    if (!(atMs > startMs && atMs < endMs))
      throw new StoreError(400, 'The split point must lie strictly inside the entry');
    const previous = copy(entry);
    entry.timeInterval = {
      start: entry.timeInterval.start,
      end: isoInstant(atMs),
      duration: isoDuration((atMs - startMs) / 1000),
    };
    const second: TimeEntry = {
      ...copy(previous),
      id: this.workspaces.newId(ws),
      timeInterval: {
        start: isoInstant(atMs),
        end: previous.timeInterval.end,
        duration: isoDuration((endMs - atMs) / 1000),
      },
    };
    second.customFieldValues = second.customFieldValues.map((v) => ({ ...v, timeEntryId: second.id }));
    addEntry(ws, second);
    return {
      ...change(workspaceId, 'TIME_ENTRY_SPLIT', 'timeEntry', 'updated', entry, previous),
      related: [copy(second)],
    };
  }

  private build(ws: WorkspaceData, input: TimeEntryInput, end: string | null, id?: string): TimeEntry {
    const rec = requireUser(ws, input.userId);
    const startMs = instant(input.start, 'start');
    const endMs = end === null ? null : instant(end, 'end');
    if (endMs !== null && endMs < startMs) throw new StoreError(400, 'End must not be before start');
    const project = input.projectId ? requireProject(ws, input.projectId) : undefined;
    if (input.taskId && !project) throw new StoreError(400, 'A task needs its project');
    const task = project && input.taskId ? requireTask(ws, project.id, input.taskId) : undefined;
    for (const t of input.tagIds ?? []) requireTag(ws, t);
    const entryId = id ?? this.workspaces.newId(ws);
    const fieldValues = (input.customFieldValues ?? []).map((v) => {
      const field = requireCustomField(ws, v.customFieldId);
      return { customFieldId: field.id, timeEntryId: entryId, value: v.value, name: field.name, type: field.type };
    });
    return {
      id: entryId,
      description: input.description ?? '',
      tagIds: [...(input.tagIds ?? [])],
      userId: rec.user.id,
      billable: input.billable ?? project?.billable ?? false,
      taskId: task?.id ?? null,
      projectId: project?.id ?? null,
      workspaceId: ws.workspace.id,
      timeInterval: {
        start: isoInstant(startMs),
        end: endMs === null ? null : isoInstant(endMs),
        duration: endMs === null ? null : isoDuration(Math.floor(endMs / 1000) - Math.floor(startMs / 1000)),
      },
      customFieldValues: fieldValues,
      type: 'REGULAR',
      kioskId: null,
      hourlyRate: project?.hourlyRate ?? rec.hourlyRate,
      costRate: rec.costRate,
      isLocked: false,
    };
  }
}

function touchDurations(ws: WorkspaceData): void {
  // Cheap enough for simulator sizes, and keeps project/task `duration` honest after edits.
  if (ws.entries.size <= 50_000) recomputeDurations(ws);
}
