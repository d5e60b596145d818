import { defineAddon } from '@cap/addon';
import { MIRROR_TIME_ENTRIES_SETTING, mirrorEntity } from './mirror.js';

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
