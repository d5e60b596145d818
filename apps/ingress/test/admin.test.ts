import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES, parsePayload } from '@cap/queue';
import { ADMIN_CSRF_HEADER } from '../src/index.js';
import { waitFor } from '@cap/testing';
import { ADMIN, allJobs, basicAuthHeader, expectError, sha256, startTestIngress, type TestIngress } from './helpers.js';
import { Seeder } from './seed.js';

const auth = { authorization: basicAuthHeader() };
const write = { ...auth, [ADMIN_CSRF_HEADER]: '1' };
const CREDENTIALS = { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password };

describe('admin surface without ADMIN_USERNAME/ADMIN_PASSWORD', () => {
  let off: TestIngress;
  beforeAll(async () => {
    off = await startTestIngress();
  });
  afterAll(async () => {
    await off?.close();
  });

  it('answers 404 on every /admin path, credentials or not, and the log says why', async () => {
    const paths = [
      '/admin',
      '/admin/',
      '/admin/queues',
      '/admin/queues/api/queues',
      '/admin/api/installations',
      '/admin/api/dead-letters',
      '/admin/anything',
    ];
    for (const path of paths) {
      for (const headers of [{}, auth]) {
        const res = await fetch(`${off.url}${path}`, { headers });
        await expectError(res, 404, 'not_found');
        expect(res.headers.get('www-authenticate')).toBeNull();
      }
    }
    await expectError(
      await fetch(`${off.url}/admin/api/workspaces/ws/bootstrap`, { method: 'POST', headers: write }),
      404,
      'not_found',
    );
    const line = off.logs.find((l) => l.includes('admin surface off'));
    expect(line).toBeDefined();
    expect(line).toMatch(/ADMIN_USERNAME and ADMIN_PASSWORD/);
    expect(off.queries).toEqual([]);
  });
});

describe('admin surface with credentials', () => {
  let t: TestIngress;
  let seed: Seeder;
  beforeAll(async () => {
    // This block sends many wrong credentials on purpose; throttling has a describe of its own below.
    t = await startTestIngress({ ...CREDENTIALS, ADMIN_LOGIN_MAX_FAILURES: '1000' });
    seed = new Seeder(t.config.DATABASE_URL!);
    await seed.installation('ws-active', 'addon-a', 'ACTIVE', [
      { index: 1, path: '/webhooks/new-tag', reason: 'wrong_kind' },
    ]);
    await seed.installation('ws-inactive', 'addon-a', 'INACTIVE');
    await seed.runningBootstrap('ws-active', 'addon-a');
    // What INSTALLED left: a webhook token per event and the call's receipt.
    for (const event of ['NEW_TAG', 'TAG_UPDATED']) {
      await seed.db
        .insertInto('installation_webhooks')
        .values({
          workspace_id: 'ws-active',
          addon_id: 'addon-a',
          event,
          path: `/webhooks/${event.toLowerCase()}`,
          token_enc: 'enc:v1:k:seeded-webhook-token',
          token_hash: sha256(event),
        })
        .execute();
    }
    await seed.db
      .insertInto('lifecycle_receipts')
      .values({
        receipt: sha256('installed'),
        workspace_id: 'ws-active',
        addon_id: 'addon-a',
        type: 'INSTALLED',
        seq: 7,
        outcome: 'applied',
      })
      .execute();
  });
  afterAll(async () => {
    await seed?.close();
    await t?.close();
  });

  it('401 with a Basic challenge without credentials or with wrong ones', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: basicAuthHeader(ADMIN.username, 'wrong-password-123') },
      { authorization: basicAuthHeader('someone', ADMIN.password) },
      { authorization: basicAuthHeader(ADMIN.username, `${ADMIN.password}x`) },
      { authorization: `Bearer ${ADMIN.password}` },
      { authorization: 'Basic !!!' },
      { authorization: `Basic ${Buffer.from(ADMIN.username).toString('base64')}` },
    ];
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/api/installations']) {
      for (const headers of attempts) {
        const res = await fetch(`${t.url}${path}`, { headers });
        await expectError(res, 401, 'unauthorized');
        expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
      }
    }
    expect(t.logs.join('\n')).not.toContain(ADMIN.password);
  });

  it('serves Bull Board, listing the four queues, read-only', async () => {
    const page = await fetch(`${t.url}/admin/queues`, { headers: auth });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<div id="root">');
    expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);

    const res = await fetch(`${t.url}/admin/queues/api/queues`, { headers: auth });
    expect(res.status).toBe(200);
    const { queues } = (await res.json()) as {
      queues: Array<{ name: string; readOnlyMode: boolean; allowRetries: boolean }>;
    };
    expect(queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    expect(queues.every((q) => q.readOnlyMode && !q.allowRetries)).toBe(true);

    // A write through the board is refused by the board itself.
    const pause = await fetch(`${t.url}/admin/queues/api/queues/webhooks/pause`, { method: 'PUT', headers: write });
    expect(pause.status).toBe(405);
    expect(await t.queues.webhooks.isPaused()).toBe(false);
  });

  it('GET /admin/api/installations lists installations without tokens', async () => {
    const res = await fetch(`${t.url}/admin/api/installations`, { headers: auth });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(/enc:v[12]/);
    const { installations } = JSON.parse(text) as {
      installations: Array<{ workspace_id: string; status: string; hasToken: boolean }>;
    };
    expect(installations.map((i) => i.workspace_id).sort()).toEqual(['ws-active', 'ws-inactive']);
    expect(installations.every((i) => i.hasToken)).toBe(true);
    // What `npm run cli -- installations list` shows, too.
    const byId = new Map(installations.map((i) => [i.workspace_id, i]));
    expect(byId.get('ws-active')).toMatchObject({
      webhookTokens: 2,
      lastLifecycle: { type: 'INSTALLED', outcome: 'applied' },
      bootstrap: { status: 'RUNNING' },
    });
    expect(byId.get('ws-inactive')).toMatchObject({ webhookTokens: 0, lastLifecycle: null, bootstrap: null });

    const active = (await (
      await fetch(`${t.url}/admin/api/installations?status=ACTIVE`, { headers: auth })
    ).json()) as { installations: Array<{ workspace_id: string }> };
    expect(active.installations.map((i) => i.workspace_id)).toEqual(['ws-active']);
    await expectError(
      await fetch(`${t.url}/admin/api/installations?status=GONE`, { headers: auth }),
      400,
      'bad_request',
    );
    await expectError(
      await fetch(`${t.url}/admin/api/installations?limit=lots`, { headers: auth }),
      400,
      'bad_request',
    );
  });

  it('GET /admin/api/installations/:workspaceId: webhooks, lifecycle calls, bootstrap, settings; no token', async () => {
    const res = await fetch(`${t.url}/admin/api/installations/ws-active`, { headers: auth });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(/enc:v[12]|seeded/);
    const detail = JSON.parse(text) as {
      installation: { status: string; hasToken: boolean; settings: unknown[] };
      webhooks: { event: string; path: string }[];
      lifecycle: { type: string; seq: number; outcome: string }[];
      latestRun: { run: { status: string } };
    };
    expect(detail.installation).toMatchObject({ status: 'ACTIVE', hasToken: true, settings: [] });
    expect(detail.webhooks).toEqual([
      { event: 'NEW_TAG', path: '/webhooks/new_tag' },
      { event: 'TAG_UPDATED', path: '/webhooks/tag_updated' },
    ]);
    expect(detail.lifecycle).toEqual([expect.objectContaining({ type: 'INSTALLED', seq: 7, outcome: 'applied' })]);
    expect(detail.latestRun.run.status).toBe('RUNNING');
    await expectError(await fetch(`${t.url}/admin/api/installations/ws-unknown`, { headers: auth }), 404, 'not_found');
  });

  it('queues: counts and the wait of the next job; pause, resume, and drain only when confirmed', async () => {
    const listed = (await (await fetch(`${t.url}/admin/api/queues`, { headers: auth })).json()) as {
      queues: { queue: string; counts: Record<string, number>; oldestWaitingSeconds: number; paused: boolean }[];
    };
    expect(listed.queues.map((q) => q.queue).sort()).toEqual([...QUEUE_NAMES].sort());
    for (const q of listed.queues)
      expect(Object.keys(q.counts).sort()).toEqual(['active', 'delayed', 'failed', 'waiting']);

    const post = (path: string, headers: Record<string, string> = write) =>
      fetch(`${t.url}/admin/api/queues/${path}`, { method: 'POST', headers });
    await expectError(await post('maintenance/pause', auth), 403, 'csrf_rejected');
    const paused = (await (await post('maintenance/pause')).json()) as { queue: string; paused: boolean };
    expect(paused).toMatchObject({ queue: 'maintenance', paused: true });
    expect(await t.queues.maintenance.isPaused()).toBe(true);
    expect(((await (await post('maintenance/resume')).json()) as { paused: boolean }).paused).toBe(false);
    expect(await t.queues.maintenance.isPaused()).toBe(false);

    await t.queues.bootstrap.add(
      'bootstrap.start',
      { v: 1, workspaceId: 'ws-active', addonId: 'addon-a', trigger: 'manual' },
      { delay: 3_600_000 },
    );
    await expectError(await post('bootstrap/drain'), 400, 'confirmation_required');
    expect((await t.queues.bootstrap.getJobCounts('delayed')).delayed).toBe(1);
    expect(await (await post('bootstrap/drain?confirm=true')).json()).toEqual({
      queue: 'bootstrap',
      waiting: 0,
      delayed: 1,
    });
    expect((await t.queues.bootstrap.getJobCounts('delayed')).delayed).toBe(0);
    await expectError(await post('nope/pause'), 404, 'not_found');
  });

  it('GET /admin/api/workspaces/:id and …/bootstrap', async () => {
    const res = await fetch(`${t.url}/admin/api/workspaces/ws-active`, { headers: auth });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(/enc:v[12]/);
    const status = JSON.parse(text) as {
      installation: { status: string; hasToken: boolean };
      latestRun: { run: { status: string }; totals: { resources: number } };
    };
    expect(status.installation).toMatchObject({
      status: 'ACTIVE',
      hasToken: true,
      skipped_webhooks: [{ index: 1, path: '/webhooks/new-tag', reason: 'wrong_kind' }],
    });
    expect(status.installation).not.toHaveProperty('auth_token_hash');
    expect(status.latestRun.run.status).toBe('RUNNING');
    expect(status.latestRun.totals.resources).toBe(2);

    const boot = (await (
      await fetch(`${t.url}/admin/api/workspaces/ws-active/bootstrap`, { headers: auth })
    ).json()) as {
      latestRun: { run: { status: string } };
      recentRuns: Array<{ status: string; trigger: string }>;
    };
    expect(boot.latestRun.run.status).toBe('RUNNING');
    expect(boot.recentRuns).toEqual([expect.objectContaining({ status: 'RUNNING', trigger: 'install' })]);

    await expectError(await fetch(`${t.url}/admin/api/workspaces/ws-unknown`, { headers: auth }), 404, 'not_found');
    await expectError(
      await fetch(`${t.url}/admin/api/workspaces/ws-unknown/bootstrap`, { headers: auth }),
      404,
      'not_found',
    );
  });

  it('GET /admin/api/workspaces/:id/entities and …/deliveries page through the mirror and the delivery records', async () => {
    for (const id of ['t1', 't2', 't3']) await seed.entity('ws-active', 'tag', id);
    await seed.entity('ws-active', 'client', 'c1');
    const since = new Date(Date.now() - 60_000);
    await seed.webhookEvent('ws-active', 'NEW_TAG', 'done');
    await seed.webhookEvent('ws-active', 'TAG_UPDATED', 'failed');

    const page = (await (
      await fetch(`${t.url}/admin/api/workspaces/ws-active/entities?type=tag&limit=2`, { headers: auth })
    ).json()) as {
      entities: Array<{ entity_type: string; entity_id: string; data: { id: string } }>;
    };
    expect(page.entities.map((e) => e.entity_id)).toEqual(['t1', 't2']);
    expect(page.entities[0]!.data).toEqual({ id: 't1' });
    const next = (await (
      await fetch(`${t.url}/admin/api/workspaces/ws-active/entities?type=tag&limit=2&offset=2`, { headers: auth })
    ).json()) as {
      entities: Array<{ entity_id: string }>;
    };
    expect(next.entities.map((e) => e.entity_id)).toEqual(['t3']);
    const all = (await (await fetch(`${t.url}/admin/api/workspaces/ws-active/entities`, { headers: auth })).json()) as {
      entities: unknown[];
    };
    expect(all.entities).toHaveLength(4);
    await expectError(
      await fetch(`${t.url}/admin/api/workspaces/ws-active/entities?type=DROP%20TABLE`, { headers: auth }),
      400,
      'bad_request',
    );
    await expectError(
      await fetch(`${t.url}/admin/api/workspaces/ws-active/entities?limit=5000`, { headers: auth }),
      400,
      'bad_request',
    );

    const deliveries = (await (
      await fetch(`${t.url}/admin/api/workspaces/ws-active/deliveries?since=${since.toISOString()}`, { headers: auth })
    ).json()) as {
      deliveries: Array<{ event: string; status: string; receivedAt: string }>;
    };
    expect(deliveries.deliveries.map((d) => [d.event, d.status]).sort()).toEqual([
      ['NEW_TAG', 'done'],
      ['TAG_UPDATED', 'failed'],
    ]);
    await expectError(
      await fetch(`${t.url}/admin/api/workspaces/ws-active/deliveries?since=yesterday`, { headers: auth }),
      400,
      'bad_request',
    );
    const none = (await (
      await fetch(
        `${t.url}/admin/api/workspaces/ws-active/deliveries?since=${new Date(Date.now() + 60_000).toISOString()}`,
        { headers: auth },
      )
    ).json()) as {
      deliveries: unknown[];
    };
    expect(none.deliveries).toEqual([]);
  });

  it('POST /admin/api/workspaces/:id/bootstrap: 202 and a job; 404 unknown; 409 not active', async () => {
    const res = await fetch(`${t.url}/admin/api/workspaces/ws-active/bootstrap`, { method: 'POST', headers: write });
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      jobId: string;
      workspaceId: string;
      addonId: string;
      activeRunId: string | null;
    };
    expect(body).toMatchObject({ workspaceId: 'ws-active', addonId: 'addon-a' });
    expect(body.activeRunId).toEqual(expect.any(String));
    const jobs = await allJobs(t.queues.bootstrap);
    expect(jobs.map((j) => j.id)).toEqual([body.jobId]);
    expect(jobs[0]!.name).toBe('bootstrap.start');
    expect(parsePayload('bootstrap.start', jobs[0]!.data)).toEqual({
      v: 1,
      workspaceId: 'ws-active',
      addonId: 'addon-a',
      trigger: 'manual',
    });

    await expectError(
      await fetch(`${t.url}/admin/api/workspaces/ws-unknown/bootstrap`, { method: 'POST', headers: write }),
      404,
      'not_found',
    );
    await expectError(
      await fetch(`${t.url}/admin/api/workspaces/ws-inactive/bootstrap`, { method: 'POST', headers: write }),
      409,
      'not_active',
    );
    expect(await allJobs(t.queues.bootstrap)).toHaveLength(1);
  });

  it('dead letters: list, replay as a new job once, then 409', async () => {
    const payload = {
      v: 1,
      event: 'NEW_TAG',
      workspaceId: 'ws-active',
      addonId: 'addon-a',
      deliveryKey: sha256('dead-letter-delivery'),
      windowStart: 1_790_000_000_000,
      windowSeconds: 300,
      receivedAt: 1_790_000_000_123,
      tokenHash: sha256('some token'),
      verified: true,
      body: '{"id":"tag-9","name":"A"}',
    };
    const id = await seed.deadLetter('ws-active', payload);

    const list = (await (await fetch(`${t.url}/admin/api/dead-letters`, { headers: auth })).json()) as {
      deadLetters: Array<{ id: number | string; job_name: string; payload: unknown }>;
    };
    const letter = list.deadLetters.find((l) => Number(l.id) === id);
    expect(letter).toMatchObject({ job_name: 'webhook.process', payload });

    await t.queues.webhooks.obliterate({ force: true });
    const first = await fetch(`${t.url}/admin/api/dead-letters/${id}/replay`, { method: 'POST', headers: write });
    expect(first.status).toBe(202);
    const replay = (await first.json()) as { id: number; jobId: string; queue: string; jobName: string };
    expect(replay).toMatchObject({ id, queue: 'webhooks', jobName: 'webhook.process' });
    const jobs = await allJobs(t.queues.webhooks);
    expect(jobs.map((j) => j.id)).toEqual([replay.jobId]);
    expect(jobs[0]!.data).toEqual(payload);

    await expectError(
      await fetch(`${t.url}/admin/api/dead-letters/${id}/replay`, { method: 'POST', headers: write }),
      409,
      'already_replayed',
    );
    expect(await allJobs(t.queues.webhooks)).toHaveLength(1);
    await expectError(
      await fetch(`${t.url}/admin/api/dead-letters/999999/replay`, { method: 'POST', headers: write }),
      404,
      'not_found',
    );
    await expectError(
      await fetch(`${t.url}/admin/api/dead-letters/abc/replay`, { method: 'POST', headers: write }),
      400,
      'bad_request',
    );

    // Replayed letters leave the default list and show with includeReplayed=true.
    const open = (await (await fetch(`${t.url}/admin/api/dead-letters`, { headers: auth })).json()) as {
      deadLetters: Array<{ id: number | string }>;
    };
    expect(open.deadLetters.map((l) => Number(l.id))).not.toContain(id);
    const all = (await (
      await fetch(`${t.url}/admin/api/dead-letters?includeReplayed=true`, { headers: auth })
    ).json()) as { deadLetters: Array<{ id: number | string }> };
    expect(all.deadLetters.map((l) => Number(l.id))).toContain(id);
  });

  it('CSRF: a write needs the x-admin-request header or a same-origin Origin', async () => {
    await t.queues.bootstrap.obliterate({ force: true });
    const post = (headers: Record<string, string>) =>
      fetch(`${t.url}/admin/api/workspaces/ws-active/bootstrap`, { method: 'POST', headers: { ...auth, ...headers } });
    await expectError(await post({}), 403, 'csrf_rejected');
    await expectError(await post({ origin: 'https://evil.example' }), 403, 'csrf_rejected');
    await expectError(await post({ origin: 'null' }), 403, 'csrf_rejected');
    await expectError(await post({ origin: `${t.url}.evil.example` }), 403, 'csrf_rejected');
    expect(await allJobs(t.queues.bootstrap)).toHaveLength(0);

    expect((await post({ [ADMIN_CSRF_HEADER]: '1' })).status).toBe(202);
    expect((await post({ origin: t.url })).status).toBe(202);
    expect((await post({ origin: new URL(t.config.BASE_URL).origin })).status).toBe(202);
    expect(await allJobs(t.queues.bootstrap)).toHaveLength(3);
    // Reads need neither.
    expect((await fetch(`${t.url}/admin/api/installations`, { headers: auth })).status).toBe(200);
  });

  it('unknown admin paths answer 404 behind the credentials', async () => {
    await expectError(await fetch(`${t.url}/admin/nothing-here`), 401, 'unauthorized');
    await expectError(await fetch(`${t.url}/admin/nothing-here`, { headers: auth }), 404, 'not_found');
    await expectError(await fetch(`${t.url}/admin/api/nothing-here`, { headers: auth }), 404, 'not_found');
  });
});

describe('Bull Board with ADMIN_BULL_BOARD_WRITE=true', () => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress({ ...CREDENTIALS, ADMIN_BULL_BOARD_WRITE: 'true' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('allows actions, still behind credentials and the CSRF guard', async () => {
    const { queues } = (await (await fetch(`${t.url}/admin/queues/api/queues`, { headers: auth })).json()) as {
      queues: Array<{ readOnlyMode: boolean }>;
    };
    expect(queues.every((q) => !q.readOnlyMode)).toBe(true);
    await expectError(
      await fetch(`${t.url}/admin/queues/api/queues/webhooks/pause`, { method: 'PUT', headers: auth }),
      403,
      'csrf_rejected',
    );
    await expectError(
      await fetch(`${t.url}/admin/queues/api/queues/webhooks/pause`, {
        method: 'PUT',
        headers: { [ADMIN_CSRF_HEADER]: '1' },
      }),
      401,
      'unauthorized',
    );
    expect(await t.queues.webhooks.isPaused()).toBe(false);
    const pause = await fetch(`${t.url}/admin/queues/api/queues/webhooks/pause`, { method: 'PUT', headers: write });
    expect(pause.status).toBe(200);
    expect(await t.queues.webhooks.isPaused()).toBe(true);
    expect(
      (await fetch(`${t.url}/admin/queues/api/queues/webhooks/resume`, { method: 'PUT', headers: write })).status,
    ).toBe(200);
    expect(await t.queues.webhooks.isPaused()).toBe(false);
  });
});

describe('failed admin logins are throttled per client', () => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress({
      ...CREDENTIALS,
      TRUST_PROXY: 'loopback',
      ADMIN_LOGIN_MAX_FAILURES: '3',
      ADMIN_LOGIN_WINDOW_SECONDS: '2',
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  const from = (client: string, authorization: string) => ({ authorization, 'x-forwarded-for': client });
  const wrong = basicAuthHeader(ADMIN.username, 'not-the-password');

  it('429 + Retry-After after too many failures, even with the right password; other clients unaffected; the window ends', async () => {
    for (let i = 0; i < 3; i++) {
      await expectError(
        await fetch(`${t.url}/admin/api/installations`, { headers: from('203.0.113.7', wrong) }),
        401,
        'unauthorized',
      );
    }
    const blocked = await fetch(`${t.url}/admin/api/installations`, {
      headers: from('203.0.113.7', auth.authorization),
    });
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await expectError(blocked, 429, 'too_many_attempts');
    await expectError(await fetch(`${t.url}/admin/queues`, { headers: from('203.0.113.7', wrong) }), 429);
    // Another client logs in as usual.
    expect(
      (await fetch(`${t.url}/admin/api/installations`, { headers: from('203.0.113.8', auth.authorization) })).status,
    ).toBe(200);
    // Requests without credentials (a browser asking for the prompt) are not failures.
    for (let i = 0; i < 5; i++) {
      await expectError(await fetch(`${t.url}/admin/queues`, { headers: { 'x-forwarded-for': '203.0.113.9' } }), 401);
    }
    expect(
      (await fetch(`${t.url}/admin/api/installations`, { headers: from('203.0.113.9', auth.authorization) })).status,
    ).toBe(200);
    // The block ends with its window.
    await waitFor(
      async () =>
        (await fetch(`${t.url}/admin/api/installations`, { headers: from('203.0.113.7', auth.authorization) }))
          .status === 200,
      { timeoutMs: 5000, intervalMs: 200, message: 'the block to end with its 2 s window' },
    );
    expect(t.logs.join('')).toContain('blocked after too many failures');
    expect(t.logs.join('')).not.toContain('not-the-password');
  });
});
