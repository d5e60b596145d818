import { API_STUDIO_PATH, API_STUDIO_WRITES_SETTING, defineAddon, type HandlerContext } from '@cap/addon';
import { ENTITY_EVENTS, entityIdOf, type WebhookEventName, type WebhookPayload } from '@cap/clockify';

export const MIRROR_TIME_ENTRIES_SETTING = 'mirror-time-entries';

/**
 * Mirrors the entity in a webhook body into `workspace_entities`, in the handler's transaction.
 * Deliveries can overtake each other: a creation never overwrites an existing copy, and deletes
 * leave tombstones so a late UPDATED cannot resurrect a deleted entity. Two updates that arrive
 * out of order cannot be told apart (bodies carry no version); the scheduled reconciliation heals
 * that and anything webhooks missed.
 */
export function mirrorEntity<E extends WebhookEventName>(payload: WebhookPayload<E>, ctx: HandlerContext<E>): void {
  const mapping = ENTITY_EVENTS[ctx.event as keyof typeof ENTITY_EVENTS];
  if (!mapping) {
    ctx.logger.warn({ event: ctx.event }, 'event is not an entity event; nothing to mirror');
    return;
  }
  if (mapping.entityType === 'time_entry' && ctx.setting<boolean>(MIRROR_TIME_ENTRIES_SETTING) === false) {
    ctx.logger.debug({ event: ctx.event }, 'time entries are not mirrored in this workspace (setting)');
    return;
  }
  const body = payload as Record<string, unknown>;
  const entityId = entityIdOf(ctx.event, body);
  if (!entityId) {
    // A body without an id cannot be mirrored; failing would only retry the same body.
    ctx.logger.warn({ event: ctx.event }, 'webhook body has no entity id; skipped');
    return;
  }
  // Applied when the handler returns, with the deliveries committed alongside (see MirrorWrites).
  // A partial body (USER_UPDATED: id, email and name) is merged: it must not erase what it lacks.
  if (mapping.op === 'delete') ctx.mirror.deleted(mapping.entityType, entityId, body);
  else if (mapping.op === 'create') ctx.mirror.created(mapping.entityType, entityId, body);
  else if (ctx.bodyKind === 'partial') ctx.mirror.merged(mapping.entityType, entityId, body);
  else ctx.mirror.updated(mapping.entityType, entityId, body);
}

/**
 * The example add-on, built on the SDK (`@cap/addon`): metadata, the events it subscribes to and
 * one handler per event. The manifest (`npm run manifest`), the ingress routes
 * (`POST /webhooks/<event>`) and the worker's dispatch all follow from it. The apps run whichever
 * add-on their entry point hands them (`main.ts` of each app).
 *
 * The example keeps a live mirror of a workspace: it bootstraps the workspace's data after
 * install and applies webhooks for time entries, timers, projects, clients, tags, tasks and
 * users. Clockify allows 20 webhooks per add-on; this uses all 20.
 */
export const addon = defineAddon({
  key: 'workspace-mirror',
  name: 'Workspace Mirror',
  description:
    'Keeps a live copy of a workspace’s time entries, projects, clients, tags, tasks and users, and shows the sync status in a sidebar.',
  minimalSubscriptionPlan: 'FREE',
  iconPath: '/assets/icon.svg',
  scopes: [
    'WORKSPACE_READ',
    'USER_READ',
    'GROUP_READ',
    'CLIENT_READ',
    'PROJECT_READ',
    'TASK_READ',
    'TAG_READ',
    'CUSTOM_FIELDS_READ',
    'TIME_ENTRY_READ',
  ],
  components: [
    {
      type: 'sidebar',
      accessLevel: 'ADMINS',
      path: '/ui/sidebar',
      label: 'Mirror status',
      iconPath: '/assets/icon.svg',
    },
    // The platform's API Studio (see API_STUDIO_PATH in @cap/addon).
    {
      type: 'sidebar',
      accessLevel: 'ADMINS',
      path: API_STUDIO_PATH,
      label: 'API Studio',
      iconPath: '/assets/icon.svg',
    },
  ],
  settings: {
    tabs: [
      {
        id: 'general',
        name: 'General',
        settings: [
          {
            id: MIRROR_TIME_ENTRIES_SETTING,
            name: 'Mirror time entries',
            description:
              'Keep a copy of time entries and running timers (projects, clients, tags, tasks and users are always mirrored).',
            type: 'CHECKBOX',
            value: true,
            accessLevel: 'ADMINS',
          },
          {
            id: API_STUDIO_WRITES_SETTING,
            name: 'Allow API Studio writes',
            description:
              'Let workspace admins send changes (POST, PUT, PATCH, DELETE) from the API Studio page, each confirmed; off: reads only.',
            type: 'CHECKBOX',
            value: false,
            accessLevel: 'ADMINS',
          },
        ],
      },
    ],
  },
  // The setting above turns time entries off for a workspace: then no run copies them either.
  bootstrap: {
    include: (resource, installation) =>
      resource !== 'time-entries' || installation.setting<boolean>(MIRROR_TIME_ENTRIES_SETTING) !== false,
  },
  events: [
    'NEW_TIME_ENTRY',
    'NEW_TIMER_STARTED',
    'TIMER_STOPPED',
    'TIME_ENTRY_UPDATED',
    'TIME_ENTRY_DELETED',
    'NEW_PROJECT',
    'PROJECT_UPDATED',
    'PROJECT_DELETED',
    'NEW_CLIENT',
    'CLIENT_UPDATED',
    'CLIENT_DELETED',
    'NEW_TAG',
    'TAG_UPDATED',
    'TAG_DELETED',
    'NEW_TASK',
    'TASK_UPDATED',
    'TASK_DELETED',
    'USER_JOINED_WORKSPACE',
    'USER_UPDATED',
    'USER_DELETED_FROM_WORKSPACE',
  ],
  handlers: {
    NEW_TIME_ENTRY: mirrorEntity,
    NEW_TIMER_STARTED: mirrorEntity,
    TIMER_STOPPED: mirrorEntity,
    TIME_ENTRY_UPDATED: mirrorEntity,
    TIME_ENTRY_DELETED: mirrorEntity,
    NEW_PROJECT: mirrorEntity,
    PROJECT_UPDATED: mirrorEntity,
    PROJECT_DELETED: mirrorEntity,
    NEW_CLIENT: mirrorEntity,
    CLIENT_UPDATED: mirrorEntity,
    CLIENT_DELETED: mirrorEntity,
    NEW_TAG: mirrorEntity,
    TAG_UPDATED: mirrorEntity,
    TAG_DELETED: mirrorEntity,
    NEW_TASK: mirrorEntity,
    TASK_UPDATED: mirrorEntity,
    TASK_DELETED: mirrorEntity,
    USER_JOINED_WORKSPACE: mirrorEntity,
    USER_UPDATED: mirrorEntity,
    USER_DELETED_FROM_WORKSPACE: mirrorEntity,
  },
});
