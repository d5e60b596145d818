import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { addon } from '@cap/workspace-mirror';
import { eventRoute } from '@cap/clockify';
import { JOBS, parsePayload, type LifecyclePayload } from '@cap/queue';
import { TOKEN_COLUMNS } from '@cap/secrets';
import {
  NO_JOBS,
  allJobs,
  expectError,
  jobCounts,
  redisContents,
  sha256,
  startTestIngress,
  type TestIngress,
} from './helpers.js';

const BASE_URL = 'https://mirror.example.test/cap';
const ADDON_ID = 'addon-life';

let t: TestIngress;
beforeAll(async () => {
  t = await startTestIngress({ BASE_URL });
});
afterAll(async () => {
  await t?.close();
});

type LifecycleKind = 'installed' | 'deleted' | 'settings-updated' | 'status-changed';

async function post(kind: LifecycleKind, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.url}/lifecycle/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function lifecycleHeader(claims?: { workspaceId?: string; addonId?: string }): Promise<Record<string, string>> {
  return { 'x-addon-lifecycle-token': await t.lifecycleToken(claims) };
}

async function lastJob(): Promise<{ id: string; name: string; data: LifecyclePayload }> {
  const jobs = await allJobs(t.queues.lifecycle);
  const job = jobs.sort((a, b) => (b.data as LifecyclePayload).seq - (a.data as LifecyclePayload).seq)[0]!;
  return { id: job.id!, name: job.name, data: job.data as LifecyclePayload };
}

/** An INSTALLED body as Clockify sends it (REFERENCE.md §2.6), with the tokens it carries. */
async function installedBody(workspaceId: string, pathStyle: (event: string, i: number) => string) {
  const authToken = await t.installationToken(workspaceId, ADDON_ID);
  const webhookTokens = new Map<string, string>();
  const webhooks = [];
  for (const [i, event] of addon.events.entries()) {
    const token = await t.webhookToken(workspaceId, ADDON_ID);
    webhookTokens.set(event, token);
    webhooks.push({ path: pathStyle(eventRoute(event), i), webhookType: 'ADDON', authToken: token });
  }
  return {
    body: {
      addonId: ADDON_ID,
      authToken,
      workspaceId,
      asUser: 'u-owner',
      apiUrl: 'https://euc1.clockify.me/api',
      addonUserId: 'u-addon-bot',
      webhooks,
    },
    authToken,
    webhookTokens,
  };
}

describe('POST /lifecycle/installed', () => {
  it('queues one job whose every token is a ciphertext, mapping relative and full-URL webhook paths to their events', async () => {
    // Clockify's example sends full URLs in `path`; relative paths must work as well.
    const styles = [
      (route: string) => `/webhooks/${route}`,
      (route: string) => `${BASE_URL}/webhooks/${route}`,
      (route: string) => `/cap/webhooks/${route}`,
      (route: string) => `webhooks/${route}`,
    ];
    const { body, authToken, webhookTokens } = await installedBody('ws-install', (route, i) =>
      styles[i % styles.length]!(route),
    );
    // One path that points at no subscribed event (e.g. added in a later add-on version).
    const strayToken = await t.webhookToken('ws-install', ADDON_ID);
    body.webhooks.push({
      path: `${BASE_URL}/webhooks/approval-request-status-updated`,
      webhookType: 'ADDON',
      authToken: strayToken,
    });

    const res = await post('installed', body, await lifecycleHeader());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true });

    const jobs = await allJobs(t.queues.lifecycle);
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.name).toBe('lifecycle.installed');
    const payload = parsePayload(JOBS.lifecycleInstalled, job.data);
    expect(payload.type).toBe('INSTALLED');
    expect(payload).toMatchObject({ v: 1, workspaceId: 'ws-install', addonId: ADDON_ID, verified: true });
    expect(payload.body).toMatchObject({
      addonId: ADDON_ID,
      workspaceId: 'ws-install',
      asUser: 'u-owner',
      apiUrl: 'https://euc1.clockify.me/api',
      addonUserId: 'u-addon-bot',
      backendUrl: 'https://api.clockify.me/api',
      reportsUrl: 'https://reports.api.clockify.me',
    });
    const place = { workspaceId: 'ws-install', addonId: ADDON_ID };
    expect(
      t.ingress.context.keyring.decrypt(payload.body.authTokenEnc, {
        ...place,
        column: TOKEN_COLUMNS.installationToken,
      }),
    ).toBe(authToken);
    expect(payload.body.authTokenEnc).toMatch(/^enc:v2:/);
    // Bound to its place: the same ciphertext does not decrypt as another installation's token.
    expect(() =>
      t.ingress.context.keyring.decrypt(payload.body.authTokenEnc, {
        workspaceId: 'ws-other',
        addonId: ADDON_ID,
        column: TOKEN_COLUMNS.installationToken,
      }),
    ).toThrow(/authentication failed/);

    expect(payload.body.webhooks).toHaveLength(20);
    for (const event of addon.events) {
      const entry = payload.body.webhooks.find((w) => w.event === event);
      expect(entry, event).toBeDefined();
      expect(entry!.webhookType).toBe('ADDON');
      expect(entry!.authTokenEnc).toMatch(/^enc:v2:/);
      expect(
        t.ingress.context.keyring.decrypt(entry!.authTokenEnc, { ...place, column: TOKEN_COLUMNS.webhookToken(event) }),
      ).toBe(webhookTokens.get(event));
      expect(entry!.tokenHash).toBe(sha256(webhookTokens.get(event)!));
    }
    // The stray path is not stored (its deliveries could never be matched) but reported.
    expect(payload.body.skippedWebhooks).toEqual([
      { index: 20, path: `${BASE_URL}/webhooks/approval-request-status-updated`, reason: 'unknown_path' },
    ]);
    expect(t.logs.join('\n')).toContain('webhooks that were skipped');

    // The raw job hash in Redis, and everything else under the prefix, holds no plaintext token.
    const redis = new Redis(t.config.REDIS_URL);
    try {
      const hash = await redis.hgetall(`${t.prefix}:lifecycle:${job.id}`);
      expect(hash.data).toBeDefined();
      const raw = Object.values(hash).join('\n');
      expect(raw).toContain('enc:v2:');
      for (const token of [authToken, strayToken, ...webhookTokens.values()]) {
        expect(raw).not.toContain(token);
        expect(raw).not.toContain(token.split('.')[2]);
      }
    } finally {
      redis.disconnect();
    }
    const everything = await redisContents(t.config.REDIS_URL, t.prefix);
    for (const token of [authToken, strayToken, ...webhookTokens.values()])
      expect(everything).not.toContain(token.split('.')[2]);
    const logs = t.logs.join('\n');
    for (const token of [authToken, strayToken, ...webhookTokens.values()])
      expect(logs).not.toContain(token.split('.')[2]);
    expect(t.queries).toEqual([]);
    await t.queues.lifecycle.obliterate({ force: true });
  });

  it('refuses an installation token or webhook token of another workspace (403) and a forged one (401)', async () => {
    const { body } = await installedBody('ws-forge', (route) => `/webhooks/${route}`);
    await expectError(
      await post(
        'installed',
        { ...body, authToken: await t.installationToken('ws-elsewhere', ADDON_ID) },
        await lifecycleHeader(),
      ),
      403,
      'workspace_mismatch',
    );
    await expectError(
      await post(
        'installed',
        { ...body, authToken: await t.installationToken('ws-forge', 'addon-other') },
        await lifecycleHeader(),
      ),
      403,
      'addon_mismatch',
    );
    // A token without the installation token's claims (backendUrl, user) is of another kind.
    await expectError(
      await post('installed', { ...body, authToken: await t.lifecycleToken() }, await lifecycleHeader()),
      401,
      'wrong_kind',
    );
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('skips a webhook whose token fails and records why; the rest of the install proceeds', async () => {
    const { body, webhookTokens } = await installedBody('ws-skip', (route) => `/webhooks/${route}`);
    const webhooks: unknown[] = [...body.webhooks];
    webhooks[3] = { ...body.webhooks[3]!, authToken: await t.webhookToken('ws-elsewhere', ADDON_ID) };
    webhooks[4] = { ...body.webhooks[4]!, authToken: `${body.authToken.slice(0, -4)}AAAA` };
    webhooks[5] = { ...body.webhooks[5]!, authToken: body.authToken };
    webhooks[6] = { path: null, authToken: 42 };
    expect((await post('installed', { ...body, webhooks }, await lifecycleHeader())).status).toBe(200);
    const [job] = await allJobs(t.queues.lifecycle);
    const payload = parsePayload(JOBS.lifecycleInstalled, job!.data);
    expect(payload.body.skippedWebhooks).toEqual([
      { index: 3, path: body.webhooks[3]!.path, reason: 'workspace_mismatch' },
      { index: 4, path: body.webhooks[4]!.path, reason: 'bad_signature' },
      { index: 5, path: body.webhooks[5]!.path, reason: 'wrong_kind' },
      { index: 6, reason: 'malformed_entry' },
    ]);
    expect(payload.body.webhooks).toHaveLength(body.webhooks.length - 4);
    expect(payload.body.webhooks.map((w) => w.tokenHash)).toEqual(
      body.webhooks.filter((_, i) => i < 3 || i > 6).map((w) => sha256(w.authToken)),
    );
    expect(webhookTokens.size).toBe(body.webhooks.length);
    await t.queues.lifecycle.obliterate({ force: true });
  });

  it('accepts null in the optional fields and unknown fields (Clockify sends INSTALLED once)', async () => {
    const { body } = await installedBody('ws-nulls', (route) => `/webhooks/${route}`);
    const withNulls = {
      ...body,
      asUser: null,
      addonUserId: null,
      apiUrl: null,
      somethingNew: { nested: true },
      webhooks: body.webhooks.map((w) => ({ ...w, webhookType: null })),
    };
    expect((await post('installed', withNulls, await lifecycleHeader())).status).toBe(200);
    const [job] = await allJobs(t.queues.lifecycle);
    const payload = parsePayload(JOBS.lifecycleInstalled, job!.data);
    expect(payload.body).not.toHaveProperty('asUser');
    expect(payload.body).not.toHaveProperty('apiUrl');
    // With no apiUrl the API is located by the installation token's backendUrl claim.
    expect(payload.body.backendUrl).toBe('https://api.clockify.me/api');
    expect(payload.body.webhooks).toHaveLength(body.webhooks.length);
    expect(payload.body.skippedWebhooks).toBeUndefined();
    await t.queues.lifecycle.obliterate({ force: true });
    const deleted = { addonId: ADDON_ID, workspaceId: 'ws-nulls', asUser: null };
    expect((await post('deleted', deleted, await lifecycleHeader())).status).toBe(200);
    await t.queues.lifecycle.obliterate({ force: true });
  });

  it.each([
    ['no authToken', (b: Record<string, unknown>) => ({ ...b, authToken: undefined })],
    ['authToken not a string', (b: Record<string, unknown>) => ({ ...b, authToken: 12 })],
    ['no workspaceId', (b: Record<string, unknown>) => ({ ...b, workspaceId: undefined })],
    ['apiUrl not a URL', (b: Record<string, unknown>) => ({ ...b, apiUrl: 'api.clockify.me' })],
    [
      'the predecessor’s addonToken instead of authToken',
      (b: Record<string, unknown>) => ({ ...b, addonToken: b.authToken, authToken: undefined }),
    ],
    ['webhooks not a list', (b: Record<string, unknown>) => ({ ...b, webhooks: { NEW_TAG: 'x' } })],
  ])('400 for an INSTALLED body with %s', async (_name, change) => {
    const { body } = await installedBody('ws-bad', (route) => `/webhooks/${route}`);
    await expectError(await post('installed', change(body), await lifecycleHeader()), 400, 'invalid_body');
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });
});

describe('POST /lifecycle/settings-updated | status-changed | deleted', () => {
  it('accept the shapes Clockify sends', async () => {
    const headers = await lifecycleHeader({ workspaceId: 'ws-shapes', addonId: ADDON_ID });
    const settings = [
      { id: 'mirror-time-entries', name: 'Mirror time entries', value: false },
      { id: 'note', name: 'Note', value: 'hello' },
    ];
    expect(
      (await post('settings-updated', { addonId: ADDON_ID, workspaceId: 'ws-shapes', settings }, headers)).status,
    ).toBe(200);
    let job = await lastJob();
    expect(job.name).toBe('lifecycle.settings-updated');
    expect(parsePayload(JOBS.lifecycleSettingsUpdated, job.data).body.settings).toEqual(settings);

    for (const status of ['INACTIVE', 'ACTIVE'] as const) {
      expect(
        (await post('status-changed', { addonId: ADDON_ID, workspaceId: 'ws-shapes', status }, headers)).status,
      ).toBe(200);
      job = await lastJob();
      expect(job.name).toBe('lifecycle.status-changed');
      expect(parsePayload(JOBS.lifecycleStatusChanged, job.data).body.status).toBe(status);
    }

    expect(
      (await post('deleted', { addonId: ADDON_ID, workspaceId: 'ws-shapes', asUser: 'u-owner' }, headers)).status,
    ).toBe(200);
    job = await lastJob();
    expect(job.name).toBe('lifecycle.deleted');
    expect(parsePayload(JOBS.lifecycleDeleted, job.data).body).toEqual({
      addonId: ADDON_ID,
      workspaceId: 'ws-shapes',
      asUser: 'u-owner',
    });
    expect(t.queries).toEqual([]);
    await t.queues.lifecycle.obliterate({ force: true });
  });

  it('400 for settings as a dict (the predecessor’s mistake) and for an unknown status', async () => {
    const headers = await lifecycleHeader();
    const dict = await expectError(
      await post(
        'settings-updated',
        { addonId: ADDON_ID, workspaceId: 'ws-x', settings: { 'mirror-time-entries': true } },
        headers,
      ),
      400,
      'invalid_body',
    );
    expect(dict.error.message).toMatch(/settings/);
    await expectError(
      await post('status-changed', { addonId: ADDON_ID, workspaceId: 'ws-x', status: 'PAUSED' }, headers),
      400,
      'invalid_body',
    );
    await expectError(await post('deleted', { workspaceId: 'ws-x' }, headers), 400, 'invalid_body');
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('415, 400 for bodies that are not a JSON object', async () => {
    const headers = await lifecycleHeader();
    const body = JSON.stringify({ addonId: ADDON_ID, workspaceId: 'ws-x', status: 'ACTIVE' });
    const plain = await fetch(`${t.url}/lifecycle/status-changed`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body,
    });
    await expectError(plain, 415, 'unsupported_media_type');
    await expectError(await post('status-changed', '{"addonId":', headers), 400, 'malformed_body');
    await expectError(await post('status-changed', '[]', headers), 400, 'malformed_body');
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });
});

describe('lifecycle tokens', () => {
  const body = { addonId: ADDON_ID, workspaceId: 'ws-tok', status: 'ACTIVE' };

  it('reads X-Addon-Lifecycle-Token, falling back to Clockify-Signature', async () => {
    expect((await post('status-changed', body, { 'x-addon-lifecycle-token': await t.lifecycleToken() })).status).toBe(
      200,
    );
    expect((await post('status-changed', body, { 'clockify-signature': await t.lifecycleToken() })).status).toBe(200);
    // The dedicated header wins when both are present.
    expect(
      (
        await post('status-changed', body, {
          'x-addon-lifecycle-token': await t.lifecycleToken(),
          'clockify-signature': 'garbage',
        })
      ).status,
    ).toBe(200);
    await expectError(
      await post('status-changed', body, {
        'x-addon-lifecycle-token': 'garbage',
        'clockify-signature': await t.lifecycleToken(),
      }),
      401,
      'malformed',
    );
    await t.queues.lifecycle.obliterate({ force: true });
  });

  it('401 without a token', async () => {
    const err = await expectError(await post('status-changed', body), 401, 'missing_token');
    expect(err.error.message).toMatch(/X-Addon-Lifecycle-Token/);
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('403 when the claims name another workspace or installation than the body', async () => {
    await expectError(
      await post('status-changed', body, await lifecycleHeader({ workspaceId: 'ws-other' })),
      403,
      'workspace_mismatch',
    );
    await expectError(
      await post('status-changed', body, await lifecycleHeader({ workspaceId: 'ws-tok', addonId: 'addon-other' })),
      403,
      'addon_mismatch',
    );
    await expectError(
      await post(
        'deleted',
        { addonId: ADDON_ID, workspaceId: 'ws-tok' },
        await lifecycleHeader({ addonId: 'addon-other' }),
      ),
      403,
      'addon_mismatch',
    );
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('accepts a token without workspace claims, and one whose claims match', async () => {
    expect((await post('status-changed', body, await lifecycleHeader())).status).toBe(200);
    expect(
      (await post('status-changed', body, await lifecycleHeader({ workspaceId: 'ws-tok', addonId: ADDON_ID }))).status,
    ).toBe(200);
    expect(await allJobs(t.queues.lifecycle)).toHaveLength(2);
    await t.queues.lifecycle.obliterate({ force: true });
  });
});

describe('per-workspace sequence', () => {
  it('increases across every lifecycle event of a workspace, reinstall included', async () => {
    const headers = await lifecycleHeader();
    const ws = 'ws-seq';
    const seqs: number[] = [];
    const steps: Array<[LifecycleKind, () => Promise<unknown>]> = [
      ['installed', async () => (await installedBody(ws, (r) => `/webhooks/${r}`)).body],
      [
        'settings-updated',
        async () => ({
          addonId: ADDON_ID,
          workspaceId: ws,
          settings: [{ id: 'mirror-time-entries', name: 'Mirror', value: true }],
        }),
      ],
      ['status-changed', async () => ({ addonId: ADDON_ID, workspaceId: ws, status: 'INACTIVE' })],
      ['status-changed', async () => ({ addonId: ADDON_ID, workspaceId: ws, status: 'ACTIVE' })],
      ['deleted', async () => ({ addonId: ADDON_ID, workspaceId: ws, asUser: 'u-owner' })],
      ['installed', async () => (await installedBody(ws, (r) => `${BASE_URL}/webhooks/${r}`)).body],
    ];
    for (const [kind, makeBody] of steps) {
      const res = await post(kind, await makeBody(), headers);
      expect(res.status, kind).toBe(200);
      const job = await lastJob();
      expect(() => parsePayload(job.name as never, job.data)).not.toThrow();
      seqs.push(job.data.seq);
    }
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    expect(seqs.every((s) => Number.isSafeInteger(s) && s > 0)).toBe(true);
    expect(t.queries).toEqual([]);
  });
});
