import { defineAddon } from '@cap/addon';

/**
 * A second, deliberately small add-on: another key, one scope, two events, handlers of its own.
 * Tests run the platform with it instead of the example to show the apps take whatever add-on
 * their entry point hands them.
 */
export const tagLog = defineAddon({
  key: 'tag-log',
  name: 'Tag Log',
  description: 'Keeps the tags of a workspace, and nothing else.',
  minimalSubscriptionPlan: 'FREE',
  scopes: ['TAG_READ'],
  events: ['NEW_TAG', 'TAG_DELETED'],
  handlers: {
    NEW_TAG: (tag, ctx) => {
      ctx.mirror.created('tag', tag.id, { ...tag, loggedBy: 'tag-log' });
    },
    TAG_DELETED: (tag, ctx) => {
      ctx.mirror.deleted('tag', tag.id, tag);
    },
  },
});
