import { describe, expect, it } from 'vitest';
import { WEBHOOK_EVENT_NAMES, type WebhookEventName } from '../catalog/index.js';
import { lintManifestInput, pathProblem, type LintManifestOptions, type ManifestInput } from './index.js';

const cleanInput: ManifestInput = {
  key: 'cap-lint-example',
  name: 'Lint Example',
  minimalSubscriptionPlan: 'STANDARD',
  iconPath: '/assets/icon.png',
  scopes: ['TIME_ENTRY_READ', 'TIME_ENTRY_WRITE', 'PROJECT_READ'],
  components: [{ type: 'sidebar', accessLevel: 'ADMINS', path: '/ui/sidebar', label: 'Lint' }],
  settings: '/ui/settings',
  events: ['NEW_TIME_ENTRY', 'TIMER_STOPPED', 'PROJECT_UPDATED'],
};

function lint(over: Partial<ManifestInput> = {}, opts: Partial<Omit<LintManifestOptions, 'input'>> = {}) {
  const input = { ...cleanInput, ...over };
  return lintManifestInput({ input, handlerEvents: input.events, schemaVersion: '1.6', ...opts });
}

/** Lets a test feed values the types forbid, as a plain-JS add-on definition could. */
const loose = <T>(v: unknown) => v as T;

describe('lintManifestInput', () => {
  it('finds nothing wrong with a clean definition, in 1.5 and 1.6', () => {
    expect(lint()).toEqual({ errors: [], warnings: [] });
    expect(lint({}, { schemaVersion: '1.5' })).toEqual({ errors: [], warnings: [] });
  });

  it('rejects TIME_OFF_REQUEST_STARTED for 1.5 and allows it for 1.6', () => {
    const over = { events: [...cleanInput.events, 'TIME_OFF_REQUEST_STARTED'] as WebhookEventName[] };
    expect(lint(over, { schemaVersion: '1.6' }).errors).toEqual([]);
    const { errors } = lint(over, { schemaVersion: '1.5' });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('event-not-in-version');
    expect(errors[0]?.message).toContain('TIME_OFF_REQUEST_STARTED');
    expect(errors[0]?.message).toContain('1.5');
  });

  it('holds the add-on to 20 webhooks unless told otherwise', () => {
    const events = WEBHOOK_EVENT_NAMES.slice(0, 21);
    const strict = lint({ events });
    expect(strict.errors.map((e) => e.code)).toEqual(['too-many-webhooks']);
    expect(strict.errors[0]?.message).toMatch(/21 events.*at most 20/);
    const relaxed = lint({ events }, { allowMoreThan20Webhooks: true });
    expect(relaxed.errors).toEqual([]);
    expect(relaxed.warnings.map((w) => w.code)).toEqual(['too-many-webhooks']);
    expect(lint({ events: WEBHOOK_EVENT_NAMES.slice(0, 20) }).errors).toEqual([]);
  });

  it('pairs every handler with a subscription and every subscription with a handler', () => {
    const { errors } = lint({}, { handlerEvents: ['NEW_TIME_ENTRY', 'TIMER_STOPPED', 'NEW_TAG'] });
    expect(errors).toHaveLength(2);
    expect(errors).toContainEqual(
      expect.objectContaining({ code: 'handler-without-subscription', message: expect.stringContaining('NEW_TAG') }),
    );
    expect(errors).toContainEqual(
      expect.objectContaining({
        code: 'subscription-without-handler',
        message: expect.stringContaining('PROJECT_UPDATED'),
      }),
    );
  });

  it('reports a duplicate event once', () => {
    const { errors } = lint({
      events: ['NEW_TIME_ENTRY', 'NEW_TIME_ENTRY', 'NEW_TIME_ENTRY', 'TIMER_STOPPED', 'PROJECT_UPDATED'],
    });
    expect(errors).toEqual([{ code: 'event-duplicate', message: expect.stringContaining('NEW_TIME_ENTRY') }]);
  });

  it('names unknown events, whether subscribed or handled', () => {
    const { errors } = lint(
      { events: loose<WebhookEventName[]>([...cleanInput.events, 'TIME_ENTRY_BATCH_DELETED']) },
      { handlerEvents: [...cleanInput.events, 'TIME_ENTRY_BATCH_DELETED', 'new_time_entry'] },
    );
    expect(errors.map((e) => e.code)).toEqual(['event-unknown', 'event-unknown']);
    expect(errors[0]?.message).toContain('"TIME_ENTRY_BATCH_DELETED"');
    expect(errors[1]?.message).toContain('"new_time_entry"');
  });

  it('warns about a WRITE scope without its READ scope', () => {
    const { errors, warnings } = lint({ scopes: ['TIME_ENTRY_READ', 'PROJECT_READ', 'TAG_WRITE'] });
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      { code: 'write-scope-without-read', message: expect.stringMatching(/TAG_WRITE.*TAG_READ/) },
    ]);
  });

  it('rejects unknown and repeated scopes', () => {
    const { errors } = lint({
      scopes: loose(['TIME_ENTRY_READ', 'PROJECT_READ', 'TIME_ENTRIES_READ', 'PROJECT_READ']),
    });
    expect(errors).toEqual([
      { code: 'scope-unknown', message: expect.stringContaining('"TIME_ENTRIES_READ"') },
      { code: 'scope-duplicate', message: expect.stringContaining('PROJECT_READ') },
    ]);
  });

  it('rejects bad component, icon and settings paths, naming the component', () => {
    const { errors } = lint({
      iconPath: 'assets/icon.png',
      settings: '/ui/settings?tab=1',
      components: [
        { type: 'sidebar', accessLevel: 'ADMINS', path: '/ui/sidebar/', label: 'Side' },
        { type: 'widget', accessLevel: 'EVERYONE', path: '/ui/../secret', label: 'W', iconPath: '/my icon.png' },
      ],
    });
    expect(errors.every((e) => e.code === 'path-invalid')).toBe(true);
    const messages = errors.map((e) => e.message);
    expect(messages).toEqual([
      'iconPath "assets/icon.png" must start with "/".',
      'Settings path "/ui/settings?tab=1" must not carry a query string or fragment.',
      'Component 0 (sidebar "Side") path "/ui/sidebar/" must not end with "/".',
      'Component 1 (widget "W") path "/ui/../secret" must not contain "." or ".." segments.',
      'Component 1 (widget "W") iconPath "/my icon.png" must not contain whitespace.',
    ]);
  });

  it('accepts plain paths and refuses the odd ones', () => {
    for (const ok of ['/ui/sidebar', '/a', '/assets/icon-1.2.svg', '/ui/time_entries'])
      expect(pathProblem(ok)).toBeUndefined();
    for (const bad of ['', '/', 'ui', '/a/', '/a b', '/a\tb', '/a?x=1', '/a#x', '/a/../b', '/..', '/a//b', '/./a']) {
      expect(pathProblem(bad)).toBeDefined();
    }
  });

  it('rejects a component type the chosen version does not know', () => {
    const components = [
      { type: 'timeentries.action.uiblocks', accessLevel: 'EVERYONE', path: '/ui/blocks', label: 'Blocks' },
    ] as const;
    expect(lint({ components }).errors).toEqual([]);
    const { errors } = lint({ components }, { schemaVersion: '1.5' });
    expect(errors).toEqual([
      {
        code: 'component-type-not-in-version',
        message:
          'Component 0 (timeentries.action.uiblocks "Blocks"): type "timeentries.action.uiblocks" is not allowed by manifest schema 1.5.',
      },
    ]);
  });

  it('applies the schema’s key and name lengths', () => {
    expect(lint({ key: 'k' }).errors).toEqual([
      { code: 'key-length', message: 'Add-on key must be 2–50 characters long (schema 1.6); got 1 character.' },
    ]);
    expect(lint({ key: 'k'.repeat(51) }).errors.map((e) => e.code)).toEqual(['key-length']);
    expect(lint({ key: 'k'.repeat(50), name: 'n' }).errors).toEqual([]);
    expect(lint({ name: '' }).errors).toEqual([
      { code: 'name-length', message: 'Add-on name must be 1–50 characters long (schema 1.6); got 0 characters.' },
    ]);
    expect(lint({ name: 'n'.repeat(51) }).errors.map((e) => e.code)).toEqual(['name-length']);
  });

  it('refuses a schema version it does not build for', () => {
    const { errors } = lint({}, { schemaVersion: loose('1.3') });
    expect(errors).toEqual([{ code: 'schema-version-unsupported', message: expect.stringContaining('1.5, 1.6') }]);
  });
});
