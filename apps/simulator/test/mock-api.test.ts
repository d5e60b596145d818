import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAddonToken } from '@cap/clockify';
import {
  createMockApi,
  InstallationRegistry,
  loadOrCreateKeys,
  signInstallationToken,
  signWebhookToken,
  type MockApi,
  type SimulatorKeys,
} from '../src/index.js';
import { tempDataDir } from './helpers.js';

let api: MockApi;
let keys: SimulatorKeys;
let ws: string;
let otherWs: string;
let token: string;
const registry = new InstallationRegistry();
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const data = await tempDataDir();
  cleanup = data.cleanup;
  keys = await loadOrCreateKeys(data.dir);
  api = await createMockApi({
    publicKey: keys.publicKey,
    installations: registry,
    seed: 'mock-api-test',
    rateLimit: false,
    workspaces: [
      { sizes: { users: 12, projects: 7, tasksPerProject: 4, tags: 23, clients: 3, entries: 300, runningTimers: 2 } },
      {},
    ],
  });
  [ws, otherWs] = api.store.workspaceIds() as [string, string];
  token = await installationToken(ws);
});

afterAll(async () => {
  await api.close();
  await cleanup();
});

function installationToken(workspaceId: string): Promise<string> {
  return signInstallationToken(keys, {
    addonKey: 'k',
    workspaceId,
    addonId: 'a'.repeat(24),
    ownerId: api.store.principals(workspaceId).ownerId,
    apiUrl: api.url,
  });
}

async function get(path: string, headers: Record<string, string> = { 'X-Addon-Token': token }) {
  const res = await fetch(`${api.url}${path}`, { headers });
  const text = await res.text();
  return {
    status: res.status,
    lastPage: res.headers.get('last-page'),
    retryAfter: res.headers.get('retry-after'),
    body: text ? (JSON.parse(text) as unknown) : undefined,
  };
}

describe('paging', () => {
  it('pages tags exactly like Clockify: 1-based page, page-size, plain arrays and Last-Page', async () => {
    const all = api.store.listTags(ws);
    expect(all).toHaveLength(23);
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const r = await get(`/v1/workspaces/${ws}/tags?page=${page}&page-size=10`);
      expect(r.status).toBe(200);
      expect(Array.isArray(r.body)).toBe(true);
      const items = r.body as Array<{ id: string }>;
      expect(items).toHaveLength(page < 3 ? 10 : 3);
      expect(r.lastPage).toBe(page < 3 ? 'false' : 'true');
      seen.push(...items.map((t) => t.id));
    }
    expect(seen).toEqual(all.map((t) => t.id));
    expect(new Set(seen).size).toBe(23);
  });

  it('defaults to page 1 of 50 and says Last-Page true when everything fits', async () => {
    const r = await get(`/v1/workspaces/${ws}/tags`);
    expect((r.body as unknown[]).length).toBe(23);
    expect(r.lastPage).toBe('true');
  });

  it('answers an empty last page past the end, and Last-Page true on an exact fit', async () => {
    const past = await get(`/v1/workspaces/${ws}/tags?page=9&page-size=10`);
    expect(past.body).toEqual([]);
    expect(past.lastPage).toBe('true');
    const exact = await get(`/v1/workspaces/${ws}/tags?page=1&page-size=23`);
    expect((exact.body as unknown[]).length).toBe(23);
    expect(exact.lastPage).toBe('true');
  });

  it('orders pages deterministically (the same request gives the same page)', async () => {
    const a = await get(`/v1/workspaces/${ws}/projects?page=2&page-size=3`);
    const b = await get(`/v1/workspaces/${ws}/projects?page=2&page-size=3`);
    expect(a.body).toEqual(b.body);
    expect((a.body as unknown[]).length).toBe(3);
  });

  it('ignores paging on operations that do not declare it (custom fields) and sends no Last-Page', async () => {
    const r = await get(`/v1/workspaces/${ws}/custom-fields?page=2&page-size=1`);
    expect(r.status).toBe(200);
    expect((r.body as unknown[]).length).toBe(api.store.listCustomFields(ws).length);
    expect((r.body as unknown[]).length).toBeGreaterThan(1);
    expect(r.lastPage).toBeNull();
  });

  it('pages the in-progress timers with their own default page size', async () => {
    const r = await get(`/v1/workspaces/${ws}/time-entries/status/in-progress`);
    expect(r.status).toBe(200);
    expect((r.body as Array<{ timeInterval: { end: null } }>).every((e) => e.timeInterval.end === null)).toBe(true);
    expect((r.body as unknown[]).length).toBe(2);
    expect((await get(`/v1/workspaces/${ws}/time-entries/status/in-progress?page-size=1001`)).status).toBe(400);
  });
});

describe('operations and parameters', () => {
  it('answers 404 {message, code} for an operation the spec does not have', async () => {
    const r = await get(`/v1/workspaces/${ws}/no-such-thing`);
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ code: 404, message: expect.stringContaining('No operation GET') });
    expect((await get('/v2/whatever')).status).toBe(404);
    const wrongMethod = await fetch(`${api.url}/v1/workspaces/${ws}/tags`, {
      method: 'PATCH',
      headers: { 'X-Addon-Token': token },
    });
    expect(wrongMethod.status).toBe(404);
  });

  it('answers 400 with code 501 when the required include-roles is missing', async () => {
    const r = await get(`/v1/workspaces/${ws}/users`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 501, message: expect.stringContaining("'include-roles'") });
  });

  it('answers 400 for a value outside a declared enum and for a malformed integer', async () => {
    const badEnum = await get(`/v1/workspaces/${ws}/users?include-roles=false&status=SLEEPING`);
    expect(badEnum.status).toBe(400);
    expect(badEnum.body).toMatchObject({ code: 501, message: expect.stringContaining('status') });
    expect((await get(`/v1/workspaces/${ws}/tags?page-size=ten`)).status).toBe(400);
    expect((await get(`/v1/workspaces/${ws}/tags?page-size=0`)).status).toBe(400);
  });

  it('answers 501 for a recognized operation the simulator does not implement', async () => {
    const r = await get(`/v1/workspaces/${ws}/expenses`);
    expect(r.status).toBe(501);
    expect(r.body).toMatchObject({ code: 501, message: expect.stringContaining('getExpenses') });
  });

  it('serves the workspace, users by status (including ALL), groups, clients, projects and tasks', async () => {
    const workspace = await get(`/v1/workspaces/${ws}`);
    expect(workspace.body).toMatchObject({ id: ws, name: expect.any(String), memberships: expect.any(Array) });

    const all = (
      await get(
        `/v1/workspaces/${ws}/users?include-roles=false&status=ALL&memberships=WORKSPACE&account-statuses=ACTIVE,PENDING_EMAIL_VERIFICATION,NOT_REGISTERED,LIMITED`,
      )
    ).body as Array<{
      id: string;
      memberships: Array<{ membershipStatus: string }>;
    }>;
    expect(all).toHaveLength(12);
    const statuses = new Set(all.map((u) => u.memberships[0]?.membershipStatus));
    expect(statuses.has('ACTIVE') && statuses.has('PENDING') && statuses.has('INACTIVE')).toBe(true);
    const pending = (await get(`/v1/workspaces/${ws}/users?include-roles=false&status=PENDING&memberships=WORKSPACE`))
      .body as typeof all;
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((u) => u.memberships[0]?.membershipStatus === 'PENDING')).toBe(true);
    for (const u of all) expect(u.id).toMatch(/^[0-9a-f]{24}$/);

    expect(((await get(`/v1/workspaces/${ws}/user-groups`)).body as unknown[]).length).toBeGreaterThan(0);
    expect(((await get(`/v1/workspaces/${ws}/clients`)).body as unknown[]).length).toBe(3);
    const projects = (await get(`/v1/workspaces/${ws}/projects`)).body as Array<{ id: string; workspaceId: string }>;
    expect(projects).toHaveLength(7);
    const tasks = await get(`/v1/workspaces/${ws}/projects/${projects[0]?.id}/tasks?page-size=3`);
    expect(tasks.body).toHaveLength(3);
    expect(tasks.lastPage).toBe('false');
  });

  it('filters a user’s time entries by start, end and in-progress, newest first', async () => {
    const owner = api.store.principals(ws).ownerId;
    const everything = api.store.listTimeEntries(ws, owner);
    expect(everything.length).toBeGreaterThan(10);
    const middle = everything[Math.floor(everything.length / 2)]?.timeInterval.start as string;
    const r = await get(`/v1/workspaces/${ws}/user/${owner}/time-entries?start=${middle}&page-size=5000`);
    const entries = r.body as Array<{ timeInterval: { start: string } }>;
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.timeInterval.start >= middle)).toBe(true);
    const starts = entries.map((e) => e.timeInterval.start);
    expect([...starts].sort().reverse()).toEqual(starts);
    const before = (await get(`/v1/workspaces/${ws}/user/${owner}/time-entries?end=${middle}&page-size=5000`))
      .body as typeof entries;
    expect(before.every((e) => e.timeInterval.start <= middle)).toBe(true);
    expect((await get(`/v1/workspaces/${ws}/user/${owner}/time-entries?start=yesterday`)).status).toBe(400);

    const running = (await get(`/v1/workspaces/${ws}/user/${owner}/time-entries?in-progress=true`)).body as Array<{
      id: string;
      timeInterval: { end: null };
    }>;
    expect(running).toHaveLength(1);
    const single = await get(`/v1/workspaces/${ws}/time-entries/${running[0]?.id}?hydrated=true`);
    expect(single.body).toMatchObject({
      id: running[0]?.id,
      workspaceId: ws,
      userId: owner,
      timeInterval: { end: null, duration: null },
      user: { id: owner },
    });
  });
});

describe('authentication', () => {
  it('answers 401 without a token, with a token of another key, and with a webhook token', async () => {
    expect((await get(`/v1/workspaces/${ws}/tags`, {})).status).toBe(401);
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = await signAddonToken({
      kind: 'installation',
      privateKey: stranger,
      addonKey: 'k',
      workspaceId: ws,
      userId: 'u',
      environment: { backendUrl: api.url },
    });
    expect((await get(`/v1/workspaces/${ws}/tags`, { 'X-Addon-Token': forged })).status).toBe(401);
    expect((await get(`/v1/workspaces/${ws}/tags`, { 'X-Addon-Token': 'not-a-jwt' })).status).toBe(401);
    const webhookToken = await signWebhookToken(keys, { addonKey: 'k', workspaceId: ws, addonId: 'a'.repeat(24) });
    expect((await get(`/v1/workspaces/${ws}/tags`, { 'X-Addon-Token': webhookToken })).status).toBe(401);
  });

  it('answers 403 to a valid token used on another workspace', async () => {
    const r = await get(`/v1/workspaces/${otherWs}/tags`);
    expect(r.status).toBe(403);
    expect(
      (await get(`/v1/workspaces/${otherWs}/tags`, { 'X-Addon-Token': await installationToken(otherWs) })).status,
    ).toBe(200);
  });

  it('answers 401 to a revoked token', async () => {
    const doomed = await installationToken(ws);
    expect((await get(`/v1/workspaces/${ws}/tags`, { 'X-Addon-Token': doomed })).status).toBe(200);
    registry.revoke([doomed]);
    expect((await get(`/v1/workspaces/${ws}/tags`, { 'X-Addon-Token': doomed })).status).toBe(401);
    expect((await get(`/v1/workspaces/${ws}/tags`)).status).toBe(200);
  });
});

describe('faults and stats', () => {
  it('fails the next N requests of an operation, forbids an operation, and clears', async () => {
    const set = await fetch(`${api.origin}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ operation: 'getClients', failNext: 2 }),
    });
    expect(set.status).toBe(200);
    expect((await get(`/v1/workspaces/${ws}/clients`)).status).toBe(500);
    expect((await get(`/v1/workspaces/${ws}/clients`)).status).toBe(500);
    expect((await get(`/v1/workspaces/${ws}/clients`)).status).toBe(200);

    api.faults.set('getTags', { forbid: true });
    const forbidden = await get(`/v1/workspaces/${ws}/tags`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ message: expect.stringContaining('does not have permission TAG_READ') });
    await fetch(`${api.origin}/_sim/faults`, { method: 'DELETE' });
    expect((await get(`/v1/workspaces/${ws}/tags`)).status).toBe(200);

    const bad = await fetch(`${api.origin}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ operation: 'noSuchOp', failNext: 1 }),
    });
    expect(bad.status).toBe(400);
  });

  it('counts requests per workspace, operation and status, and resets', async () => {
    await fetch(`${api.origin}/_sim/reset-stats`, { method: 'POST' });
    await get(`/v1/workspaces/${ws}/tags`);
    await get(`/v1/workspaces/${ws}/tags`);
    await get(`/v1/workspaces/${ws}/users`);
    await get(`/v1/workspaces/${otherWs}/tags`);
    const stats = (await (await fetch(`${api.origin}/_sim/stats`)).json()) as {
      total: number;
      byStatus: Record<string, number>;
      byWorkspace: Record<
        string,
        { total: number; byOperation: Record<string, number>; byStatus: Record<string, number> }
      >;
    };
    expect(stats.total).toBe(4);
    expect(stats.byWorkspace[ws]).toMatchObject({
      total: 3,
      byOperation: { getTags: 2, getUsersOfWorkspace: 1 },
      byStatus: { '200': 2, '400': 1 },
    });
    expect(stats.byWorkspace[otherWs]).toMatchObject({ total: 1, byStatus: { '403': 1 } });
    expect(api.stats.count({ workspaceId: ws, operation: 'getTags' })).toBe(2);
  });
});

describe('headers Clockify may leave out', () => {
  it('by default omits Last-Page on a fixed set of lists (users, projects, timers) and keeps it elsewhere', async () => {
    for (const path of ['/users?include-roles=false', '/projects?page-size=3', '/time-entries/status/in-progress']) {
      const r = await get(`/v1/workspaces/${ws}${path}`);
      expect(r.status, path).toBe(200);
      expect(r.lastPage, path).toBeNull();
    }
    expect((await get(`/v1/workspaces/${ws}/tags`)).lastPage).toBe('true');
    expect((await get(`/v1/workspaces/${ws}/clients`)).lastPage).toBe('true');
  });

  it('lastPageHeader: always, never, or the operations that omit it', async () => {
    for (const [mode, tags, users] of [
      ['always', 'true', 'true'],
      ['never', null, null],
      [['getTags'], null, 'true'],
    ] as const) {
      const other = await createMockApi({
        publicKey: keys.publicKey,
        seed: 'mock-api-test',
        rateLimit: false,
        lastPageHeader: mode,
      });
      try {
        const otherToken = await signInstallationToken(keys, {
          addonKey: 'k',
          workspaceId: other.store.workspaceIds()[0]!,
          addonId: 'a'.repeat(24),
          ownerId: other.store.principals(other.store.workspaceIds()[0]!).ownerId,
          apiUrl: other.url,
        });
        const at = (path: string) =>
          fetch(`${other.url}/v1/workspaces/${other.store.workspaceIds()[0]}${path}`, {
            headers: { 'X-Addon-Token': otherToken },
          });
        expect((await at('/tags')).headers.get('last-page'), String(mode)).toBe(tags);
        expect((await at('/users?include-roles=false')).headers.get('last-page'), String(mode)).toBe(users);
      } finally {
        await other.close();
      }
    }
  });

  it('retryAfterOn429: alternate (default) leaves Retry-After off every second 429; always and never', async () => {
    const seen: Record<string, (string | null)[]> = {};
    for (const mode of [undefined, 'always', 'never'] as const) {
      // One request per minute: every request after the first is a 429, in a fixed order.
      const other = await createMockApi({
        publicKey: keys.publicKey,
        seed: 'mock-api-test',
        rateLimit: { limit: 1, windowMs: 60_000 },
        ...(mode ? { retryAfterOn429: mode } : {}),
      });
      try {
        const w = other.store.workspaceIds()[0]!;
        const otherToken = await signInstallationToken(keys, {
          addonKey: 'k',
          workspaceId: w,
          addonId: 'a'.repeat(24),
          ownerId: other.store.principals(w).ownerId,
          apiUrl: other.url,
        });
        const statuses: number[] = [];
        const headers: (string | null)[] = [];
        for (let i = 0; i < 5; i++) {
          const res = await fetch(`${other.url}/v1/workspaces/${w}/tags`, { headers: { 'X-Addon-Token': otherToken } });
          statuses.push(res.status);
          if (res.status === 429) headers.push(res.headers.get('retry-after'));
        }
        expect(statuses).toEqual([200, 429, 429, 429, 429]);
        seen[mode ?? 'alternate'] = headers;
      } finally {
        await other.close();
      }
    }
    expect(seen.alternate!.map((h) => h !== null)).toEqual([true, false, true, false]);
    expect(seen.always!.every((h) => h !== null && Number(h) >= 1)).toBe(true);
    expect(seen.never).toEqual([null, null, null, null]);
  });
});
