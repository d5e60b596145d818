import type { MockStore } from './store/store.js';

/**
 * What a mirror of a simulated workspace should hold, and a comparison with what it holds. Used
 * by the worker tests, the end-to-end tests and the demo to check a bootstrap plus webhooks left
 * the add-on's copy equal to the simulator's data.
 *
 * Entities are compared by id and a fingerprint of the fields both a list response and a webhook
 * body carry (a webhook's time entry is hydrated, a listed one is not, so whole objects differ):
 * the name and the flags a change can flip without renaming.
 */

/** entity type → entity id → fingerprint */
export type MirrorSnapshot = Record<string, Record<string, string>>;

export interface MirrorWindow {
  /** Time entries starting in [start, end] are mirrored (the bootstrap's window). */
  readonly start: Date;
  readonly end: Date;
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

export function entityFingerprint(entityType: string, data: Record<string, unknown>): string {
  if (entityType === 'time_entry') {
    const interval = (data.timeInterval ?? {}) as Record<string, unknown>;
    return JSON.stringify([
      str(data.description),
      str(interval.start),
      str(interval.end),
      str(data.projectId),
      str(data.taskId),
      Boolean(data.billable),
    ]);
  }
  // Besides the name, the fields a change can flip without renaming (archiving a project, a
  // task's status, a user's e-mail); all of them are in both list responses and webhook bodies.
  switch (entityType) {
    case 'project':
      return JSON.stringify([str(data.name), str(data.clientId), Boolean(data.archived), Boolean(data.billable)]);
    case 'client':
    case 'tag':
      return JSON.stringify([str(data.name), Boolean(data.archived)]);
    case 'task':
      return JSON.stringify([str(data.name), str(data.projectId), str(data.status)]);
    case 'user':
      return JSON.stringify([str(data.name), str(data.email)]);
    default:
      return JSON.stringify([str(data.name)]);
  }
}

function add(snapshot: MirrorSnapshot, type: string, items: readonly object[]): void {
  const bucket = (snapshot[type] ??= {});
  for (const item of items) {
    const data = item as Record<string, unknown>;
    bucket[str(data.id)] = entityFingerprint(type, data);
  }
}

export const ALL_ACCOUNT_STATUSES = ['ACTIVE', 'PENDING_EMAIL_VERIFICATION', 'NOT_REGISTERED', 'LIMITED'] as const;

/** The mirror the store's current data calls for (what a full bootstrap would copy). */
export function expectedMirror(store: MockStore, workspaceId: string, window: MirrorWindow): MirrorSnapshot {
  const snapshot: MirrorSnapshot = {};
  add(snapshot, 'workspace', [store.getWorkspace(workspaceId)]);
  const users = store.listUsers(workspaceId, { status: 'ALL', accountStatuses: ALL_ACCOUNT_STATUSES });
  add(snapshot, 'user', users);
  add(snapshot, 'user_group', store.listUserGroups(workspaceId));
  add(snapshot, 'client', store.listClients(workspaceId));
  const projects = store.listProjects(workspaceId);
  add(snapshot, 'project', projects);
  snapshot.task = {};
  for (const p of projects) add(snapshot, 'task', store.listTasks(workspaceId, p.id));
  add(snapshot, 'tag', store.listTags(workspaceId));
  add(snapshot, 'custom_field', store.listCustomFields(workspaceId));
  snapshot.time_entry = {};
  const start = window.start.toISOString();
  const end = window.end.toISOString();
  for (const u of users) add(snapshot, 'time_entry', store.listTimeEntries(workspaceId, u.id, { start, end }));
  return snapshot;
}

/**
 * A snapshot of mirror rows (`workspace_entities`), tombstones left out. With `window`, time
 * entries starting outside it are left out too, as `expectedMirror` leaves them out: a mirror
 * legitimately keeps entries an earlier run's window covered and a later one no longer does.
 */
export function snapshotFromRows(
  rows: readonly { entity_type: string; entity_id: string; data: Record<string, unknown>; deleted: boolean }[],
  types?: readonly string[],
  window?: MirrorWindow,
): MirrorSnapshot {
  const snapshot: MirrorSnapshot = {};
  for (const type of types ?? []) snapshot[type] = {};
  const inWindow = (data: Record<string, unknown>): boolean => {
    if (!window) return true;
    const start = Date.parse(str((data.timeInterval as Record<string, unknown> | undefined)?.start));
    return start >= window.start.getTime() && start <= window.end.getTime();
  };
  for (const row of rows) {
    if (row.deleted || (types && !types.includes(row.entity_type))) continue;
    if (row.entity_type === 'time_entry' && !inWindow(row.data)) continue;
    (snapshot[row.entity_type] ??= {})[row.entity_id] = entityFingerprint(row.entity_type, row.data);
  }
  return snapshot;
}

export interface MirrorDiff {
  readonly equal: boolean;
  readonly missing: string[];
  readonly extra: string[];
  readonly changed: string[];
  /** Entities compared per type. */
  readonly counts: Record<string, number>;
}

/** Differences as `type/id` strings, each list sorted. */
export function diffMirror(expected: MirrorSnapshot, actual: MirrorSnapshot): MirrorDiff {
  const missing: string[] = [];
  const extra: string[] = [];
  const changed: string[] = [];
  const counts: Record<string, number> = {};
  for (const type of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const e = expected[type] ?? {};
    const a = actual[type] ?? {};
    counts[type] = Object.keys(e).length;
    for (const [id, fp] of Object.entries(e)) {
      if (!(id in a)) missing.push(`${type}/${id}`);
      else if (a[id] !== fp) changed.push(`${type}/${id}`);
    }
    for (const id of Object.keys(a)) if (!(id in e)) extra.push(`${type}/${id}`);
  }
  return {
    equal: missing.length + extra.length + changed.length === 0,
    missing: missing.sort(),
    extra: extra.sort(),
    changed: changed.sort(),
    counts,
  };
}
