import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileTokenCorpus, type HostileTokenCase } from '@cap/testing';
import {
  NO_JOBS,
  expectError,
  jobCounts,
  sendWebhook,
  startTestIngress,
  uniqueBody,
  type TestIngress,
} from './helpers.js';

/**
 * The verifier's hostile-token corpus, replayed through the HTTP layer: every case must be refused
 * with its status (403 for a genuine token of another workspace or installation, 401 otherwise),
 * in the common error shape, without echoing the token, and without anything reaching a queue.
 */

const WS = 'ws-hostile';
const ADDON = 'addon-hostile';

let t: TestIngress;
let corpus: HostileTokenCase[];
beforeAll(async () => {
  t = await startTestIngress();
  corpus = await hostileTokenCorpus({
    privateKey: t.keys.privateKey,
    publicKeyPem: t.keys.publicKeyPem,
    addonKey: t.ingress.context.manifest.key,
    workspaceId: WS,
    addonId: ADDON,
  });
});
afterAll(async () => {
  await t?.close();
});

/**
 * HTTP header values cannot carry CR/LF or surrounding whitespace (clients strip or refuse them),
 * and Node refuses header blocks over 16 KiB with 431 before any route runs. Such tokens reach the
 * verifier only inside a JSON body, which is where they are sent.
 */
function fitsInHeader(token: string): boolean {
  return token.length < 12_000 && !/[\r\n]/.test(token) && token === token.trim();
}

const statusOf = (c: HostileTokenCase) =>
  c.reason === 'workspace_mismatch' || c.reason === 'addon_mismatch' ? 403 : 401;

async function expectRefused(res: Response, c: HostileTokenCase): Promise<void> {
  const text = await res.clone().text();
  const body = await expectError(res, statusOf(c));
  // An empty header is "no token"; everything else is judged by the verifier and says why.
  expect(c.token === '' ? ['missing_token', c.reason] : [c.reason]).toContain(body.error.code);
  if (c.token.length > 0) expect(text).not.toContain(c.token);
  const signature = c.token.split('.')[2];
  if (signature && signature.length > 16) expect(text).not.toContain(signature);
  expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
}

/** An INSTALLED body whose ids follow the case's expectation, carrying `token` where asked. */
async function installed(c: HostileTokenCase, where: 'authToken' | 'webhook'): Promise<Response> {
  const workspaceId = c.expect?.workspaceId ?? WS;
  const addonId = c.expect?.addonId ?? ADDON;
  const body = {
    addonId,
    authToken: where === 'authToken' ? c.token : await t.installationToken(workspaceId, addonId),
    workspaceId,
    asUser: 'u-owner',
    apiUrl: 'https://api.clockify.me/api',
    addonUserId: 'u-addon',
    webhooks: [
      {
        path: '/webhooks/new-tag',
        webhookType: 'ADDON',
        authToken: where === 'webhook' ? c.token : await t.webhookToken(workspaceId, addonId),
      },
    ],
  };
  return fetch(`${t.url}/lifecycle/installed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-addon-lifecycle-token': await t.lifecycleToken() },
    body: JSON.stringify(body),
  });
}

describe('hostile token corpus through the HTTP layer', () => {
  it('covers every kind of token the ingress verifies', () => {
    expect(corpus.length).toBeGreaterThan(50);
    expect(new Set(corpus.map((c) => c.kind))).toEqual(new Set(['webhook', 'user', 'installation', 'lifecycle']));
  });

  it('webhook tokens as clockify-signature on /webhooks/<event>', async () => {
    // An addon mismatch needs the installation's stored state; that check is the worker's.
    const cases = corpus.filter((c) => c.kind === 'webhook' && fitsInHeader(c.token) && c.reason !== 'addon_mismatch');
    expect(cases.length).toBeGreaterThan(45);
    for (const c of cases) {
      const res = await sendWebhook(t, { token: c.token, body: uniqueBody(c.expect?.workspaceId ?? WS) });
      await expectRefused(res, c).catch((err: Error) => {
        throw new Error(`${c.name}: ${err.message}`);
      });
    }
  });

  it('webhook tokens as INSTALLED webhooks[].authToken: the entry is skipped with its reason, never stored', async () => {
    // Clockify sends INSTALLED once: a bad webhook token costs that webhook, not the installation.
    for (const c of corpus.filter((x) => x.kind === 'webhook')) {
      const res = await installed(c, 'webhook');
      const text = await res.text();
      try {
        expect(res.status, text).toBe(200);
        const [job] = await t.queues.lifecycle.getJobs(['waiting', 'delayed', 'prioritized']);
        const body = (job?.data as { body: { skippedWebhooks?: { reason: string }[]; webhooks: unknown[] } }).body;
        expect(body.skippedWebhooks).toEqual([{ index: 0, path: '/webhooks/new-tag', reason: c.reason }]);
        expect(body.webhooks).toEqual([]);
        const signature = c.token.split('.')[2];
        if (signature && signature.length > 16) expect(JSON.stringify(job!.data)).not.toContain(signature);
      } catch (err) {
        throw new Error(`${c.name}: ${(err as Error).message}`);
      } finally {
        await t.queues.lifecycle.obliterate({ force: true });
      }
    }
  });

  it('installation tokens as INSTALLED authToken', async () => {
    const cases = corpus.filter((c) => c.kind === 'installation');
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) await expectRefused(await installed(c, 'authToken'), c);
  });

  it('lifecycle tokens as X-Addon-Lifecycle-Token and as Clockify-Signature', async () => {
    const cases = corpus.filter((c) => c.kind === 'lifecycle');
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      for (const header of ['x-addon-lifecycle-token', 'clockify-signature']) {
        const res = await fetch(`${t.url}/lifecycle/status-changed`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [header]: c.token },
          body: JSON.stringify({
            addonId: c.expect?.addonId ?? ADDON,
            workspaceId: c.expect?.workspaceId ?? WS,
            status: 'INACTIVE',
          }),
        });
        await expectRefused(res, c);
      }
    }
  });

  it('user tokens as the sidebar auth_token', async () => {
    const cases = corpus.filter((c) => c.kind === 'user' && c.expect === undefined);
    expect(cases.length).toBeGreaterThan(2);
    for (const c of cases) {
      const res = await fetch(`${t.url}/ui/sidebar?auth_token=${encodeURIComponent(c.token)}`);
      await expectRefused(res, c);
    }
  });

  it('a genuine user token only ever shows its own workspace (the sidebar has no other to mismatch)', async () => {
    // The corpus's cross-workspace user token is genuine; the sidebar takes the workspace from the
    // token itself, so the only safe behaviour is to show that workspace and nothing else.
    const cross = corpus.filter((c) => c.kind === 'user' && c.expect !== undefined);
    expect(cross.map((c) => c.reason)).toEqual(['workspace_mismatch']);
    const res = await fetch(`${t.url}/ui/sidebar?auth_token=${encodeURIComponent(cross[0]!.token)}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`data-workspace="${WS}"`);
    expect(html).not.toContain(cross[0]!.expect!.workspaceId!);
  });

  it('a token too large for an HTTP header is refused by the server itself (431), nothing queued', async () => {
    const huge = corpus.find((c) => c.name === 'token longer than 16 KiB')!;
    expect(fitsInHeader(huge.token)).toBe(false);
    const res = await sendWebhook(t, { token: huge.token, body: uniqueBody(WS) });
    expect(res.status).toBe(431);
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('no hostile token reached the logs, the database or a queue', async () => {
    const logs = t.logs.join('\n');
    for (const c of corpus) {
      const signature = c.token.split('.')[2];
      if (signature && signature.length > 16) expect(logs, c.name).not.toContain(signature);
    }
    // The sidebar looked up the one genuine workspace; nothing else touched Postgres.
    expect(t.queries.every((q) => /^select/i.test(q))).toBe(true);
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });
});
