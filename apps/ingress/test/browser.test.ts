import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '@cap/queue';
import { waitFor } from '@cap/testing';
import { launchChromium, openAt, requireChromium as needChromium, type Chromium } from '../../../test/chromium.js';
import { ADMIN, basicAuthHeader, startTestIngress, type TestIngress } from './helpers.js';
import { Seeder } from './seed.js';

/**
 * Bull Board and the sidebar in a real headless browser (see test/chromium.ts): the pages must
 * render, and the sidebar must be frameable by Clockify and by nobody else.
 */

const EMBEDDER = 'https://embed.example.org';

let t: TestIngress | undefined;
let seed: Seeder | undefined;
let browser: Chromium | undefined;

const requireChromium = (ctx: Parameters<typeof needChromium>[1]) => needChromium(browser, ctx);

beforeAll(async () => {
  browser = await launchChromium();
  if (!browser) return;
  t = await startTestIngress({
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    UI_FRAME_ANCESTORS: EMBEDDER,
  });
  seed = new Seeder(t.config.DATABASE_URL!);
  await seed.installation('ws-browser', 'addon-b');
  await seed.runningBootstrap('ws-browser', 'addon-b');
  await seed.webhookEvent('ws-browser', 'NEW_PROJECT', 'done');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await seed?.close();
  await t?.close();
});

async function sidebarFrame(page: Page): Promise<Frame> {
  return waitFor(
    () => page.frames().find((f) => f.url().includes('/ui/sidebar') || f.url().startsWith('chrome-error:')),
    {
      timeoutMs: 10_000,
      message: 'the sidebar iframe',
    },
  );
}

describe('in a headless browser', () => {
  it('Bull Board renders with credentials and shows every queue', async (ctx) => {
    const page = await requireChromium(ctx).newPage();
    await page.setExtraHTTPHeaders({ authorization: basicAuthHeader() });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const res = await page.goto(`${t!.url}/admin/queues`);
    expect(res?.status()).toBe(200);
    for (const name of QUEUE_NAMES) {
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15_000 });
    }
    expect(await page.title()).toBe('Workspace Mirror queues');
    expect(errors).toEqual([]);
  });

  it('Bull Board without credentials gets the 401 challenge, not the board', async (ctx) => {
    const page = await requireChromium(ctx).newPage();
    // A headless browser cannot show the login prompt, so ask from a page of the same origin.
    await page.goto(`${t!.url}/health`);
    const answer = await page.evaluate(async () => {
      // credentials: 'omit' keeps Chrome from turning the challenge into a login prompt.
      const res = await fetch('/admin/queues', { credentials: 'omit' });
      return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
    });
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(/^Basic realm=/);
    expect(answer.body).not.toContain('<div id="root">');
  });

  it('the sidebar renders framed by a Clockify page', async (ctx) => {
    const browser = requireChromium(ctx);
    const token = await t!.userToken('ws-browser', 'addon-b');
    const page = await openAt(
      browser,
      'https://app.clockify.me',
      `<!doctype html><iframe id="addon" src="${t!.url}/ui/sidebar?auth_token=${token}" width="400" height="600"></iframe>`,
    );
    const frame = await sidebarFrame(page);
    await frame.locator('h1').waitFor({ timeout: 10_000 });
    expect(await frame.locator('h1').textContent()).toBe('Workspace Mirror');
    expect(await frame.locator('.badge.active').textContent()).toBe('ACTIVE');
    expect(await frame.locator('[role=progressbar]').getAttribute('aria-valuenow')).toBe('50');
    expect(await frame.locator('table').textContent()).toContain('NEW_PROJECT');
    // The nonce'd stylesheet applied (a CSP that blocked it would leave the default margin).
    expect(
      await frame
        .locator('body')
        .evaluate(
          (b) =>
            (globalThis as unknown as { getComputedStyle(e: unknown): { margin: string } }).getComputedStyle(b).margin,
        ),
    ).toBe('12px');
  });

  it('the sidebar renders framed by a configured UI_FRAME_ANCESTORS origin', async (ctx) => {
    const browser = requireChromium(ctx);
    const token = await t!.userToken('ws-browser', 'addon-b');
    const page = await openAt(
      browser,
      EMBEDDER,
      `<!doctype html><iframe src="${t!.url}/ui/sidebar?auth_token=${token}"></iframe>`,
    );
    const frame = await sidebarFrame(page);
    await frame.locator('h1').waitFor({ timeout: 10_000 });
    expect(await frame.locator('h1').textContent()).toBe('Workspace Mirror');
  });

  it('the sidebar is blocked by its CSP when framed by another origin', async (ctx) => {
    const page = await requireChromium(ctx).newPage();
    const token = await t!.userToken('ws-browser', 'addon-b');
    const messages: string[] = [];
    page.on('console', (m) => messages.push(m.text()));
    const origin = 'https://clockify.me.evil.example';
    await page.route(`${origin}/**`, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: `<!doctype html><iframe src="${t!.url}/ui/sidebar?auth_token=${token}"></iframe>`,
      }),
    );
    await page.goto(`${origin}/tracker`);
    // The browser says why: the frame-ancestors directive, not some network failure.
    const violation = await waitFor(() => messages.find((m) => m.includes('frame-ancestors')), {
      timeoutMs: 10_000,
      message: 'the CSP violation',
    });
    expect(violation).toMatch(/blocked/i);
    expect(violation).toContain('https://*.clockify.me');
    const frame = await sidebarFrame(page);
    expect(frame.url()).toMatch(/^chrome-error:/);
    expect(await frame.getByText('Workspace Mirror').count()).toBe(0);
  });
});
