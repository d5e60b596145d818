import { describe, expect, it } from 'vitest';
import { LIFECYCLE_PATHS } from '../catalog/index.js';
import {
  COMPONENT_TYPES,
  ManifestValidationError,
  assertValidManifest,
  buildManifest,
  manifestSchema,
  validateManifest,
  type ManifestInput,
} from './index.js';

const exampleInput: ManifestInput = {
  key: 'cap-time-mirror',
  name: 'Time Mirror',
  description: 'Mirrors time entries, projects and users into your own database.',
  minimalSubscriptionPlan: 'FREE',
  iconPath: '/assets/icon.svg',
  scopes: ['USER_READ', 'TIME_ENTRY_READ', 'PROJECT_READ', 'CLIENT_READ', 'TAG_READ', 'TASK_READ', 'WORKSPACE_READ'],
  components: [
    { label: 'Time Mirror', path: '/ui/sidebar', accessLevel: 'ADMINS', type: 'sidebar', iconPath: '/assets/icon.svg' },
    { type: 'widget', accessLevel: 'EVERYONE', path: '/ui/widget', label: 'Mirror status', width: 30, height: 20 },
  ],
  settings: {
    tabs: [
      {
        id: 'general',
        name: 'General',
        header: { title: 'What the mirror keeps' },
        settings: [
          { id: 'days', name: 'Days of history', type: 'NUMBER', value: 30, accessLevel: 'ADMINS' },
          { id: 'billable-only', name: 'Only billable entries', type: 'CHECKBOX', value: false, accessLevel: 'ADMINS' },
        ],
        groups: [
          {
            id: 'notify',
            title: 'Notifications',
            settings: [
              {
                id: 'channel',
                name: 'Channel',
                type: 'DROPDOWN_SINGLE',
                value: 'email',
                allowedValues: ['email', 'none'],
                accessLevel: 'EVERYONE',
              },
            ],
          },
        ],
      },
    ],
  },
  events: [
    'TIME_ENTRY_UPDATED',
    'NEW_TIME_ENTRY',
    'TIMER_STOPPED',
    'NEW_TIMER_STARTED',
    'TIME_ENTRY_DELETED',
    'NEW_PROJECT',
    'PROJECT_UPDATED',
    'PROJECT_DELETED',
    'USER_JOINED_WORKSPACE',
    'USER_DELETED_FROM_WORKSPACE',
  ],
};

const baseUrl = 'https://addon.example.com/clockify';

describe('buildManifest', () => {
  it('builds a manifest that the official 1.5 and 1.6 schemas accept', () => {
    for (const schemaVersion of ['1.5', '1.6'] as const) {
      const manifest = buildManifest(exampleInput, { baseUrl, schemaVersion });
      expect(manifest.schemaVersion).toBe(schemaVersion);
      expect(validateManifest(manifest, schemaVersion)).toEqual({ valid: true, errors: [] });
      expect(() => assertValidManifest(manifest, schemaVersion)).not.toThrow();
    }
  });

  it('routes all four lifecycle calls and one webhook per event, events sorted', () => {
    const m = buildManifest(exampleInput, { baseUrl });
    expect(m.schemaVersion).toBe('1.6');
    expect(m.lifecycle).toEqual([
      { type: 'INSTALLED', path: LIFECYCLE_PATHS.INSTALLED },
      { type: 'DELETED', path: '/lifecycle/deleted' },
      { type: 'SETTINGS_UPDATED', path: '/lifecycle/settings-updated' },
      { type: 'STATUS_CHANGED', path: '/lifecycle/status-changed' },
    ]);
    expect(m.webhooks.map((w) => w.event)).toEqual([...exampleInput.events].sort());
    expect(m.webhooks).toContainEqual({ event: 'NEW_TIME_ENTRY', path: '/webhooks/new-time-entry' });
    expect(m.webhooks).toContainEqual({
      event: 'USER_DELETED_FROM_WORKSPACE',
      path: '/webhooks/user-deleted-from-workspace',
    });
  });

  it('uses the key override and drops a trailing slash from the base URL', () => {
    const m = buildManifest(exampleInput, { baseUrl: 'http://localhost:8080/', key: 'my-dev-key' });
    expect(m.key).toBe('my-dev-key');
    expect(m.baseUrl).toBe('http://localhost:8080');
    expect(buildManifest(exampleInput, { baseUrl }).key).toBe('cap-time-mirror');
  });

  it('writes the same bytes however the definition orders its keys, events and scopes', () => {
    const shuffled: ManifestInput = {
      events: [...exampleInput.events].reverse(),
      scopes: [...exampleInput.scopes].reverse(),
      settings: exampleInput.settings,
      components: exampleInput.components?.map((c) => Object.fromEntries(Object.entries(c).reverse()) as typeof c),
      iconPath: exampleInput.iconPath,
      minimalSubscriptionPlan: exampleInput.minimalSubscriptionPlan,
      description: exampleInput.description,
      name: exampleInput.name,
      key: exampleInput.key,
    };
    const a = JSON.stringify(buildManifest(exampleInput, { baseUrl }), null, 2);
    const b = JSON.stringify(buildManifest(shuffled, { baseUrl }), null, 2);
    expect(b).toBe(a);
    const m = JSON.parse(a) as Record<string, unknown>;
    expect(Object.keys(m)).toEqual([
      'schemaVersion',
      'key',
      'name',
      'description',
      'baseUrl',
      'minimalSubscriptionPlan',
      'iconPath',
      'scopes',
      'lifecycle',
      'webhooks',
      'components',
      'settings',
    ]);
    expect(m.scopes).toEqual([
      'CLIENT_READ',
      'PROJECT_READ',
      'TAG_READ',
      'TASK_READ',
      'TIME_ENTRY_READ',
      'USER_READ',
      'WORKSPACE_READ',
    ]);
    expect(Object.keys((m.components as object[])[0] ?? {})).toEqual([
      'type',
      'accessLevel',
      'path',
      'label',
      'iconPath',
    ]);
  });

  it('leaves out optional fields that were not given and keeps a self-hosted settings path', () => {
    const m = buildManifest(
      { key: 'k1', name: 'n', minimalSubscriptionPlan: 'PRO', scopes: [], events: [], settings: '/ui/settings' },
      { baseUrl },
    );
    expect('description' in m).toBe(false);
    expect('iconPath' in m).toBe(false);
    expect(m.components).toEqual([]);
    expect(m.settings).toBe('/ui/settings');
    expect(validateManifest(m, '1.6').valid).toBe(true);
  });
});

describe('validateManifest', () => {
  const good = () => JSON.parse(JSON.stringify(buildManifest(exampleInput, { baseUrl }))) as Record<string, unknown>;

  it('reports a bad event at its schema path', () => {
    const m = good();
    (m.webhooks as { event: string }[])[3]!.event = 'TIME_ENTRY_BATCH_DELETED';
    const result = validateManifest(m, '1.6');
    expect(result.valid).toBe(false);
    expect(result.errors).toContainEqual({
      path: '/webhooks/3/event',
      keyword: 'enum',
      message: 'must be equal to one of the allowed values (got "TIME_ENTRY_BATCH_DELETED")',
    });
  });

  it('rejects TIME_OFF_REQUEST_STARTED under 1.5 and accepts it under 1.6', () => {
    const m = buildManifest(
      { ...exampleInput, events: ['TIME_OFF_REQUEST_STARTED'] },
      { baseUrl, schemaVersion: '1.5' },
    );
    expect(validateManifest(m, '1.5').errors.map((e) => e.path)).toEqual(['/webhooks/0/event']);
    expect(validateManifest(m, '1.6').valid).toBe(true);
  });

  it('reports every missing required field and bad value, not only the first', () => {
    const m = good();
    delete m.key;
    delete m.minimalSubscriptionPlan;
    m.baseUrl = 'ftp://example.com';
    (m.components as { accessLevel: string }[])[1]!.accessLevel = 'OWNERS';
    const { valid, errors } = validateManifest(m, '1.6');
    expect(valid).toBe(false);
    expect(errors).toContainEqual({ path: '', keyword: 'required', message: "must have required property 'key'" });
    expect(errors).toContainEqual({
      path: '',
      keyword: 'required',
      message: "must have required property 'minimalSubscriptionPlan'",
    });
    expect(errors.find((e) => e.path === '/baseUrl')?.keyword).toBe('pattern');
    expect(errors.find((e) => e.path === '/components/1/accessLevel')?.message).toContain('"OWNERS"');
  });

  it('applies the version’s own rules: 1.2 requires scopes and caps labels at 25 characters', () => {
    const m = good();
    delete m.scopes;
    (m.components as { label: string }[])[0]!.label = 'A label that is far too long for 1.2';
    expect(validateManifest(m, '1.6').valid).toBe(true);
    const paths = validateManifest(m, '1.2').errors.map((e) => `${e.path} ${e.keyword}`);
    expect(paths).toContain(' required');
    expect(paths).toContain('/components/0/label maxLength');
  });

  it('rejects a setting with an empty value, as Clockify would', () => {
    const m = good();
    const tab = (m.settings as { tabs: { settings: { value: unknown }[] }[] }).tabs[0]!;
    tab.settings[0]!.value = '';
    expect(validateManifest(m, '1.6').errors.map((e) => e.path)).toContain('/settings/tabs/0/settings/0/value');
  });

  it('throws a ManifestValidationError listing every path and message', () => {
    const m = good();
    delete m.name;
    (m.webhooks as { event: string }[])[0]!.event = 'NOPE';
    let caught: unknown;
    try {
      assertValidManifest(m, '1.5');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ManifestValidationError);
    const err = caught as ManifestValidationError;
    expect(err.version).toBe('1.5');
    expect(err.errors.length).toBeGreaterThanOrEqual(2);
    expect(err.message).toContain("(root): must have required property 'name'");
    expect(err.message).toContain('/webhooks/0/event: must be equal to one of the allowed values (got "NOPE")');
  });

  it('rejects what is not a manifest at all', () => {
    expect(validateManifest(null, '1.6').errors).toEqual([
      { path: '', keyword: 'type', message: 'must be object (got null)' },
    ]);
  });
});

describe('component types', () => {
  it('match the 1.6 schema', () => {
    expect([...COMPONENT_TYPES].sort()).toEqual(
      [...manifestSchema('1.6').definitions.component.properties.type.enum].sort(),
    );
  });
});
