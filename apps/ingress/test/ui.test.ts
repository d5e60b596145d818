import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_JOBS, expectError, jobCounts, startTestIngress, type TestIngress } from './helpers.js';
import { Seeder } from './seed.js';

const ADDON_ID = 'addon-ui';
const EXTRA_ANCESTORS = ['https://embed.example.org', 'https://*.partner.example'];

let t: TestIngress;
let seed: Seeder;
beforeAll(async () => {
  t = await startTestIngress({ UI_FRAME_ANCESTORS: EXTRA_ANCESTORS.join(',') });
  seed = new Seeder(t.config.DATABASE_URL!);
  await seed.installation('ws-ui', ADDON_ID, 'ACTIVE', [
    { index: 2, path: '/webhooks/new-tag', reason: 'bad_signature' },
    { index: 5, path: '<script>x</script>', reason: 'unknown_path' },
  ]);
  await seed.runningBootstrap('ws-ui', ADDON_ID);
  await seed.db
    .updateTable('installations')
    .set({
      webhook_health: JSON.stringify({
        checkedAt: '2026-11-02T10:00:00Z',
        webhooks: 20,
        undelivered: [{ event: 'NEW_TAG', deliveryEnabled: false, enabled: true, planEnabled: true }],
      }),
    })
    .where('workspace_id', '=', 'ws-ui')
    .execute();
  await seed.webhookEvent('ws-ui', 'NEW_TIME_ENTRY', 'done', new Date(Date.now() - 60_000));
  await seed.webhookEvent('ws-ui', 'TAG_DELETED', 'failed');
  await seed.webhookEvent('ws-ui', '<img src=x onerror=alert(1)>', 'ignored');
  await seed.entity('ws-ui', 'project', 'p-1');
  await seed.entity('ws-ui', 'project', 'p-2');
  await seed.entity('ws-ui', 'tag', 't-1');
  // Another workspace's data must never show.
  await seed.installation('ws-neighbour', ADDON_ID, 'INACTIVE');
  await seed.webhookEvent('ws-neighbour', 'USER_JOINED_WORKSPACE', 'done');
});
afterAll(async () => {
  await seed?.close();
  await t?.close();
});

function sidebar(token?: string, extra = ''): Promise<Response> {
  return fetch(`${t.url}/ui/sidebar${token === undefined ? '' : `?auth_token=${encodeURIComponent(token)}`}${extra}`);
}

describe('GET /ui/sidebar', () => {
  it('401 without a token and with a bad one', async () => {
    await expectError(await sidebar(), 401, 'missing_token');
    await expectError(await sidebar(''), 401, 'missing_token');
    await expectError(await sidebar('not-a-jwt'), 401, 'malformed');
    const forged = await t.userToken('ws-ui', ADDON_ID);
    await expectError(await sidebar(`${forged.slice(0, -6)}AAAAAA`), 401, 'bad_signature');
    // A webhook token is no user token: it never expires, so it must not open the UI.
    await expectError(await sidebar(await t.webhookToken('ws-ui', ADDON_ID)), 401, 'wrong_kind');
  });

  it('lists the webhooks that were skipped at install, and why', async () => {
    const html = await (await sidebar(await t.userToken('ws-ui', ADDON_ID))).text();
    expect(html).toContain('2 webhooks were not accepted at install');
    expect(html).toContain('<code>/webhooks/new-tag</code>: bad signature');
    expect(html).toContain('<code>&lt;script&gt;x&lt;/script&gt;</code>: unknown path');
    expect(html).toContain('Clockify is not delivering one webhook');
    expect(html).toContain('<code>NEW_TAG</code>: delivery disabled by Clockify');
  });

  it('shows the installation, bootstrap progress and recent events of the token’s workspace', async () => {
    const res = await sidebar(await t.userToken('ws-ui', ADDON_ID));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<h1>Workspace Mirror</h1>');
    expect(html).toContain('data-workspace="ws-ui"');
    // Installation status.
    expect(html).toMatch(/<span class="badge active">ACTIVE<\/span>\s*since 2026-11-01 10:00:00 UTC/);
    // Bootstrap progress: one of two resources finished, 170 items, a 50 % bar, and a refresh while it runs.
    expect(html).toContain('<span class="badge">RUNNING</span> install run, 1/2 resources, 170 items');
    expect(html).toContain('aria-valuenow="50"');
    expect(html).toMatch(/<li><span>projects<\/span> <span class="badge">COMPLETED<\/span> 120 items<\/li>/);
    expect(html).toMatch(/<li><span>tags<\/span> <span class="badge">RUNNING<\/span> 50 items<\/li>/);
    expect(html).toContain('<meta http-equiv="refresh" content="5">');
    // Mirrored entities and recent events, newest first, escaped.
    expect(html).toContain('<li>project: 2</li><li>tag: 1</li>');
    expect(html.indexOf('TAG_DELETED')).toBeLessThan(html.indexOf('NEW_TIME_ENTRY'));
    expect(html).toMatch(/<td>TAG_DELETED<\/td><td>failed<\/td>/);
    expect(html).toMatch(/<td>NEW_TIME_ENTRY<\/td><td>done<\/td>/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img src=x');
    // Nothing of the neighbour.
    expect(html).not.toContain('USER_JOINED_WORKSPACE');
    expect(html).not.toContain('ws-neighbour');
    expect(html).not.toMatch(/enc:v[12]/);
  });

  it('tells a workspace without an installation so', async () => {
    const res = await sidebar(await t.userToken('ws-nothing', ADDON_ID));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('This workspace has no installation yet');
  });

  it('can be framed by Clockify and the configured origins only, and leaks no referrer', async () => {
    const res = await sidebar(await t.userToken('ws-ui', ADDON_ID));
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    const ancestors = /(?:^|;\s*)frame-ancestors ([^;]+)/.exec(csp)?.[1]?.split(/\s+/) ?? [];
    expect(ancestors).toContain('https://*.clockify.me');
    for (const origin of EXTRA_ANCESTORS) expect(ancestors).toContain(origin);
    expect(ancestors).not.toContain('*');
    expect(csp).toMatch(/default-src 'none'/);
    // The inline style is allowed by its nonce, never by 'unsafe-inline'.
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(await res.text()).toContain(`<style nonce="${nonce}">`);
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    // A fresh nonce per answer.
    const again = await sidebar(await t.userToken('ws-ui', ADDON_ID));
    expect(/style-src 'nonce-([^']+)'/.exec(again.headers.get('content-security-policy') ?? '')?.[1]).not.toBe(nonce);
  });

  it('never writes the auth_token to the logs', async () => {
    const good = await t.userToken('ws-ui', ADDON_ID);
    const expired = `${good.slice(0, -8)}BBBBBBBB`;
    await sidebar(good);
    await sidebar(expired);
    await sidebar(good, '&x=1');
    await fetch(`${t.url}/ui/unknown-component?auth_token=${encodeURIComponent(good)}`);
    await fetch(`${t.url}/ui/sidebar?auth_token=${encodeURIComponent(good)}`, { method: 'POST' });
    const logs = t.logs.join('\n');
    expect(logs).toContain('request refused');
    for (const token of [good, expired]) {
      for (const part of token.split('.')) if (part.length > 20) expect(logs).not.toContain(part);
    }
    expect(logs).not.toContain('auth_token=ey');
  });

  it('reads Postgres (components may) but queues nothing', async () => {
    expect(t.queries.length).toBeGreaterThan(0);
    expect(t.queries.every((q) => /^select/i.test(q.trim()))).toBe(true);
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });
});
