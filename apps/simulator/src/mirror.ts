import type { MockStore } from './store/store.js';

/**
 * What a mirror of a simulated workspace should hold, and a comparison with what it holds. Used
 * by the worker tests, the end-to-end tests and the demo to check a bootstrap plus webhooks left
 * the add-on's copy equal to the simulator's data.
 *
 * Entities are compared by id and a fingerprint of every field the bootstrap stores for them
 * (the API list items as the mock serves them), so a short webhook body that erased a stored
 * field (USER_UPDATED carries only id, email and name) shows up as `changed`. The only fields
 * left out are those that webhook bodies carry and list items do not (IGNORED below): a row
 * written from a webhook legitimately holds them, and no list item has them to compare with.
 */

/** entity type → entity id → fingerprint */
export type MirrorSnapshot = Record<string, Record<string, string>>;

export interface MirrorWindow {
  /** Time entries starting in [start, end] are mirrored (the bootstrap's window). */
  readonly start: Date;
  readonly end: Date;
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/**
 * Webhook-only fields per entity type. Time entry webhooks are hydrated with the related
 * `project`, `task`, `user` and `tags` (the user time-entries list is not); project webhooks embed
 * the project's `tasks` and its `client` (the projects list does not); USER_EMAIL_CHANGED adds
 * `oldEmail`, which no user list item has.
 */
const IGNORED: Readonly<Record<string, readonly string[]>> = {
  time_entry: ['project', 'task', 'user', 'tags'],
  project: ['tasks', 'client'],
  user: ['oldEmail'],
};

/** JSON with object keys sorted, so equal values give equal strings whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function compared(entityType: string, data: Record<string, unknown>): Record<string, unknown> {
  const ignored = IGNORED[entityType] ?? [];
  return Object.fromEntries(Object.entries(data).filter(([k]) => !ignored.includes(k)));
}

/** Every compared field of the entity: a missing field and a different value both change it. */
export function entityFingerprint(entityType: string, data: Record<string, unknown>): string {
  return canonical(compared(entityType, data));
}

/**
 * Whether a mirror row holds what a webhook body said about its entity: every compared field the
 * body carries has the body's value in the row. (A partial body such as USER_UPDATED's is merged,
 * so the row also keeps fields the body lacks; `entityFingerprint` checks those against the API.)
 */
export function mirrorsBody(entityType: string, row: Record<string, unknown>, body: Record<string, unknown>): boolean {
  return Object.entries(compared(entityType, body)).every(([k, v]) => k in row && canonical(row[k]) === canonical(v));
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
