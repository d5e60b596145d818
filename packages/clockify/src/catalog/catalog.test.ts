import { describe, expect, expectTypeOf, it } from 'vitest';
import { readClockifyData } from '../data.js';
import {
  ENTITY_EVENTS,
  WEBHOOK_BODY_KINDS,
  bodyKindOf,
  LIFECYCLE_PATHS,
  LIFECYCLE_TYPES,
  MANIFEST_SCHEMA_VERSIONS,
  SCOPES,
  SUPPORTED_SCHEMA_VERSIONS,
  WEBHOOK_EVENTS,
  WEBHOOK_EVENT_NAMES,
  entityIdOf,
  eventFromRoute,
  eventRoute,
  eventsAllowedIn,
  isEntityEvent,
  isEventAllowedIn,
  isScope,
  isWebhookEventName,
  readScopeFor,
  webhookPath,
  type ManifestSchemaVersion,
  type UnknownWebhookPayload,
  type UserEmailChangedPayload,
  type WebhookPayload,
  type TimeEntryPayload,
} from './index.js';

interface SchemaEnums {
  version: string;
  events: string[];
  scopes: string[];
  lifecycle: string[];
}

function enumsOf(version: ManifestSchemaVersion): SchemaEnums {
  const schema = JSON.parse(readClockifyData(`manifest-schemas/${version}.json`)) as {
    version: string;
    definitions: Record<string, { enum?: string[]; properties?: Record<string, { enum?: string[] }> }>;
  };
  const d = schema.definitions;
  return {
    version: schema.version,
    events: d.webhook?.properties?.event?.enum ?? [],
    scopes: d.scope?.enum ?? [],
    lifecycle: d.lifecycle?.properties?.type?.enum ?? [],
  };
}

const schemas = new Map(MANIFEST_SCHEMA_VERSIONS.map((v) => [v, enumsOf(v)]));
const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('webhook events match the official manifest schemas', () => {
  it('has one schema file per known version, each naming its own version', () => {
    for (const [v, s] of schemas) expect(s.version).toBe(v);
  });

  it('lists exactly the union of every schema’s events: 51, the 1.6 list', () => {
    const union = new Set([...schemas.values()].flatMap((s) => s.events));
    expect(sorted(WEBHOOK_EVENT_NAMES)).toEqual(sorted(union));
    expect(WEBHOOK_EVENT_NAMES).toHaveLength(51);
    expect(sorted(schemas.get('1.6')?.events ?? [])).toEqual(sorted(WEBHOOK_EVENT_NAMES));
  });

  it('gives every event exactly the versions whose schema allows it', () => {
    for (const { name, versions } of WEBHOOK_EVENTS) {
      const expected = MANIFEST_SCHEMA_VERSIONS.filter((v) => schemas.get(v)?.events.includes(name));
      expect({ name, versions: [...versions] }).toEqual({ name, versions: expected });
    }
    for (const v of MANIFEST_SCHEMA_VERSIONS) {
      expect(sorted(eventsAllowedIn(v))).toEqual(sorted(schemas.get(v)?.events ?? []));
    }
  });

  it('keeps the per-version counts REFERENCE.md reports (42, 22, 22, 50, 51)', () => {
    expect(MANIFEST_SCHEMA_VERSIONS.map((v) => eventsAllowedIn(v).length)).toEqual([42, 22, 22, 50, 51]);
  });

  it('rejects TIME_OFF_REQUEST_STARTED for 1.5 and allows it for 1.6', () => {
    expect(isEventAllowedIn('TIME_OFF_REQUEST_STARTED', '1.5')).toBe(false);
    expect(isEventAllowedIn('TIME_OFF_REQUEST_STARTED', '1.6')).toBe(true);
    expect(isEventAllowedIn('PROJECT_UPDATED', '1.3')).toBe(false);
    expect(isEventAllowedIn('NOT_AN_EVENT', '1.6')).toBe(false);
  });

  it('sorts events by name in code-unit order', () => {
    const names = WEBHOOK_EVENTS.map((e) => e.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual([...WEBHOOK_EVENT_NAMES]);
  });

  it('recognises event names exactly', () => {
    expect(isWebhookEventName('NEW_TIME_ENTRY')).toBe(true);
    expect(isWebhookEventName('new_time_entry')).toBe(false);
    expect(isWebhookEventName('TIME_ENTRY_BATCH_DELETED')).toBe(false);
    expect(isWebhookEventName(undefined)).toBe(false);
  });

  it('names the versions it supports and knows', () => {
    expect(SUPPORTED_SCHEMA_VERSIONS).toEqual(['1.5', '1.6']);
    expect(MANIFEST_SCHEMA_VERSIONS).toEqual(['1.2', '1.3', '1.4', '1.5', '1.6']);
  });
});

describe('webhook routes', () => {
  it('maps an event to its lower-case, dashed route and path', () => {
    expect(eventRoute('NEW_TIME_ENTRY')).toBe('new-time-entry');
    expect(webhookPath('NEW_TIME_ENTRY')).toBe('/webhooks/new-time-entry');
    expect(webhookPath('USERS_INVITED_TO_WORKSPACE')).toBe('/webhooks/users-invited-to-workspace');
  });

  it('round-trips every event through its route, with no two events sharing one', () => {
    for (const e of WEBHOOK_EVENT_NAMES) {
      expect(eventFromRoute(eventRoute(e))).toBe(e);
      expect(webhookPath(e)).toBe(`/webhooks/${eventRoute(e)}`);
      expect(eventRoute(e)).toMatch(/^[a-z]+(-[a-z]+)*$/);
    }
    expect(new Set(WEBHOOK_EVENT_NAMES.map(eventRoute)).size).toBe(WEBHOOK_EVENT_NAMES.length);
  });

  it('finds no event for anything but an exact route', () => {
    for (const seg of ['NEW_TIME_ENTRY', 'new_time_entry', 'New-Time-Entry', 'new-time-entry/', '', 'constructor']) {
      expect(eventFromRoute(seg)).toBeUndefined();
    }
  });
});

describe('lifecycle', () => {
  it('covers the four lifecycle types of every schema at the contract paths', () => {
    for (const s of schemas.values()) expect(sorted(s.lifecycle)).toEqual(sorted(LIFECYCLE_TYPES));
    expect(LIFECYCLE_PATHS).toEqual({
      INSTALLED: '/lifecycle/installed',
      DELETED: '/lifecycle/deleted',
      SETTINGS_UPDATED: '/lifecycle/settings-updated',
      STATUS_CHANGED: '/lifecycle/status-changed',
    });
  });
});

describe('scopes', () => {
  it('lists exactly the 30 scopes of every schema version', () => {
    expect(SCOPES).toHaveLength(30);
    for (const s of schemas.values()) expect(sorted(s.scopes)).toEqual(sorted(SCOPES));
  });

  it('maps a WRITE scope to an existing READ scope and a READ scope to itself', () => {
    expect(readScopeFor('PROJECT_WRITE')).toBe('PROJECT_READ');
    expect(readScopeFor('TIME_ENTRY_READ')).toBe('TIME_ENTRY_READ');
    for (const s of SCOPES) expect(isScope(readScopeFor(s))).toBe(true);
    expect(isScope('TIME_ENTRIES_READ')).toBe(false);
  });
});

describe('payloads and entity events', () => {
  it('types mapped events precisely and the rest as an open object', () => {
    expectTypeOf<WebhookPayload<'TIMER_STOPPED'>>().toEqualTypeOf<TimeEntryPayload>();
    expectTypeOf<WebhookPayload<'USER_EMAIL_CHANGED'>>().toEqualTypeOf<UserEmailChangedPayload>();
    expectTypeOf<WebhookPayload<'NEW_INVOICE'>>().toEqualTypeOf<UnknownWebhookPayload>();
  });

  it('lets unknown fields through a typed payload untouched', () => {
    const body: TimeEntryPayload = JSON.parse(
      '{"id":"te1","timeInterval":{"start":"2024-01-01T00:00:00Z","end":null,"duration":null,"offsetStart":0},"brandNew":42}',
    ) as TimeEntryPayload;
    expect(body.brandNew).toBe(42);
    expect(body.timeInterval?.offsetStart).toBe(0);
  });

  it('classifies entity events: creations create, deletes delete, everything else upserts', () => {
    expect(ENTITY_EVENTS.TIME_ENTRY_DELETED).toEqual({ entityType: 'time_entry', op: 'delete' });
    expect(ENTITY_EVENTS.PROJECT_DELETED).toEqual({ entityType: 'project', op: 'delete' });
    expect(ENTITY_EVENTS.USER_DELETED_FROM_WORKSPACE).toEqual({ entityType: 'user', op: 'delete' });
    expect(ENTITY_EVENTS.TIMER_STOPPED).toEqual({ entityType: 'time_entry', op: 'upsert' });
    expect(ENTITY_EVENTS.USER_EMAIL_CHANGED).toEqual({ entityType: 'user', op: 'upsert' });
    expect(ENTITY_EVENTS.NEW_INVOICE).toBeUndefined();
    expect(ENTITY_EVENTS.ASSIGNMENT_CREATED).toBeUndefined();
    const deletes = Object.entries(ENTITY_EVENTS)
      .filter(([, c]) => c?.op === 'delete')
      .map(([e]) => e);
    expect(sorted(deletes)).toEqual(
      sorted([
        'TIME_ENTRY_DELETED',
        'PROJECT_DELETED',
        'CLIENT_DELETED',
        'TAG_DELETED',
        'TASK_DELETED',
        'USER_DELETED_FROM_WORKSPACE',
      ]),
    );
    const creations = Object.entries(ENTITY_EVENTS)
      .filter(([, c]) => c?.op === 'create')
      .map(([e]) => e);
    expect(sorted(creations)).toEqual(
      sorted([
        'NEW_TIME_ENTRY',
        'NEW_TIMER_STARTED',
        'NEW_PROJECT',
        'NEW_CLIENT',
        'NEW_TAG',
        'NEW_TASK',
        'USER_JOINED_WORKSPACE',
      ]),
    );
    for (const e of Object.keys(ENTITY_EVENTS)) expect(isWebhookEventName(e)).toBe(true);
    expect(Object.keys(ENTITY_EVENTS)).toHaveLength(25);
  });

  it('says for every event whether its body is full, partial or a reference', () => {
    expect(Object.keys(WEBHOOK_BODY_KINDS).sort()).toEqual([...WEBHOOK_EVENT_NAMES]);
    // Users arrive short (USER_UPDATED: id, email, name): never a full copy to replace with.
    const userEvents = WEBHOOK_EVENT_NAMES.filter((n) => /^USERS?_/.test(n) && !n.startsWith('USER_GROUP'));
    for (const e of userEvents.filter((n) => !n.includes('DELETED'))) {
      expect(bodyKindOf(e), e).toBe('partial');
    }
    // A deletion names its entity; the mirror keeps the last live data as the tombstone.
    for (const e of WEBHOOK_EVENT_NAMES.filter((n) => n.endsWith('_DELETED') || n === 'USER_DELETED_FROM_WORKSPACE')) {
      expect(bodyKindOf(e), e).toBe('reference');
    }
    // Clockify's example bodies are shorter than the API's list items the bootstrap stores.
    for (const e of [
      'TIME_ENTRY_UPDATED',
      'TIMER_STOPPED',
      'PROJECT_UPDATED',
      'CLIENT_UPDATED',
      'TASK_UPDATED',
    ] as const) {
      expect(bodyKindOf(e), e).toBe('partial');
    }
    expect(bodyKindOf('TAG_UPDATED')).toBe('full');
  });

  it('reads the entity id from the body and nothing else', () => {
    expect(entityIdOf('TIME_ENTRY_UPDATED', { id: '64c777ddd3fcab07cfbb210c', workspaceId: 'w' })).toBe(
      '64c777ddd3fcab07cfbb210c',
    );
    expect(entityIdOf('USER_DELETED_FROM_WORKSPACE', { id: 'u1', email: 'a@b.c', name: 'A' })).toBe('u1');
    expect(entityIdOf('NEW_INVOICE', { id: 'inv1' })).toBeUndefined();
    expect(entityIdOf('NEW_TAG', { name: 'no id' })).toBeUndefined();
    expect(entityIdOf('NEW_TAG', { id: 7 })).toBeUndefined();
    expect(entityIdOf('NEW_TAG', { id: '' })).toBeUndefined();
    expect(entityIdOf('NEW_TAG', { id: 'x'.repeat(500) })).toBeUndefined();
    expect(entityIdOf('NEW_TAG', null)).toBeUndefined();
    expect(entityIdOf('NEW_TAG', ['t1'])).toBeUndefined();
    expect(isEntityEvent('toString')).toBe(false);
  });
});
