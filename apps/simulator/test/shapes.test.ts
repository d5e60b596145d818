import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readClockifyData } from '@cap/clockify';
import { createMockApi, loadOrCreateKeys, signInstallationToken, type MockApi } from '../src/index.js';
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
