import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readClockifyData, type WebhookEventName } from '@cap/clockify';
import {
  Rng,
  buildWebhookBody,
  createMockApi,
  loadOrCreateKeys,
  signInstallationToken,
  webhookBodyForChange,
  type MockApi,
} from '../src/index.js';
import { tempDataDir } from './helpers.js';

interface Schema {
  type?: string;
  $ref?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
  example?: unknown;
}

const doc = parse(readClockifyData('clockify.official.openapi.yaml')) as {
  paths: Record<
    string,
    Record<
      string,
      { operationId?: string; responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }
    >
  >;
  components: { schemas: Record<string, Schema> };
};

function resolve(s: Schema): Schema {
  return s.$ref ? (doc.components.schemas[s.$ref.split('/').pop() as string] as Schema) : s;
}

/** The entity schema a GET operation answers with (the item schema for lists). */
function responseEntity(operationId: string): Schema {
  for (const item of Object.values(doc.paths)) {
    const op = item.get;
    if (op?.operationId !== operationId) continue;
    const content = op.responses?.['200']?.content ?? {};
    const schema = resolve(Object.values(content)[0]?.schema as Schema);
    return schema.type === 'array' ? resolve(schema.items as Schema) : schema;
  }
  throw new Error(`no GET ${operationId}`);
}

/**
 * What JSON kind a schema property holds. The spec writes enums as "objects" with a string
 * `oneOf`: they are strings on the wire, or lists of them when the example is a list (`features`).
 */
function kindOf(s: Schema): string {
  const r = resolve(s);
  if (r.oneOf?.some((o) => o.type === 'string') && Array.isArray(r.example)) return 'array';
  if (r.oneOf?.some((o) => o.type === 'string')) return 'string';
  if (r.type === 'integer' || r.type === 'number') return 'number';
  return r.type ?? (r.properties ? 'object' : 'unknown');
}

function jsonKind(v: unknown): string {
  return Array.isArray(v) ? 'array' : typeof v;
}

let api: MockApi;
let ws: string;
let token: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const data = await tempDataDir();
  cleanup = data.cleanup;
  const keys = await loadOrCreateKeys(data.dir);
  api = await createMockApi({ publicKey: keys.publicKey, seed: 'shapes', rateLimit: false });
  ws = api.store.workspaceIds()[0] as string;
  token = await signInstallationToken(keys, {
    addonKey: 'k',
    workspaceId: ws,
    addonId: 'c'.repeat(24),
    ownerId: api.store.principals(ws).ownerId,
    apiUrl: api.url,
  });
});

afterAll(async () => {
  await api.close();
  await cleanup();
});

async function get(path: string): Promise<unknown> {
  const res = await fetch(`${api.url}/v1/workspaces/${ws}${path}`, { headers: { 'X-Addon-Token': token } });
  expect(res.status).toBe(200);
  return res.json();
}

describe('entity shapes follow the OpenAPI response schemas', () => {
  const cases: Array<[string, () => Promise<unknown>, readonly string[]]> = [
    ['getWorkspaceOfUser', () => get(''), []],
    ['getUsersOfWorkspace', () => get('/users?include-roles=false&memberships=ALL'), []],
    ['getUserGroups', () => get('/user-groups'), []],
    ['getClients', () => get('/clients'), []],
    // Clockify also sends clientId/clientName (ProjectDtoImplV1).
    ['getProjects', () => get('/projects'), ['clientId', 'clientName']],
    ['getTasks', async () => get(`/projects/${api.store.listProjects(ws)[0]?.id}/tasks`), []],
    ['getTags', () => get('/tags'), []],
    ['ofWorkspace', () => get('/custom-fields'), []],
    ['getTimeEntries', () => get(`/user/${api.store.principals(ws).ownerId}/time-entries`), []],
    ['getInProgressTimeEntries', () => get('/time-entries/status/in-progress'), []],
  ];

  it.each(cases)(
    '%s: every schema field present, no unknown field, JSON kinds as declared',
    async (operationId, fetchIt, extras) => {
      const schema = responseEntity(operationId);
      const props = schema.properties ?? {};
      const result = await fetchIt();
      const entities = (Array.isArray(result) ? result : [result]) as Array<Record<string, unknown>>;
      expect(entities.length).toBeGreaterThan(0);
      for (const entity of entities) {
        expect(Object.keys(entity).sort()).toEqual([...Object.keys(props), ...extras].sort());
        for (const [name, prop] of Object.entries(props)) {
          const value = entity[name];
          if (value === null) continue;
          expect({ field: name, kind: jsonKind(value) }).toEqual({ field: name, kind: kindOf(prop) });
        }
      }
    },
  );
});

/**
 * Webhook bodies carry exactly the keys of Clockify's examples (the table in
 * src/webhooks/bodies.ts): never more, so a platform that relies on a field Clockify does not send
 * fails here and not in production.
 */
describe('webhook bodies have the documented shape', () => {
  const body = (event: WebhookEventName, seed: string = event) =>
    buildWebhookBody(event, { store: api.store, workspaceId: ws, rng: new Rng(seed) });
  const keys = (o: unknown) => Object.keys(o as object).sort();
  const PROFILE = ['email', 'id', 'name', 'profilePicture', 'settings'];
  const TIME_OFF = [
    'balanceDiff',
    'balanceValueAtRequest',
    'createdAt',
    'excludeDays',
    'halfDay',
    'id',
    'negativeBalanceUsed',
    'note',
    'policyId',
    'requesterUserId',
    'status',
    'timeOffPeriod',
    'timeZone',
    'userId',
    'workspaceId',
  ];
  const EXPECTED: Partial<Record<WebhookEventName, string[]>> = {
    USER_UPDATED: ['email', 'id', 'name'],
    USER_DELETED_FROM_WORKSPACE: ['email', 'id', 'name'],
    USER_EMAIL_CHANGED: ['email', 'id', 'name', 'oldEmail'],
    USER_JOINED_WORKSPACE: PROFILE,
    USER_ACTIVATED_ON_WORKSPACE: PROFILE,
    USER_DEACTIVATED_ON_WORKSPACE: PROFILE,
    USERS_INVITED_TO_WORKSPACE: ['invitedUserEmails', 'inviter', 'workspaceId'],
    LIMITED_USERS_ADDED_TO_WORKSPACE: ['invitedUserNames', 'inviter', 'workspaceId'],
    BILLABLE_RATE_UPDATED: ['amount', 'currency', 'modifiedEntity', 'rateChangeSource', 'since', 'workspaceId'],
    COST_RATE_UPDATED: ['amount', 'currency', 'modifiedEntity', 'rateChangeSource', 'since', 'workspaceId'],
    EXPENSE_UPDATED: ['categoryId', 'expenseId', 'projectId', 'userId', 'workspaceId'],
    EXPENSE_DELETED: ['categoryId', 'expenseId', 'projectId', 'userId', 'workspaceId'],
    // prettier-ignore
    EXPENSE_CREATED: ['billable', 'categoryId', 'date', 'fileId', 'id', 'notes', 'projectId', 'quantity', 'taskId', 'total', 'userId', 'workspaceId'],
    // prettier-ignore
    EXPENSE_RESTORED: ['billable', 'categoryId', 'date', 'fileId', 'id', 'locked', 'notes', 'projectId', 'quantity', 'total', 'userId', 'workspaceId'],
    NEW_CLIENT: ['archived', 'id', 'name', 'workspaceId'],
    CLIENT_UPDATED: ['archived', 'id', 'name', 'workspaceId'],
    CLIENT_DELETED: ['archived', 'id', 'name', 'workspaceId'],
    TAG_UPDATED: ['archived', 'id', 'name', 'workspaceId'],
    // prettier-ignore
    TASK_UPDATED: ['assigneeId', 'assigneeIds', 'duration', 'estimate', 'id', 'name', 'projectId', 'status', 'userGroupIds'],
    USER_GROUP_UPDATED: ['id', 'name', 'teamManagers', 'userIds', 'workspaceId'],
    // prettier-ignore
    PROJECT_UPDATED: ['archived', 'billable', 'client', 'clientId', 'clientName', 'color', 'duration', 'estimate', 'hourlyRate', 'id', 'name', 'note', 'public', 'tasks', 'template', 'workspaceId'],
    // prettier-ignore
    TIME_ENTRY_UPDATED: ['billable', 'costRate', 'customFieldValues', 'description', 'hourlyRate', 'id', 'isLocked', 'project', 'projectId', 'tagIds', 'tags', 'task', 'taskId', 'timeInterval', 'user', 'userId', 'workspaceId'],
    NEW_APPROVAL_REQUEST: ['dateRange', 'id', 'owner', 'status', 'workspaceId'],
    APPROVAL_REQUEST_STATUS_UPDATED: ['dateRange', 'id', 'owner', 'status', 'workspaceId'],
    TIME_OFF_REQUESTED: TIME_OFF,
    TIME_OFF_REQUEST_APPROVED: TIME_OFF,
    TIME_OFF_REQUEST_REJECTED: TIME_OFF,
    TIME_OFF_REQUEST_WITHDRAWN: TIME_OFF,
    ASSIGNMENT_PUBLISHED: ['assignmentId', 'projectId', 'userId', 'workspaceId'],
    BALANCE_UPDATED: ['note', 'updatedBy', 'userId', 'value', 'workspaceId'],
    // prettier-ignore
    NEW_INVOICE: ['amount', 'clientAddress', 'clientId', 'clientName', 'currency', 'discount', 'discountAmount', 'dueDate', 'id', 'issuedDate', 'items', 'note', 'number', 'status', 'subject', 'subtotal', 'tax', 'tax2', 'tax2Amount', 'taxAmount', 'userId'],
  };

  it.each(Object.entries(EXPECTED))('%s: exactly the documented keys', (event, expected) => {
    for (const seed of ['a', 'b', 'c']) expect(keys(body(event as WebhookEventName, seed))).toEqual(expected);
  });

  it('PROJECT_*: every task of the project and its client embedded', () => {
    const b = body('PROJECT_UPDATED') as { id: string; clientId: string; tasks: { id: string }[]; client: unknown };
    expect(b.tasks.map((t) => t.id).sort()).toEqual(
      api.store
        .listTasks(ws, b.id)
        .map((t) => t.id)
        .sort(),
    );
    if (b.clientId) expect(b.client).toMatchObject({ id: b.clientId, workspaceId: ws, archived: expect.any(Boolean) });
    else expect(b.client).toBeNull();
    const withClient = api.store.listProjects(ws).find((p) => p.clientId !== '');
    expect(withClient).toBeDefined();
    const change = api.store.updateProject(ws, withClient!.id, { note: 'shape test' });
    expect(webhookBodyForChange(api.store, change)).toMatchObject({
      client: { id: withClient!.clientId, name: withClient!.clientName },
      clientName: withClient!.clientName,
    });
  });

  it('PROJECT_DELETED still lists the tasks the deletion removed', () => {
    const project = api.store.listProjects(ws).find((p) => api.store.listTasks(ws, p.id).length > 0)!;
    const taskIds = api.store
      .listTasks(ws, project.id)
      .map((t) => t.id)
      .sort();
    const b = webhookBodyForChange(api.store, api.store.deleteProject(ws, project.id)) as { tasks: { id: string }[] };
    expect(b.tasks.map((t) => t.id).sort()).toEqual(taskIds);
  });

  it('USER_UPDATED renames the user in the store and sends only id, email and name', () => {
    const user = api.store.listUsers(ws, { status: 'ACTIVE' })[0]!;
    const b = webhookBodyForChange(api.store, api.store.updateUser(ws, user.id, { name: 'Renamed For Shape' }));
    expect(b).toEqual({ id: user.id, email: user.email, name: 'Renamed For Shape' });
    expect(api.store.getUser(ws, user.id).name).toBe('Renamed For Shape');
  });

  it('USERS_INVITED / LIMITED_USERS_ADDED name the inviter and the people added', () => {
    const invited = webhookBodyForChange(api.store, api.store.inviteUsers(ws, ['shape.invitee@example.com']));
    expect(invited).toMatchObject({ workspaceId: ws, invitedUserEmails: ['shape.invitee@example.com'] });
    expect(keys(invited.inviter)).toEqual(PROFILE);
    const limited = webhookBodyForChange(api.store, api.store.addLimitedUsers(ws, ['Shape Limited']));
    expect(limited).toMatchObject({ workspaceId: ws, invitedUserNames: ['Shape Limited'] });
    expect(keys(limited.inviter)).toEqual(['email', 'id', 'name', 'profilePicture']);
  });

  it('rate events carry the membership, the currency and the new amount', () => {
    const user = api.store.listUsers(ws, { status: 'ACTIVE' })[0]!;
    const b = webhookBodyForChange(api.store, api.store.setUserCostRate(ws, user.id, 4200));
    expect(b).toMatchObject({
      workspaceId: ws,
      amount: 4200,
      currency: { id: expect.any(String), code: expect.any(String) },
      modifiedEntity: { userId: user.id, costRate: { amount: 4200 }, targetId: ws, membershipType: 'WORKSPACE' },
    });
  });

  it('scalar details: BALANCE_UPDATED value is a string, the approval owner has `timezone`', () => {
    expect(typeof body('BALANCE_UPDATED').value).toBe('string');
    for (const event of ['NEW_APPROVAL_REQUEST', 'APPROVAL_REQUEST_STATUS_UPDATED'] as const) {
      const owner = body(event).owner as Record<string, unknown>;
      expect(keys(owner)).toEqual(['startOfWeek', 'timezone', 'userId', 'userName']);
    }
    expect(typeof body('EXPENSE_DELETED').expenseId).toBe('string');
    expect('id' in body('EXPENSE_DELETED')).toBe(false);
  });

  it('time entries are hydrated with the short related entities of the samples', () => {
    const b = body('TIMER_STOPPED') as Record<string, unknown>;
    expect('type' in b || 'kioskId' in b).toBe(false);
    if (b.user) expect(keys(b.user)).toEqual(['id', 'name', 'status']);
    for (const t of b.tags as object[]) expect(keys(t)).toEqual(['archived', 'id', 'name', 'workspaceId']);
    if (b.task) expect(b.task).toMatchObject({ workspaceId: ws });
  });
});
