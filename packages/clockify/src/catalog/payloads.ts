import type { WebhookEventName } from './events.js';

/**
 * Typed webhook bodies.
 *
 * A webhook body is the affected entity itself: flat, no envelope, no event or delivery id
 * (REFERENCE.md §4). Field sets follow the entity DTOs of the official OpenAPI spec
 * (TimeEntryWithRatesDtoV1, ProjectDtoImplV1, ClientWithCurrencyDtoV1, TagDtoV1, TaskDtoV1,
 * UserDtoV1) plus what sample deliveries show (hydrated `project`/`task`/`user`/`tags` on time
 * entries, `oldEmail` on USER_EMAIL_CHANGED). Only `id` is required: the samples are partly
 * third-party and some bodies are sparse (a deleted user arrives as `{id, email, name}`, without
 * `workspaceId` — take the workspace from the token claim). Every interface keeps unknown fields
 * (`[key: string]: unknown`) so fields Clockify adds later pass through untouched.
 */

/** A known set of values that still accepts values Clockify adds later. */
export type OpenString<T extends string> = T | (string & Record<never, never>);

export type UnknownWebhookPayload = { [key: string]: unknown };

export interface RatePayload {
  /** Minor units (cents). */
  amount?: number;
  currency?: string;
  [key: string]: unknown;
}

export interface TimeIntervalPayload {
  /** ISO-8601 instant. */
  start?: string;
  /** Null while the timer runs (NEW_TIMER_STARTED). */
  end?: string | null;
  /** ISO-8601 duration such as `PT1H30M`; null while the timer runs. */
  duration?: string | null;
  [key: string]: unknown;
}

export interface CustomFieldValuePayload {
  customFieldId?: string;
  timeEntryId?: string;
  name?: string;
  type?: string;
  value?: unknown;
  [key: string]: unknown;
}

export interface MembershipPayload {
  userId?: string;
  targetId?: string;
  membershipType?: OpenString<'WORKSPACE' | 'PROJECT' | 'USERGROUP'>;
  membershipStatus?: OpenString<'PENDING' | 'ACTIVE' | 'DECLINED' | 'INACTIVE'>;
  hourlyRate?: RatePayload | null;
  costRate?: RatePayload | null;
  [key: string]: unknown;
}

export interface TimeEntryPayload {
  /** The time entry's id (never a delivery id). */
  id: string;
  workspaceId?: string;
  userId?: string;
  description?: string | null;
  projectId?: string | null;
  taskId?: string | null;
  tagIds?: readonly string[] | null;
  billable?: boolean;
  isLocked?: boolean;
  kioskId?: string | null;
  type?: OpenString<'REGULAR' | 'BREAK' | 'HOLIDAY' | 'TIME_OFF'>;
  timeInterval?: TimeIntervalPayload;
  hourlyRate?: RatePayload | null;
  costRate?: RatePayload | null;
  customFieldValues?: readonly CustomFieldValuePayload[] | null;
  /** Hydrated copies of related entities; may be partial or absent. */
  project?: Partial<ProjectPayload> | null;
  task?: Partial<TaskPayload> | null;
  user?: Partial<UserPayload> | null;
  tags?: readonly Partial<TagPayload>[] | null;
  [key: string]: unknown;
}

export interface EstimatePayload {
  estimate?: string | number | null;
  type?: OpenString<'AUTO' | 'MANUAL'>;
  active?: boolean;
  resetOption?: OpenString<'WEEKLY' | 'MONTHLY' | 'YEARLY'> | null;
  [key: string]: unknown;
}

export interface ProjectPayload {
  /** The project's id (never a delivery id). */
  id: string;
  name?: string;
  workspaceId?: string;
  clientId?: string | null;
  clientName?: string | null;
  color?: string;
  archived?: boolean;
  billable?: boolean;
  public?: boolean;
  template?: boolean;
  note?: string | null;
  /** ISO-8601 duration tracked on the project. */
  duration?: string | null;
  hourlyRate?: RatePayload | null;
  costRate?: RatePayload | null;
  memberships?: readonly MembershipPayload[] | null;
  estimate?: EstimatePayload | null;
  timeEstimate?: EstimatePayload | null;
  budgetEstimate?: EstimatePayload | null;
  [key: string]: unknown;
}

export interface ClientPayload {
  /** The client's id (never a delivery id). */
  id: string;
  name?: string;
  workspaceId?: string;
  archived?: boolean;
  address?: string | null;
  email?: string | null;
  ccEmails?: readonly string[] | null;
  note?: string | null;
  currencyId?: string | null;
  currencyCode?: string | null;
  [key: string]: unknown;
}

export interface TagPayload {
  /** The tag's id (never a delivery id). */
  id: string;
  name?: string;
  workspaceId?: string;
  archived?: boolean;
  [key: string]: unknown;
}

export interface TaskPayload {
  /** The task's id (never a delivery id). */
  id: string;
  name?: string;
  projectId?: string;
  /** Not in TaskDtoV1; present on some deliveries. */
  workspaceId?: string;
  status?: OpenString<'ACTIVE' | 'DONE'>;
  billable?: boolean;
  assigneeIds?: readonly string[] | null;
  /** Deprecated by Clockify in favour of `assigneeIds`. */
  assigneeId?: string | null;
  userGroupIds?: readonly string[] | null;
  /** ISO-8601 durations. */
  estimate?: string | null;
  duration?: string | null;
  budgetEstimate?: number | null;
  hourlyRate?: RatePayload | null;
  costRate?: RatePayload | null;
  [key: string]: unknown;
}

export interface UserPayload {
  /** The user's id (never a delivery id). */
  id: string;
  name?: string;
  email?: string;
  /** Absent on some bodies (USER_DELETED_FROM_WORKSPACE): use the token's workspace claim. */
  workspaceId?: string;
  status?: OpenString<
    'ACTIVE' | 'PENDING_EMAIL_VERIFICATION' | 'DELETED' | 'NOT_REGISTERED' | 'LIMITED' | 'LIMITED_DELETED'
  >;
  profilePicture?: string | null;
  activeWorkspace?: string;
  defaultWorkspace?: string;
  memberships?: readonly MembershipPayload[] | null;
  customFields?: readonly UnknownWebhookPayload[] | null;
  settings?: UnknownWebhookPayload | null;
  [key: string]: unknown;
}

export interface UserEmailChangedPayload extends UserPayload {
  /** The address before the change; `email` holds the new one. */
  oldEmail?: string;
}

/** Events whose body has a known shape. Any other event's body is an `UnknownWebhookPayload`. */
export interface WebhookPayloadMap {
  NEW_TIME_ENTRY: TimeEntryPayload;
  NEW_TIMER_STARTED: TimeEntryPayload;
  TIMER_STOPPED: TimeEntryPayload;
  TIME_ENTRY_UPDATED: TimeEntryPayload;
  TIME_ENTRY_DELETED: TimeEntryPayload;
  TIME_ENTRY_RESTORED: TimeEntryPayload;
  TIME_ENTRY_SPLIT: TimeEntryPayload;
  NEW_PROJECT: ProjectPayload;
  PROJECT_UPDATED: ProjectPayload;
  PROJECT_DELETED: ProjectPayload;
  NEW_CLIENT: ClientPayload;
  CLIENT_UPDATED: ClientPayload;
  CLIENT_DELETED: ClientPayload;
  NEW_TAG: TagPayload;
  TAG_UPDATED: TagPayload;
  TAG_DELETED: TagPayload;
  NEW_TASK: TaskPayload;
  TASK_UPDATED: TaskPayload;
  TASK_DELETED: TaskPayload;
  USER_JOINED_WORKSPACE: UserPayload;
  USER_UPDATED: UserPayload;
  USER_DELETED_FROM_WORKSPACE: UserPayload;
  USER_ACTIVATED_ON_WORKSPACE: UserPayload;
  USER_DEACTIVATED_ON_WORKSPACE: UserPayload;
  USER_EMAIL_CHANGED: UserEmailChangedPayload;
}

export type WebhookPayload<E extends WebhookEventName> = E extends keyof WebhookPayloadMap
  ? WebhookPayloadMap[E]
  : UnknownWebhookPayload;

export type EntityType = 'time_entry' | 'project' | 'client' | 'tag' | 'task' | 'user';
/**
 * `create`: the entity came into being (NEW_*, a timer started, a user joined) — it never
 * overwrites a copy that exists already, which would be newer when Clockify's deliveries
 * overtake each other; `upsert`: a change to the entity; `delete`: it is gone.
 */
export type EntityOp = 'create' | 'upsert' | 'delete';

export interface EntityChange {
  readonly entityType: EntityType;
  readonly op: EntityOp;
}

/** Events that change exactly one mirrorable entity: the ones with a typed payload. */
export type EntityEventName = keyof WebhookPayloadMap;

const entityEvents = {
  NEW_TIME_ENTRY: { entityType: 'time_entry', op: 'create' },
  NEW_TIMER_STARTED: { entityType: 'time_entry', op: 'create' },
  TIMER_STOPPED: { entityType: 'time_entry', op: 'upsert' },
  TIME_ENTRY_UPDATED: { entityType: 'time_entry', op: 'upsert' },
  TIME_ENTRY_DELETED: { entityType: 'time_entry', op: 'delete' },
  TIME_ENTRY_RESTORED: { entityType: 'time_entry', op: 'upsert' },
  TIME_ENTRY_SPLIT: { entityType: 'time_entry', op: 'upsert' },
  NEW_PROJECT: { entityType: 'project', op: 'create' },
  PROJECT_UPDATED: { entityType: 'project', op: 'upsert' },
  PROJECT_DELETED: { entityType: 'project', op: 'delete' },
  NEW_CLIENT: { entityType: 'client', op: 'create' },
  CLIENT_UPDATED: { entityType: 'client', op: 'upsert' },
  CLIENT_DELETED: { entityType: 'client', op: 'delete' },
  NEW_TAG: { entityType: 'tag', op: 'create' },
  TAG_UPDATED: { entityType: 'tag', op: 'upsert' },
  TAG_DELETED: { entityType: 'tag', op: 'delete' },
  NEW_TASK: { entityType: 'task', op: 'create' },
  TASK_UPDATED: { entityType: 'task', op: 'upsert' },
  TASK_DELETED: { entityType: 'task', op: 'delete' },
  USER_JOINED_WORKSPACE: { entityType: 'user', op: 'create' },
  USER_UPDATED: { entityType: 'user', op: 'upsert' },
  // The user leaves this workspace's mirror; the Clockify account itself may live on.
  USER_DELETED_FROM_WORKSPACE: { entityType: 'user', op: 'delete' },
  // (De)activation changes the membership status, the user stays in the workspace.
  USER_ACTIVATED_ON_WORKSPACE: { entityType: 'user', op: 'upsert' },
  USER_DEACTIVATED_ON_WORKSPACE: { entityType: 'user', op: 'upsert' },
  USER_EMAIL_CHANGED: { entityType: 'user', op: 'upsert' },
} as const satisfies Record<EntityEventName, EntityChange>;

/**
 * What each entity event does to the add-on's mirror. Indexable by any event name; undefined for
 * events that change no single mirrorable entity (time off, assignments, invoices, …).
 */
export const ENTITY_EVENTS: Readonly<Partial<Record<WebhookEventName, EntityChange>>> = Object.freeze(entityEvents);

export function isEntityEvent(event: string): event is EntityEventName {
  return Object.hasOwn(entityEvents, event);
}

/**
 * What a webhook body says about the entity it names, per event:
 * - `full`: the whole entity as Clockify stores it (a copy can be replaced by it);
 * - `partial`: some of its fields only (USER_UPDATED carries `id`, `email` and `name`;
 *   USER_JOINED_WORKSPACE a user with settings but no `status` or `memberships`): merge it into the
 *   stored copy, never replace the copy with it;
 * - `reference`: enough to name the entity (its id), as for a deletion; its other fields, when
 *   present, are not to be relied on.
 * Clockify documents no schema per event; its example bodies carry fewer fields than the API's
 * list items the bootstrap stores (a client without its address or currency, a task without its
 * rates, a time entry without `type`), so every entity change is `partial`: merged, nothing the
 * bootstrap stored is erased by a short body. Where an example body is sparse, an event is
 * `partial` rather than `full`.
 */
export type BodyKind = 'full' | 'partial' | 'reference';

const BODY_KINDS = {
  APPROVAL_REQUEST_STATUS_UPDATED: 'full',
  ASSIGNMENT_CREATED: 'reference',
  ASSIGNMENT_DELETED: 'reference',
  ASSIGNMENT_PUBLISHED: 'reference',
  ASSIGNMENT_UPDATED: 'reference',
  BALANCE_UPDATED: 'partial',
  BILLABLE_RATE_UPDATED: 'partial',
  CLIENT_DELETED: 'reference',
  CLIENT_UPDATED: 'partial',
  COST_RATE_UPDATED: 'partial',
  EXPENSE_CREATED: 'full',
  EXPENSE_DELETED: 'reference',
  EXPENSE_RESTORED: 'full',
  EXPENSE_UPDATED: 'full',
  INVOICE_UPDATED: 'full',
  LIMITED_USERS_ADDED_TO_WORKSPACE: 'partial',
  NEW_APPROVAL_REQUEST: 'full',
  NEW_CLIENT: 'partial',
  NEW_INVOICE: 'full',
  NEW_PROJECT: 'partial',
  NEW_TAG: 'full',
  NEW_TASK: 'partial',
  NEW_TIMER_STARTED: 'partial',
  NEW_TIME_ENTRY: 'partial',
  PROJECT_DELETED: 'reference',
  PROJECT_UPDATED: 'partial',
  TAG_DELETED: 'reference',
  TAG_UPDATED: 'full',
  TASK_DELETED: 'reference',
  TASK_UPDATED: 'partial',
  TIMER_STOPPED: 'partial',
  TIME_ENTRY_DELETED: 'reference',
  TIME_ENTRY_RESTORED: 'partial',
  TIME_ENTRY_SPLIT: 'partial',
  TIME_ENTRY_UPDATED: 'partial',
  TIME_OFF_REQUESTED: 'full',
  TIME_OFF_REQUEST_APPROVED: 'full',
  TIME_OFF_REQUEST_REJECTED: 'full',
  TIME_OFF_REQUEST_STARTED: 'full',
  TIME_OFF_REQUEST_UPDATED: 'full',
  TIME_OFF_REQUEST_WITHDRAWN: 'full',
  USERS_INVITED_TO_WORKSPACE: 'partial',
  USER_ACTIVATED_ON_WORKSPACE: 'partial',
  USER_DEACTIVATED_ON_WORKSPACE: 'partial',
  USER_DELETED_FROM_WORKSPACE: 'reference',
  USER_EMAIL_CHANGED: 'partial',
  USER_GROUP_CREATED: 'full',
  USER_GROUP_DELETED: 'reference',
  USER_GROUP_UPDATED: 'full',
  USER_JOINED_WORKSPACE: 'partial',
  USER_UPDATED: 'partial',
} as const satisfies Record<WebhookEventName, BodyKind>;

/** The body kind of every event (see BodyKind). */
export const WEBHOOK_BODY_KINDS: Readonly<Record<WebhookEventName, BodyKind>> = Object.freeze(BODY_KINDS);

export function bodyKindOf(event: WebhookEventName): BodyKind {
  return BODY_KINDS[event];
}

/** Clockify ids are 24 hex characters; anything far longer is not an id worth storing. */
const MAX_ENTITY_ID_LENGTH = 128;

/**
 * The id of the entity an entity event changed, read from the body's `id`.
 *
 * The body's `id` is the *entity* id, never a delivery id: two updates of the same time entry
 * carry the same `id`, so it must not be used to deduplicate deliveries (the delivery key is a
 * hash of workspace, event and raw body). Undefined for events outside ENTITY_EVENTS and for
 * bodies without a usable string `id`.
 */
export function entityIdOf(event: string, body: unknown): string | undefined {
  if (!isEntityEvent(event) || typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ENTITY_ID_LENGTH ? id : undefined;
}
