import { readFile, stat } from 'node:fs/promises';
import { importSPKI, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookPath, type WebhookEventName } from '@cap/clockify';
import { createSimulator, type Simulator } from '../src/index.js';
import { startReceiver, tempDataDir, testManifest } from './helpers.js';

const EVENTS: WebhookEventName[] = ['NEW_TIME_ENTRY', 'TIMER_STOPPED', 'NEW_TAG', 'USER_DELETED_FROM_WORKSPACE'];
const SETTINGS = {
  tabs: [
    {
      id: 'general',
      name: 'General',
      settings: [{ id: 'threshold', name: 'Threshold', accessLevel: 'ADMINS', type: 'NUMBER', value: 8 }],
      groups: [
        {
          id: 'g',
          title: 'Notify',
          settings: [{ id: 'notify', name: 'Notify me', accessLevel: 'EVERYONE', type: 'CHECKBOX', value: true }],
        },
      ],
    },
  ],
};

let sim: Simulator;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let manifest: ReturnType<typeof testManifest>;
let cleanup: () => Promise<void>;
let verifyKey: Awaited<ReturnType<typeof importSPKI>>;

beforeAll(async () => {
  const data = await tempDataDir();
  cleanup = data.cleanup;
  receiver = await startReceiver((r) =>
    r.method === 'GET' && r.path === '/manifest'
      ? { status: 200, body: manifest }
      : { status: 200, body: { ok: true } },
  );
  manifest = testManifest(receiver.url, EVENTS, { settings: SETTINGS });
  sim = await createSimulator({ dataDir: data.dir, seed: 'lifecycle', workspaces: [{}, {}], rateLimit: false });
  // Verify the way the add-on will: from the PEM file the simulator exports.
  verifyKey = await importSPKI(await readFile(sim.publicKeyPath, 'utf8'), 'RS256');
});

afterAll(async () => {
  await sim.close();
  await receiver.close();
  await cleanup();
});

async function verify(token: string): Promise<JWTPayload> {
  return (await jwtVerify(token, verifyKey, { algorithms: ['RS256'], issuer: 'clockify', subject: manifest.key }))
    .payload;
}

function lastTo(path: string) {
  const r = [...receiver.received].reverse().find((x) => x.method === 'POST' && x.path === path);
  if (!r) throw new Error(`nothing was posted to ${path}`);
  return r;
}

describe('install', () => {
  for (const pathStyle of ['relative', 'full'] as const) {
    for (const lifecycleClaims of ['with-workspace', 'without-workspace'] as const) {
      it(`sends INSTALLED with ${pathStyle} webhook paths and a lifecycle token ${lifecycleClaims}`, async () => {
        const workspaceId = sim.store.workspaceIds()[0] as string;
        const result = await sim.install({ ingressUrl: receiver.url, workspaceId, pathStyle, lifecycleClaims });
        expect(result.status).toBe(200);

        const req = lastTo('/lifecycle/installed');
        expect(req.headers['content-type']).toBe('application/json');
        const body = JSON.parse(req.body) as Record<string, unknown> & {
          webhooks: Array<{ path: string; webhookType: string; authToken: string }>;
        };
        const { ownerId, addonUserId } = sim.store.principals(workspaceId);
        expect(Object.keys(body).sort()).toEqual([
          'addonId',
          'addonUserId',
          'apiUrl',
          'asUser',
          'authToken',
          'webhooks',
          'workspaceId',
        ]);
        expect(body).toMatchObject({
          workspaceId,
          asUser: ownerId,
          addonUserId,
          apiUrl: sim.url,
          addonId: expect.stringMatching(/^[0-9a-f]{24}$/),
        });

        // One webhook per manifest entry, each with its own token; no event name in the list.
        expect(body.webhooks).toHaveLength(EVENTS.length);
        expect(body.webhooks.map((w) => w.path)).toEqual(
          EVENTS.map((e) => (pathStyle === 'full' ? `${receiver.url}${webhookPath(e)}` : webhookPath(e))),
        );
        expect(body.webhooks.every((w) => w.webhookType === 'ADDON' && Object.keys(w).length === 3)).toBe(true);
        expect(new Set(body.webhooks.map((w) => w.authToken)).size).toBe(EVENTS.length);

        const installation = await verify(body.authToken as string);
        expect(installation).toMatchObject({
          iss: 'clockify',
          sub: manifest.key,
          type: 'addon',
          workspaceId,
          addonId: body.addonId,
          user: ownerId,
          backendUrl: sim.url,
          reportsUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/reports$/),
        });
        expect(installation.exp).toBeUndefined();

        for (const w of body.webhooks) {
          const claims = await verify(w.authToken);
          expect(claims).toMatchObject({
            iss: 'clockify',
            sub: manifest.key,
            type: 'addon',
            workspaceId,
            addonId: body.addonId,
          });
          expect(claims.backendUrl).toBeUndefined();
          expect(claims.exp).toBeUndefined();
        }

        const lifecycle = await verify(req.headers['x-addon-lifecycle-token'] as string);
        expect(lifecycle).toMatchObject({ iss: 'clockify', sub: manifest.key, type: 'addon' });
        if (lifecycleClaims === 'with-workspace')
          expect(lifecycle).toMatchObject({ workspaceId, addonId: body.addonId });
        else expect(lifecycle.workspaceId === undefined && lifecycle.addonId === undefined).toBe(true);

        // The installation token calls the mock API at apiUrl.
        const ws = await fetch(`${body.apiUrl as string}/v1/workspaces/${workspaceId}`, {
          headers: { 'X-Addon-Token': body.authToken as string },
        });
        expect(ws.status).toBe(200);
      });
    }
  }

  it('fetched the manifest from the ingress like Clockify does', () => {
    expect(receiver.received.some((r) => r.method === 'GET' && r.path === '/manifest')).toBe(true);
  });

  it('revokes the previous tokens on a reinstall', async () => {
    const workspaceId = sim.store.workspaceIds()[0] as string;
    const before = sim.installation({ workspaceId }).installationToken;
    await sim.install({ manifest, workspaceId });
    const after = sim.installation({ workspaceId }).installationToken;
    expect(after).not.toBe(before);
    const call = (t: string) =>
      fetch(`${sim.url}/v1/workspaces/${workspaceId}/tags`, { headers: { 'X-Addon-Token': t } });
    expect((await call(before)).status).toBe(401);
    expect((await call(after)).status).toBe(200);
  });
});

describe('settings, status and uninstall', () => {
  it('sends SETTINGS_UPDATED with every setting as a list of {id, name, value}', async () => {
    const workspaceId = sim.store.workspaceIds()[1] as string;
    await sim.install({ manifest, workspaceId });
    const result = await sim.updateSettings({ threshold: 12 }, { workspaceId });
    expect(result.status).toBe(200);
    const req = lastTo('/lifecycle/settings-updated');
    expect(JSON.parse(req.body)).toEqual({
      workspaceId,
      addonId: sim.installation({ workspaceId }).addonId,
      settings: [
        { id: 'threshold', name: 'Threshold', value: 12 },
        { id: 'notify', name: 'Notify me', value: true },
      ],
    });
    expect(req.headers['x-addon-lifecycle-token']).toEqual(expect.any(String));
  });

  it('serves the stored settings and a user token to the add-on through the API', async () => {
    const workspaceId = sim.store.workspaceIds()[1] as string;
    const inst = sim.installation({ workspaceId });
    const settings = await fetch(`${sim.url}/addon/workspaces/${workspaceId}/settings`, {
      headers: { 'X-Addon-Token': inst.installationToken },
    });
    expect(settings.status).toBe(200);
    expect(JSON.stringify(await settings.json())).toContain('"value":12');

    const users = sim.store.listUsers(workspaceId, { status: 'ACTIVE' });
    const exchanged = await fetch(`${sim.url}/addon/user/${users[1]?.id}/token`, {
      method: 'POST',
      headers: { 'X-Addon-Token': inst.installationToken },
    });
    expect(exchanged.status).toBe(200);
    const userToken = await exchanged.text();
    const claims = await verify(userToken);
    expect(claims).toMatchObject({ user: users[1]?.id, workspaceId, workspaceRole: expect.any(String) });
    expect((claims.exp as number) - (claims.iat as number)).toBe(30 * 60);
  });

  it('sends STATUS_CHANGED ACTIVE|INACTIVE', async () => {
    const workspaceId = sim.store.workspaceIds()[1] as string;
    await sim.setStatus('INACTIVE', { workspaceId });
    expect(JSON.parse(lastTo('/lifecycle/status-changed').body)).toEqual({
      addonId: sim.installation({ workspaceId }).addonId,
      workspaceId,
      status: 'INACTIVE',
    });
    await sim.setStatus('ACTIVE', { workspaceId });
    expect(JSON.parse(lastTo('/lifecycle/status-changed').body)).toMatchObject({ status: 'ACTIVE' });
  });

  it('sends DELETED, then the mock refuses every token of the installation', async () => {
    const workspaceId = sim.store.workspaceIds()[1] as string;
    const inst = sim.installation({ workspaceId });
    const result = await sim.uninstall({ workspaceId });
    expect(result.status).toBe(200);
    expect(JSON.parse(lastTo('/lifecycle/deleted').body)).toEqual({
      addonId: inst.addonId,
      workspaceId,
      asUser: inst.asUser,
    });
    const res = await fetch(`${sim.url}/v1/workspaces/${workspaceId}/tags`, {
      headers: { 'X-Addon-Token': inst.installationToken },
    });
    expect(res.status).toBe(401);
    await expect(sim.sendWebhook('NEW_TAG', { id: 'x' }, { workspaceId })).rejects.toThrow(/no add-on is installed/);
  });
});

describe('keys', () => {
  it('keeps the private key readable by the owner only', async () => {
    if (process.platform === 'win32') return;
    expect((await stat(sim.keys.privateKeyPath)).mode & 0o777).toBe(0o600);
  });
});
