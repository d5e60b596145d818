import type { Frame, Page, Request as BrowserRequest } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { API_STUDIO_PATH, API_STUDIO_WRITES_SETTING } from '@cap/addon';
import { signAddonToken } from '@cap/clockify';
import { getInstallation, listApiCalls } from '@cap/db';
import { waitFor } from '@cap/testing';
import { launchChromium, openAt, requireChromium, type Chromium } from '../../../test/chromium.js';
import { startStack, type Stack } from './stack.js';

/**
 * The API Studio page: its calls over HTTP (token kinds, roles, workspaces, writes) and the page
 * itself in headless Chromium, framed by a (mocked) Clockify page.
 */

const CLOCKIFY = 'https://app.clockify.me';
let s: Stack;
let browser: Chromium | undefined;
let addonId: string;
let owner: string;

beforeAll(async () => {
  s = await startStack({
    workspaces: 2,
    sizes: { users: 3, projects: 2, tasksPerProject: 1, tags: 4, clients: 1, entries: 6 },
    workerEnv: { AUTO_BOOTSTRAP: 'false' },
    ingressEnv: { CLOCKIFY_API_ALLOWED_HOSTS: '127.0.0.1' },
  });
  ({ addonId } = await s.installAndWait());
  // The install's follow-ups (settings, webhooks) call the mock too: let them finish first.
  await s.settle();
  owner = s.sim.installation({ workspaceId: s.workspaceId }).asUser;
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

const userToken = () => s.sim.userToken(owner, { workspaceId: s.workspaceId });

/** A user token signed like the simulator's, with the claims given (another workspace, a role, an old `iat`). */
function signedUser(opts: { workspaceId?: string; role?: string; issuedAt?: number } = {}) {
  const inst = s.sim.installation({ workspaceId: s.workspaceId });
  return signAddonToken({
    kind: 'user',
    privateKey: s.sim.keys.privateKey,
    addonKey: inst.addonKey,
    workspaceId: opts.workspaceId ?? s.workspaceId,
    addonId,
    userId: owner,
    environment: { backendUrl: inst.apiUrl, reportsUrl: inst.reportsUrl },
    claims: { workspaceRole: opts.role ?? 'OWNER' },
    ...(opts.issuedAt !== undefined ? { issuedAt: opts.issuedAt } : {}),
  });
}

async function studioCall(token: string | undefined, body: unknown) {
  const res = await fetch(`${s.ingressUrl}${API_STUDIO_PATH}/call`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { 'x-addon-token': token } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { status?: number; error?: { code: string } } };
}

/** Requests the mock answered for the operations these tests call (the install's follow-ups call others). */
const mockRequests = () =>
  ['getTags', 'createNewTag'].reduce(
    (n, operation) => n + s.sim.api!.stats.count({ workspaceId: s.workspaceId, operation }),
    0,
  );

async function setWrites(on: boolean) {
  await s.sim.updateSettings({ [API_STUDIO_WRITES_SETTING]: on }, { workspaceId: s.workspaceId });
  await waitFor(
    async () => {
      const inst = await getInstallation(s.ingress.context.database.db, { workspaceId: s.workspaceId, addonId });
      const stored = (inst?.settings ?? []) as { id: string; value: unknown }[];
      return stored.some((v) => v.id === API_STUDIO_WRITES_SETTING && v.value === on);
    },
    { message: 'the setting stored' },
  );
}

describe('POST /ui/api-studio/call', () => {
  it('is declared in the manifest as a sidebar for admins', async () => {
    const manifest = (await (await fetch(`${s.ingressUrl}/manifest`)).json()) as {
      components: { path: string; accessLevel: string; type: string }[];
    };
    expect(manifest.components).toContainEqual(
      expect.objectContaining({ path: API_STUDIO_PATH, accessLevel: 'ADMINS', type: 'sidebar' }),
    );
  });

  it('serves the page with the sidebar framing, a nonce for its script and no caching; refuses it without a token', async () => {
    const res = await fetch(`${s.ingressUrl}${API_STUDIO_PATH}?auth_token=${await userToken()}`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'self' https://*.clockify.me");
    expect(csp).toMatch(/script-src 'nonce-[^']+'/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('id="api-studio-data"');
    expect(html).not.toContain('installationToken');
    expect((await fetch(`${s.ingressUrl}${API_STUDIO_PATH}`)).status).toBe(401);
    const script = await fetch(`${s.ingressUrl}/assets/api-studio.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it("runs a GET with the viewer's own token and records the viewer", async () => {
    const before = mockRequests();
    const res = await studioCall(await userToken(), { operation: 'getTags' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe(200);
    expect(mockRequests()).toBe(before + 1);
    const [row] = await listApiCalls(s.ingress.context.database.db, { workspaceId: s.workspaceId, limit: 1 });
    expect(row).toMatchObject({ actor_kind: 'user', actor: owner, operation_id: 'getTags', outcome: 'ok' });
  });

  it('refuses a missing, expired or foreign token, a user who is not an admin, and another workspace', async () => {
    const before = mockRequests();
    expect((await studioCall(undefined, { operation: 'getTags' })).body.error?.code).toBe('missing_token');
    // Expired beyond the verifier's 30 s tolerance: the page asks Clockify for a fresh one on this code.
    const expired = await signedUser({ issuedAt: Math.floor(Date.now() / 1000) - 31 * 60 - 45 });
    const old = await studioCall(expired, { operation: 'getTags' });
    expect(old.status).toBe(401);
    expect(old.body.error?.code).toBe('expired');
    const member = await studioCall(await signedUser({ role: 'USER' }), { operation: 'getTags' });
    expect(member.status).toBe(403);
    expect(member.body.error?.code).toBe('forbidden');
    // A genuine token of the second workspace, where the add-on is not installed.
    const otherWorkspace = s.sim.store.workspaceIds()[1]!;
    const foreign = await studioCall(await signedUser({ workspaceId: otherWorkspace }), { operation: 'getTags' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error?.code).toBe('not_installed');
    // The installation token is not a user token.
    const inst = await studioCall(s.sim.installation({ workspaceId: s.workspaceId }).installationToken, {
      operation: 'getTags',
    });
    expect(inst.status).toBe(401);
    expect(mockRequests()).toBe(before);
  });

  it('refuses writes unless the setting allows them, and then only confirmed', async () => {
    const token = await userToken();
    const write = { operation: 'createNewTag', body: { name: 'From API Studio' } };
    const off = await studioCall(token, write);
    expect(off.status).toBe(403);
    expect(off.body.error?.code).toBe('write_not_allowed');
    await setWrites(true);
    try {
      const unconfirmed = await studioCall(token, write);
      expect(unconfirmed.status).toBe(409);
      expect(unconfirmed.body.error?.code).toBe('confirmation_required');
      const confirmed = await studioCall(token, { ...write, confirmWrite: true });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.status).toBe(201);
      expect(s.sim.store.listTags(s.workspaceId).map((t) => t.name)).toContain('From API Studio');
    } finally {
      await setWrites(false);
    }
  });
});

async function studioFrame(page: Page): Promise<Frame> {
  const frame = await waitFor(() => page.frames().find((f) => f.url().includes(API_STUDIO_PATH)), {
    timeoutMs: 10_000,
    message: 'the API Studio iframe',
  });
  await frame.locator('#ops details').first().waitFor({ timeout: 10_000 });
  return frame;
}

async function openStudio(ctx: TestContext, token: string, parentScript = '') {
  const page = await openAt(
    requireChromium(browser, ctx),
    CLOCKIFY,
    `<!doctype html><iframe src="${s.ingressUrl}${API_STUDIO_PATH}?auth_token=${token}" width="800" height="900"></iframe>${parentScript}`,
  );
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // Script errors and CSP violations; an answer of 4xx the page shows is not one.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  return { page, errors, frame: await studioFrame(page) };
}

describe('the API Studio page in headless Chromium', () => {
  it('lists the operations by tag, runs a GET and shows the answer, without page errors', async (ctx) => {
    const { frame, errors } = await openStudio(ctx, await userToken());
    expect(await frame.locator('#ops li').count()).toBeGreaterThan(150);
    expect(await frame.locator('#ops details[data-tag="Tag"]').count()).toBe(1);
    await frame.locator('#filter').fill('gettags');
    expect(await frame.locator('#ops li:not(.hidden)').count()).toBe(1);
    await frame.locator('button[data-op="getTags"]').click();
    await frame.locator('#p-query-archived').selectOption('false');
    await frame.locator('#run').click();
    const status = await frame.locator('#status').textContent({ timeout: 10_000 });
    expect(status).toMatch(/^200 · \d+ ms · audit \d+$/);
    const shown = JSON.parse((await frame.locator('#response').textContent()) ?? '') as { name: string }[];
    expect(shown.map((t) => t.name).sort()).toEqual(
      s.sim.store
        .listTags(s.workspaceId, { archived: false })
        .map((t) => t.name)
        .sort(),
    );
    // A refused call shows the problems the server named.
    await frame.locator('#filter').fill('getproject');
    await frame.locator('button[data-op="getProject"]').click();
    await frame.locator('#run').click();
    expect(await frame.locator('#error').textContent({ timeout: 10_000 })).toContain('projectId: is required');
    expect(errors).toEqual([]);
  });

  it('keeps writes off without the setting', async (ctx) => {
    const { frame, errors } = await openStudio(ctx, await userToken());
    await frame.locator('#filter').fill('createnewtag');
    await frame.locator('button[data-op="createNewTag"]').click();
    expect(await frame.locator('#run').isDisabled()).toBe(true);
    expect(await frame.locator('#writes-off').textContent()).toContain('Allow API Studio writes');
    expect(errors).toEqual([]);
  });

  it('asks Clockify for a fresh token when the call finds it expired, and retries with it', async (ctx) => {
    const fresh = await userToken();
    // The parent answers refreshAddonToken as Clockify does (title/body).
    const parent = `<script>
      window.refreshRequests = 0;
      window.addEventListener('message', (e) => {
        const m = typeof e.data === 'string' ? JSON.parse(e.data) : e.data;
        if (m && m.action === 'refreshAddonToken') {
          window.refreshRequests += 1;
          e.source.postMessage({ title: 'refreshAddonToken', body: ${JSON.stringify(fresh)} }, '*');
        }
      });
    </script>`;
    const { page, frame, errors } = await openStudio(ctx, await userToken(), parent);
    // The first call is answered as if the token had expired meanwhile; later ones go through.
    const seen: string[] = [];
    let first = true;
    await page.route(`${s.ingressUrl}${API_STUDIO_PATH}/call`, async (route) => {
      const req: BrowserRequest = route.request();
      seen.push((await req.allHeaders())['x-addon-token'] ?? '');
      if (first) {
        first = false;
        await route.fulfill({
          status: 401,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'expired', message: 'the token has expired' } }),
        });
      } else await route.continue();
    });
    await frame.locator('#filter').fill('gettags');
    await frame.locator('button[data-op="getTags"]').click();
    await frame.locator('#run').click();
    expect(await frame.locator('#status').textContent({ timeout: 10_000 })).toMatch(/^200 /);
    expect(await page.evaluate(() => (globalThis as unknown as { refreshRequests: number }).refreshRequests)).toBe(1);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(fresh);
    expect(errors).toEqual([]);
  });

  it('tells the user to reopen the page when no fresh token comes', async (ctx) => {
    const { page, frame } = await openStudio(ctx, await userToken());
    await page.route(`${s.ingressUrl}${API_STUDIO_PATH}/call`, (route) =>
      route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'expired', message: 'the token has expired' } }),
      }),
    );
    await frame.locator('#filter').fill('gettags');
    await frame.locator('button[data-op="getTags"]').click();
    await frame.locator('#run').click();
    await frame.locator('#session:not(.hidden)').waitFor({ timeout: 10_000 });
    expect(await frame.locator('#session').textContent()).toContain('open it again');
  });
});
