import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { TestContext } from 'vitest';

/**
 * Debian's chromium driven by playwright-core, for the tests of pages. CI installs chromium, so
 * there a missing browser fails; elsewhere the browser tests skip.
 */

export const CHROMIUM = '/usr/bin/chromium';
const MISSING = `chromium not found at ${CHROMIUM} (install it with \`apt-get install -y chromium\`)`;
const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * One browser with a new, empty profile, or undefined without chromium. Its pages get the
 * local-network-access permission: in production the pages are a public host framed by a public
 * host, while here a (mocked) public page frames a loopback one, which Chrome's Local Network
 * Access checks would block before the CSP is even consulted.
 */
export async function launchChromium(): Promise<Chromium | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  const profile = mkdtempSync(join(tmpdir(), 'cap-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    permissions: ['local-network-access'],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The browser, or skip the test (fail it under CI, which must check the pages). */
export function requireChromium(browser: Chromium | undefined, ctx: TestContext): BrowserContext {
  if (browser) return browser.context;
  if (process.env.CI === 'true') throw new Error(`${MISSING}; CI must check the pages in a browser`);
  return ctx.skip(MISSING);
}

/** Serves `html` as the page at `origin` (no network), and opens it. */
export async function openAt(browser: BrowserContext, origin: string, html: string): Promise<Page> {
  const page = await browser.newPage();
  await page.route(`${origin}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
  await page.goto(`${origin}/tracker`);
  return page;
}
