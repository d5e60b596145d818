import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEntity, getInstallation } from '@cap/db';
import { storedTokenKey } from '@cap/queue';
import { signLifecycleToken } from '@cap/simulator';
import { tokenHash as sha256 } from '@cap/secrets';
import { waitFor } from '@cap/testing';
import { countingAddon } from './counting-addon.js';
import { startStack, type Stack } from './stack.js';

/**
 * Clockify signs four kinds of token with one key and one issuer. Each valid token of each kind
 * is presented on every path, through real HTTP, Redis and Postgres: only the right kind is
 * accepted. Where claims tell the kinds apart the ingress answers 401 `wrong_kind`; where only
 * the stored token hashes do (a webhook or installation token on a lifecycle route, an
 * installation token as a webhook signature), the ingress or the worker refuses it by hash.
 */

type Kind = 'user' | 'installation' | 'webhook' | 'lifecycle';
const KINDS: readonly Kind[] = ['user', 'installation', 'webhook', 'lifecycle'];

const counting = countingAddon();
let s: Stack;
let addonId: string;
let installedBody: Record<string, unknown>;
const tokens = {} as Record<Kind, string>;

const db = () => s.ingress.context.database.db;
const key = () => ({ workspaceId: s.workspaceId, addonId });

async function lifecycleToken(): Promise<string> {
  const inst = s.sim.installation();
  return signLifecycleToken(s.sim.keys, { ...inst, withWorkspace: true });
}

async function postLifecycle(path: string, token: string, body: unknown): Promise<Response> {
  return fetch(`${s.ingressUrl}/lifecycle/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-addon-lifecycle-token': token },
    body: JSON.stringify(body),
  });
}

async function postWebhook(token: string, body: unknown): Promise<Response> {
  return fetch(`${s.ingressUrl}/webhooks/new-tag`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'clockify-signature': token,
      'clockify-webhook-event-type': 'NEW_TAG',
    },
    body: JSON.stringify(body),
  });
}

async function expectWrongKind(res: Response, where: string): Promise<void> {
  const text = await res.text();
  expect(res.status, `${where}: ${text}`).toBe(401);
  expect(JSON.parse(text).error.code, where).toBe('wrong_kind');
  for (const token of Object.values(tokens)) expect(text, where).not.toContain(token.split('.')[2]);
}

function lifecycleBodies(): Record<string, Record<string, unknown>> {
  const ids = { workspaceId: s.workspaceId, addonId };
  return {
    installed: installedBody,
    deleted: { ...ids, asUser: s.sim.installation().asUser },
    'settings-updated': { ...ids, settings: [] },
    'status-changed': { ...ids, status: 'INACTIVE' },
  };
}

/** The outcome the worker recorded for the NEW_TAG delivery of `tagId`. */
async function deliveryOf(tagId: string) {
  return waitFor(
    () =>
      db()
        .selectFrom('webhook_events')
        .select(['status', 'token_check', 'error'])
        .where('workspace_id', '=', s.workspaceId)
        .where('entity_id', '=', tagId)
        .where('status', '<>', 'received')
        .executeTakeFirst(),
    { message: `the worker's decision on the delivery of ${tagId}` },
  );
}

beforeAll(async () => {
  s = await startStack({
    sizes: { users: 2, projects: 1, tasksPerProject: 1, tags: 1, clients: 1, entries: 2 },
    addon: counting.addon,
    workerEnv: { AUTO_BOOTSTRAP: 'false' },
  });
  const installed = await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
  expect(installed.status).toBe(200);
  installedBody = installed.payload;
  addonId = installed.installation.addonId;
  await waitFor(async () => (await getInstallation(db(), key()))?.status === 'ACTIVE', { message: 'installed' });
  const inst = s.sim.installation();
  tokens.installation = inst.installationToken;
  tokens.webhook = inst.webhookTokens.NEW_TAG!;
  tokens.user = await s.sim.userToken(inst.asUser);
  tokens.lifecycle = await lifecycleToken();
  // The worker tells the ingress which hashes it stores once INSTALLED has committed.
  await waitFor(
    async () => (await s.ingress.context.redis.get(storedTokenKey(s.prefix, sha256(tokens.webhook)))) !== null,
    {
      message: 'the stored-token registry',
    },
  );
});
afterAll(async () => {
  await s?.close();
});

describe('each valid token kind on each path', () => {
  it('lifecycle routes (x4) take only a lifecycle token', async () => {
    for (const [path, body] of Object.entries(lifecycleBodies())) {
      for (const kind of KINDS.filter((k) => k !== 'lifecycle')) {
        await expectWrongKind(await postLifecycle(path, tokens[kind], body), `${kind} token on /lifecycle/${path}`);
      }
    }
    // Nothing changed: the installation is still active with its tokens.
    expect(await getInstallation(db(), key())).toMatchObject({ status: 'ACTIVE', last_seq: expect.any(Number) });
    expect((await getInstallation(db(), key()))?.auth_token_enc).not.toBeNull();
  });

  it('the worker refuses a stored token on a lifecycle route even when the ingress could not tell', async () => {
    // A registry lost with Redis (no AOF): the edge lets it through, Postgres still knows.
    await s.ingress.context.redis.del(
      storedTokenKey(s.prefix, sha256(tokens.webhook)),
      storedTokenKey(s.prefix, sha256(tokens.installation)),
    );
    const before = await getInstallation(db(), key());
    for (const kind of ['webhook', 'installation'] as const) {
      const res = await postLifecycle('status-changed', tokens[kind], lifecycleBodies()['status-changed']);
      expect(res.status, kind).toBe(200);
    }
    await s.settle();
    expect(await getInstallation(db(), key())).toMatchObject({ status: 'ACTIVE', status_seq: before!.status_seq });
    expect(s.worker!.logs.join('')).toContain('stores as another kind');
    // Put the registry back for the tests below, as the next INSTALLED would.
    await s.ingress.context.redis.set(storedTokenKey(s.prefix, sha256(tokens.webhook)), 'webhook');
    await s.ingress.context.redis.set(storedTokenKey(s.prefix, sha256(tokens.installation)), 'installation');
  });

  it('INSTALLED authToken takes only an installation token', async () => {
    for (const kind of KINDS.filter((k) => k !== 'installation')) {
      const res = await postLifecycle('installed', await lifecycleToken(), {
        ...installedBody,
        authToken: tokens[kind],
      });
      await expectWrongKind(res, `${kind} token as INSTALLED authToken`);
    }
  });

  it('INSTALLED webhooks[].authToken takes only a webhook token: another kind skips that webhook, recorded', async () => {
    const hooks = installedBody.webhooks as Array<{ path: string; authToken: string }>;
    const index = hooks.findIndex((h) => !h.path.endsWith('/new-tag'));
    const cases: Record<Exclude<Kind, 'webhook'>, () => Promise<string>> = {
      user: async () => tokens.user,
      installation: async () => installedBody.authToken as string,
      lifecycle: async () => '',
    };
    for (const [kind, tokenFor] of Object.entries(cases)) {
      const lifecycle = await lifecycleToken();
      const token = kind === 'lifecycle' ? lifecycle : await tokenFor();
      const webhooks = hooks.map((h, i) => (i === index ? { ...h, authToken: token } : h));
      const res = await postLifecycle('installed', lifecycle, { ...installedBody, webhooks });
      expect(res.status, kind).toBe(200);
      await s.settle();
      const row = await getInstallation(db(), key());
      expect(row?.skipped_webhooks, kind).toEqual([{ index, path: hooks[index]!.path, reason: 'wrong_kind' }]);
      const stored = await db()
        .selectFrom('installation_webhooks')
        .select('token_hash')
        .where('workspace_id', '=', s.workspaceId)
        .execute();
      expect(stored, kind).toHaveLength(hooks.length - 1);
      expect(
        stored.map((r) => r.token_hash),
        kind,
      ).not.toContain(sha256(token));
    }
    // Reinstalled as Clockify sent it: every webhook stored again, nothing skipped.
    expect((await postLifecycle('installed', await lifecycleToken(), installedBody)).status).toBe(200);
    await s.settle();
    expect((await getInstallation(db(), key()))?.skipped_webhooks).toEqual([]);
  });

  it('/webhooks/<event> takes only the webhook token stored for the event', async () => {
    const tag = (kind: Kind) => `${kind.padEnd(12, 'x')}${'0'.repeat(12)}`;
    const body = (kind: Kind) => ({ ...s.sim.buildWebhook('NEW_TAG'), id: tag(kind), name: `signed by ${kind}` });

    await expectWrongKind(await postWebhook(tokens.user, body('user')), 'user token as clockify-signature');
    // The installation and a lifecycle token carry the ids a webhook token carries: the worker
    // tells them apart by the stored hashes and never runs the handler.
    for (const kind of ['installation', 'lifecycle'] as const) {
      const res = await postWebhook(tokens[kind], body(kind));
      expect(res.status, kind).toBe(200);
      expect(await deliveryOf(tag(kind)), kind).toMatchObject({ status: 'ignored', token_check: 'mismatch' });
      expect(counting.count('NEW_TAG', tag(kind)), kind).toBe(0);
    }
    const res = await postWebhook(tokens.webhook, body('webhook'));
    expect(res.status).toBe(200);
    expect(await deliveryOf(tag('webhook'))).toMatchObject({ status: 'done', token_check: 'matched' });
    expect(
      await getEntity(db(), { workspaceId: s.workspaceId, entityType: 'tag', entityId: tag('webhook') }),
    ).toBeDefined();
  });

  it('the sidebar takes only a user token', async () => {
    for (const kind of KINDS.filter((k) => k !== 'user')) {
      await expectWrongKind(
        await fetch(`${s.ingressUrl}/ui/sidebar?auth_token=${encodeURIComponent(tokens[kind])}`),
        `${kind} token as auth_token`,
      );
    }
    const ok = await fetch(`${s.ingressUrl}/ui/sidebar?auth_token=${encodeURIComponent(tokens.user)}`);
    expect(ok.status).toBe(200);
  });

  it('INSTALLED with null in its optional fields is stored (Clockify sends it once)', async () => {
    const hooks = installedBody.webhooks as Array<Record<string, unknown>>;
    const withNulls = {
      ...installedBody,
      asUser: null,
      addonUserId: null,
      webhooks: hooks.map((h) => ({ ...h, webhookType: null })),
    };
    expect((await postLifecycle('installed', await lifecycleToken(), withNulls)).status).toBe(200);
    await s.settle();
    expect(await getInstallation(db(), key())).toMatchObject({
      status: 'ACTIVE',
      installed_by: null,
      addon_user_id: null,
      skipped_webhooks: [],
    });
    const stored = await db()
      .selectFrom('installation_webhooks')
      .select('event')
      .where('workspace_id', '=', s.workspaceId)
      .execute();
    expect(stored).toHaveLength(hooks.length);
  });

  it('the right kind is accepted on each lifecycle route', async () => {
    const bodies = lifecycleBodies();
    for (const path of ['settings-updated', 'status-changed', 'installed']) {
      const res = await postLifecycle(path, await lifecycleToken(), bodies[path]);
      expect(res.status, path).toBe(200);
      await s.settle();
    }
    // The reinstall replaced the INACTIVE status; DELETED then uninstalls (its purge stays delayed).
    expect((await postLifecycle('deleted', await lifecycleToken(), bodies.deleted)).status).toBe(200);
    await waitFor(async () => (await getInstallation(db(), key()))?.status === 'DELETED', { message: 'uninstalled' });
    expect(await getInstallation(db(), key())).toMatchObject({ auth_token_enc: null, auth_token_hash: null });
    // Erased tokens leave the registry too: nothing is remembered as "stored" any more.
    await waitFor(async () => (await s.ingress.context.redis.keys(storedTokenKey(s.prefix, '*'))).length === 0, {
      message: 'the stored-token registry emptied by the uninstall',
    });
  });
});
