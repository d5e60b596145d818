import { describe, expect, expectTypeOf, it } from 'vitest';
import { flattenSettingsDocument, type TagPayload, type TimeEntryPayload, type WebhookEventName } from '@cap/clockify';
import { defineAddon, manifestInputOf, type HandlerContext, type RegisteredAddon } from './define.js';
import { handlerFor, settingsView } from './runtime.js';

// These checks run twice: `npm run typecheck` compiles this file (a `@ts-expect-error` that no
// longer finds an error fails it), and vitest runs the assertions below.

const base = { key: 'typed', name: 'Typed', minimalSubscriptionPlan: 'FREE', scopes: ['TAG_READ'] } as const;

describe('defineAddon typing', () => {
  it('types each handler by its event: payload and context', () => {
    defineAddon({
      ...base,
      events: ['NEW_TAG', 'NEW_TIME_ENTRY'],
      handlers: {
        NEW_TAG: (tag, ctx) => {
          expectTypeOf(tag).toEqualTypeOf<TagPayload>();
          expectTypeOf(ctx.event).toEqualTypeOf<'NEW_TAG'>();
          expectTypeOf(ctx).toMatchTypeOf<HandlerContext<'NEW_TAG'>>();
          // A typed payload goes into the mirror as it is.
          expectTypeOf(ctx.mirror.created).toBeCallableWith('tag', 'id', tag);
        },
        NEW_TIME_ENTRY: (entry) => {
          expectTypeOf(entry).toEqualTypeOf<TimeEntryPayload>();
        },
      },
    });
  });

  it('rejects a missing handler, a handler without a subscription and a wrongly typed payload', () => {
    defineAddon({
      ...base,
      events: ['NEW_TAG', 'TAG_UPDATED'],
      // @ts-expect-error TAG_UPDATED is subscribed but has no handler
      handlers: { NEW_TAG: () => undefined },
    });
    defineAddon({
      ...base,
      events: ['NEW_TAG'],
      handlers: {
        NEW_TAG: () => undefined,
        // @ts-expect-error TAG_DELETED has a handler but no subscription
        TAG_DELETED: () => undefined,
      },
    });
    defineAddon({
      ...base,
      events: ['NEW_TAG'],
      handlers: {
        NEW_TAG: (tag) => {
          // Unknown fields pass through, but untyped: a tag is not a time entry.
          // @ts-expect-error `timeInterval` is unknown on a tag
          void tag.timeInterval.start;
        },
      },
    });
    // @ts-expect-error not a Clockify event
    defineAddon({ ...base, events: ['TAG_RENAMED'], handlers: {} });
    expect(true).toBe(true);
  });
});

describe('a registered add-on', () => {
  const small: RegisteredAddon = defineAddon({
    key: 'small-addon',
    name: 'Small',
    minimalSubscriptionPlan: 'FREE',
    scopes: ['TAG_READ'],
    events: ['NEW_TAG'],
    handlers: { NEW_TAG: () => undefined },
    bootstrap: { include: () => true },
  });

  it('finds a handler by event, and none for other events or object keys', () => {
    expect(handlerFor(small, 'NEW_TAG')).toBeTypeOf('function');
    expect(handlerFor(small, 'NEW_INVOICE' satisfies WebhookEventName)).toBeUndefined();
    expect(handlerFor(small, 'toString')).toBeUndefined();
  });

  it('gives the manifest its metadata, scopes and events, and nothing the platform keeps to itself', () => {
    const input = manifestInputOf(small);
    expect(input).toMatchObject({ key: 'small-addon', minimalSubscriptionPlan: 'FREE', scopes: ['TAG_READ'] });
    expect(input.events).toEqual(['NEW_TAG']);
    expect(input).not.toHaveProperty('handlers');
    expect(input).not.toHaveProperty('bootstrap');
  });
});

describe('settingsView (ctx.settings, ctx.setting)', () => {
  const declared = {
    tabs: [
      {
        id: 't',
        name: 'T',
        settings: [
          { id: 'on', name: 'On', type: 'CHECKBOX', value: true, accessLevel: 'ADMINS' },
          { id: 'n', name: 'N', type: 'NUMBER', value: 5, accessLevel: 'ADMINS' },
        ],
        groups: [
          {
            id: 'g',
            title: 'G',
            settings: [
              { id: 'who', name: 'Who', type: 'USER_DROPDOWN_MULTIPLE', value: ['u0'], accessLevel: 'ADMINS' },
            ],
          },
        ],
      },
    ],
  } as const;

  it('reads each declared setting by its type: "false" is false, "12" is 12', () => {
    const view = settingsView(
      [
        { id: 'on', value: 'false' },
        { id: 'n', value: '12' },
        { id: 'who', value: 'u1' },
        { id: 'extra', name: 'Extra', value: 'x' },
      ],
      declared,
    );
    expect(view.setting('on')).toBe(false);
    expect(view.setting('n')).toBe(12);
    expect(view.setting('who')).toEqual(['u1']);
    expect(view.setting('extra')).toBe('x');
    expect(view.settings.map((s) => s.id)).toEqual(['on', 'n', 'who', 'extra']);
  });

  it('falls back to the manifest default for a setting not stored yet or unreadable', () => {
    const view = settingsView([{ id: 'n', value: 'twelve' }], declared);
    expect(view.setting('on')).toBe(true);
    expect(view.setting('n')).toBe(5);
    expect(view.setting('who')).toEqual(['u0']);
    expect(settingsView('not a list', declared).setting('on')).toBe(true);
    expect(settingsView([{ id: 'on', value: 'TRUE' }]).setting('on')).toBe('TRUE');
  });

  it('flattens the settings document Clockify serves', () => {
    expect(
      flattenSettingsDocument({
        tabs: [
          {
            settings: [{ id: 'a', name: 'A', value: 1 }, { name: 'no id' }],
            groups: [{ settings: [{ id: 'b', value: null }] }],
          },
          'junk',
        ],
      }),
    ).toEqual([
      { id: 'a', name: 'A', value: 1 },
      { id: 'b', value: null },
    ]);
    expect(flattenSettingsDocument(null)).toEqual([]);
  });
});
