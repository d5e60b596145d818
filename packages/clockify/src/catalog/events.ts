/**
 * Webhook events and lifecycle calls of Clockify add-on manifests.
 *
 * The per-event version sets below are copied from the `webhook.event` enums of the official
 * manifest schemas (data/manifest-schemas/*.json); catalog.test.ts checks them against those files,
 * so this table cannot drift from the schemas. Versions 1.3 and 1.4 really do list fewer events
 * than 1.2 (see REFERENCE.md §1.1): never assume a later schema accepts a superset.
 */

export const MANIFEST_SCHEMA_VERSIONS = ['1.2', '1.3', '1.4', '1.5', '1.6'] as const;
export type ManifestSchemaVersion = (typeof MANIFEST_SCHEMA_VERSIONS)[number];

/** Versions this platform builds manifests for (the ones that carry the full event list). */
export const SUPPORTED_SCHEMA_VERSIONS = ['1.5', '1.6'] as const;
export type SupportedSchemaVersion = (typeof SUPPORTED_SCHEMA_VERSIONS)[number];

export function isManifestSchemaVersion(s: unknown): s is ManifestSchemaVersion {
  return typeof s === 'string' && (MANIFEST_SCHEMA_VERSIONS as readonly string[]).includes(s);
}

export function isSupportedSchemaVersion(s: unknown): s is SupportedSchemaVersion {
  return typeof s === 'string' && (SUPPORTED_SCHEMA_VERSIONS as readonly string[]).includes(s);
}

const ALL = ['1.2', '1.3', '1.4', '1.5', '1.6'] as const;
const SKIPS_1_3_AND_1_4 = ['1.2', '1.5', '1.6'] as const;
const FROM_1_5 = ['1.5', '1.6'] as const;
const FROM_1_6 = ['1.6'] as const;

const EVENT_VERSIONS = {
  APPROVAL_REQUEST_STATUS_UPDATED: ALL,
  ASSIGNMENT_CREATED: SKIPS_1_3_AND_1_4,
  ASSIGNMENT_DELETED: SKIPS_1_3_AND_1_4,
  ASSIGNMENT_PUBLISHED: SKIPS_1_3_AND_1_4,
  ASSIGNMENT_UPDATED: SKIPS_1_3_AND_1_4,
  BALANCE_UPDATED: ALL,
  BILLABLE_RATE_UPDATED: FROM_1_5,
  CLIENT_DELETED: SKIPS_1_3_AND_1_4,
  CLIENT_UPDATED: SKIPS_1_3_AND_1_4,
  COST_RATE_UPDATED: FROM_1_5,
  EXPENSE_CREATED: SKIPS_1_3_AND_1_4,
  EXPENSE_DELETED: SKIPS_1_3_AND_1_4,
  EXPENSE_RESTORED: FROM_1_5,
  EXPENSE_UPDATED: SKIPS_1_3_AND_1_4,
  INVOICE_UPDATED: ALL,
  LIMITED_USERS_ADDED_TO_WORKSPACE: FROM_1_5,
  NEW_APPROVAL_REQUEST: ALL,
  NEW_CLIENT: ALL,
  NEW_INVOICE: ALL,
  NEW_PROJECT: ALL,
  NEW_TAG: ALL,
  NEW_TASK: ALL,
  NEW_TIMER_STARTED: ALL,
  NEW_TIME_ENTRY: ALL,
  PROJECT_DELETED: SKIPS_1_3_AND_1_4,
  PROJECT_UPDATED: SKIPS_1_3_AND_1_4,
  TAG_DELETED: SKIPS_1_3_AND_1_4,
  TAG_UPDATED: SKIPS_1_3_AND_1_4,
  TASK_DELETED: SKIPS_1_3_AND_1_4,
  TASK_UPDATED: SKIPS_1_3_AND_1_4,
  TIMER_STOPPED: ALL,
  TIME_ENTRY_DELETED: ALL,
  TIME_ENTRY_RESTORED: FROM_1_5,
  TIME_ENTRY_SPLIT: FROM_1_5,
  TIME_ENTRY_UPDATED: ALL,
  TIME_OFF_REQUESTED: ALL,
  TIME_OFF_REQUEST_APPROVED: ALL,
  TIME_OFF_REQUEST_REJECTED: ALL,
  TIME_OFF_REQUEST_STARTED: FROM_1_6,
  TIME_OFF_REQUEST_UPDATED: FROM_1_5,
  TIME_OFF_REQUEST_WITHDRAWN: ALL,
  USERS_INVITED_TO_WORKSPACE: FROM_1_5,
  USER_ACTIVATED_ON_WORKSPACE: ALL,
  USER_DEACTIVATED_ON_WORKSPACE: ALL,
  USER_DELETED_FROM_WORKSPACE: ALL,
  USER_EMAIL_CHANGED: SKIPS_1_3_AND_1_4,
  USER_GROUP_CREATED: SKIPS_1_3_AND_1_4,
  USER_GROUP_DELETED: SKIPS_1_3_AND_1_4,
  USER_GROUP_UPDATED: SKIPS_1_3_AND_1_4,
  USER_JOINED_WORKSPACE: ALL,
  USER_UPDATED: SKIPS_1_3_AND_1_4,
} as const satisfies Record<string, readonly ManifestSchemaVersion[]>;

/** Every webhook event any known manifest schema allows (51, the 1.6 list). */
export type WebhookEventName = keyof typeof EVENT_VERSIONS;

export interface WebhookEventInfo {
  readonly name: WebhookEventName;
  /** Manifest schema versions whose `webhooks[].event` enum contains this event. */
  readonly versions: readonly ManifestSchemaVersion[];
}

/** Plain code-unit order (not locale order), so generated files are byte-stable everywhere. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const WEBHOOK_EVENT_NAMES: readonly WebhookEventName[] = Object.freeze(
  (Object.keys(EVENT_VERSIONS) as WebhookEventName[]).sort(compareCodeUnits),
);

export const WEBHOOK_EVENTS: readonly WebhookEventInfo[] = Object.freeze(
  WEBHOOK_EVENT_NAMES.map((name) => Object.freeze({ name, versions: EVENT_VERSIONS[name] })),
);

const EVENT_NAME_SET: ReadonlySet<string> = new Set(WEBHOOK_EVENT_NAMES);

export function isWebhookEventName(s: unknown): s is WebhookEventName {
  return typeof s === 'string' && EVENT_NAME_SET.has(s);
}

const EVENTS_BY_VERSION: ReadonlyMap<ManifestSchemaVersion, readonly WebhookEventName[]> = new Map(
  MANIFEST_SCHEMA_VERSIONS.map((v) => [
    v,
    Object.freeze(WEBHOOK_EVENT_NAMES.filter((e) => (EVENT_VERSIONS[e] as readonly string[]).includes(v))),
  ]),
);

/** The events a manifest of `version` may subscribe to, sorted by name. */
export function eventsAllowedIn(version: ManifestSchemaVersion): readonly WebhookEventName[] {
  return EVENTS_BY_VERSION.get(version) ?? [];
}

/** False for unknown events and unknown versions alike. */
export function isEventAllowedIn(event: string, version: ManifestSchemaVersion): boolean {
  return isWebhookEventName(event) && (EVENT_VERSIONS[event] as readonly string[]).includes(version);
}

/** `NEW_TIME_ENTRY` → `new-time-entry`: the last segment of the event's webhook route. */
export function eventRoute(event: WebhookEventName): string {
  return event.toLowerCase().replaceAll('_', '-');
}

const EVENT_BY_ROUTE: ReadonlyMap<string, WebhookEventName> = new Map(
  WEBHOOK_EVENT_NAMES.map((e) => [eventRoute(e), e]),
);

/**
 * The event served at `/webhooks/<segment>`, or undefined. Exact match only: routes are a contract,
 * so `New-Time-Entry` or `new_time_entry` are not the same route.
 */
export function eventFromRoute(segment: string): WebhookEventName | undefined {
  return EVENT_BY_ROUTE.get(segment);
}

/** `NEW_TIME_ENTRY` → `/webhooks/new-time-entry`; the manifest's `webhooks[].path` for the event. */
export function webhookPath(event: WebhookEventName): string {
  return `/webhooks/${eventRoute(event)}`;
}

/** Lifecycle call types; identical in every schema version (1.2–1.6). */
export const LIFECYCLE_TYPES = ['INSTALLED', 'DELETED', 'SETTINGS_UPDATED', 'STATUS_CHANGED'] as const;
export type LifecycleType = (typeof LIFECYCLE_TYPES)[number];

export const LIFECYCLE_PATHS = Object.freeze({
  INSTALLED: '/lifecycle/installed',
  DELETED: '/lifecycle/deleted',
  SETTINGS_UPDATED: '/lifecycle/settings-updated',
  STATUS_CHANGED: '/lifecycle/status-changed',
} as const satisfies Record<LifecycleType, string>);

export type LifecyclePath = (typeof LIFECYCLE_PATHS)[LifecycleType];
