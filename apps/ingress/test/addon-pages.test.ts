import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { defineAddon, escapeHtml, type AddonPage } from '@cap/addon';
import { createTestDatabase } from '@cap/testing';
import { expectError, startTestIngress, type TestIngress } from './helpers.js';
import { Seeder } from './seed.js';

const ADDON_ID = 'addon-pages';

type NoteTables = { pages_test_notes: { workspace_id: string; note: string } };

const notesPage: AddonPage = {
  path: '/ui/notes',
  render: async (ctx) => {
    const notes = await ctx.db
      .withTables<NoteTables>()
      .selectFrom('pages_test_notes')
      .select('note')
      .where('workspace_id', '=', ctx.workspaceId)
      .execute();
    return `<!doctype html><style nonce="${ctx.nonce}">li{color:red}</style>
<h1>${escapeHtml(ctx.setting<string>('title'))}</h1><p id="who">${escapeHtml(ctx.userId)} ${escapeHtml(ctx.workspaceRole)}</p>
<p id="query">${escapeHtml(ctx.query.toString())}</p><ul>${notes.map((n) => `<li>${escapeHtml(n.note)}</li>`).join('')}</ul>`;
  },
};

/** An add-on with a table of its own and two pages: one shown to admins, one to everyone. */
const withPages = defineAddon({
  key: 'pages-test',
  name: 'Pages Test',
  minimalSubscriptionPlan: 'FREE',
  scopes: ['TAG_READ'],
  settings: {
    tabs: [
      {
        id: 'general',
        name: 'General',
        settings: [{ id: 'title', name: 'Title', type: 'TXT', value: 'Notes <default>', accessLevel: 'ADMINS' }],
      },
    ],
  },
  components: [
    { type: 'sidebar', accessLevel: 'ADMINS', path: '/ui/notes', label: 'Notes' },
    { type: 'widget', accessLevel: 'EVERYONE', path: '/ui/hello', label: 'Hello' },
  ],
  pages: [notesPage, { path: '/ui/hello', render: (ctx) => `<p>hello ${escapeHtml(ctx.workspaceId)}</p>` }],
  migrations: {
    '001_notes': {
      up: async (db) => {
        await db.schema
          .createTable('pages_test_notes')
          .addColumn('workspace_id', 'text', (c) => c.notNull())
          .addColumn('note', 'text', (c) => c.notNull())
          .execute();
      },
    },
  },
  events: ['NEW_TAG'],
  handlers: { NEW_TAG: () => undefined },
});

let t: TestIngress;
let seed: Seeder;
beforeAll(async () => {
  t = await startTestIngress({}, { addon: withPages });
  seed = new Seeder(t.config.DATABASE_URL!);
  await seed.installation('ws-pages', ADDON_ID, 'ACTIVE');
  await seed.installation('ws-gone', ADDON_ID, 'DELETED');
  await t.db
    .withTables<NoteTables>()
    .insertInto('pages_test_notes')
    .values([
      { workspace_id: 'ws-pages', note: '<b>first</b>' },
      { workspace_id: 'ws-other', note: 'never shown' },
    ])
    .execute();
});
afterAll(async () => {
  await seed?.close();
  await t?.close();
});

const open = (path: string, token?: string, query = '') =>
  fetch(`${t.url}${path}?${token === undefined ? '' : `auth_token=${encodeURIComponent(token)}&`}${query}`);

describe('pages of the add-on', () => {
  it('renders a page with the sidebar’s headers, the viewer, its settings and its own table', async () => {
    const res = await open('/ui/notes', await t.userToken('ws-pages', ADDON_ID), 'tab=2&x=%3Cy%3E');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/frame-ancestors 'self' https:\/\/\*\.clockify\.me/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBeNull();
    const html = await res.text();
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html).toContain('<h1>Notes &lt;default&gt;</h1>');
    expect(html).toContain('<p id="who">u-owner OWNER</p>');
    expect(html).toContain('<p id="query">tab=2&amp;x=%3Cy%3E</p>');
    expect(html).toContain('<li>&lt;b&gt;first&lt;/b&gt;</li>');
    expect(html).not.toContain('never shown');
    expect(html).not.toContain('auth_token');
  });

  it('refuses what the sidebar refuses: no token, a bad one, a token of another kind', async () => {
    await expectError(await open('/ui/notes'), 401, 'missing_token');
    await expectError(await open('/ui/notes', 'not-a-jwt'), 401, 'malformed');
    await expectError(await open('/ui/notes', await t.webhookToken('ws-pages', ADDON_ID)), 401, 'wrong_kind');
    await expectError(await open('/ui/notes', await t.installationToken('ws-pages', ADDON_ID)), 401);
  });

  it('shows an ADMINS page only to owners and admins, and refuses a token without a role', async () => {
    for (const workspaceRole of ['WORKSPACE_ADMIN', 'ADMIN']) {
      expect((await open('/ui/notes', await t.userToken('ws-pages', ADDON_ID, { workspaceRole }))).status).toBe(200);
    }
    await expectError(
      await open('/ui/notes', await t.userToken('ws-pages', ADDON_ID, { workspaceRole: 'TEAM_MANAGER' })),
      403,
      'forbidden',
    );
    await expectError(
      await open('/ui/notes', await t.userToken('ws-pages', ADDON_ID, { workspaceRole: undefined, language: 'EN' })),
      403,
      'forbidden',
    );
    const everyone = await open('/ui/hello', await t.userToken('ws-pages', ADDON_ID, { workspaceRole: 'USER' }));
    expect(everyone.status).toBe(200);
    expect(await everyone.text()).toBe('<p>hello ws-pages</p>');
  });

  it('refuses a workspace where the add-on is not installed, or was uninstalled', async () => {
    await expectError(await open('/ui/hello', await t.userToken('ws-gone', ADDON_ID)), 403, 'not_installed');
    await expectError(await open('/ui/hello', await t.userToken('ws-never', ADDON_ID)), 403, 'not_installed');
  });

  it('refuses to start with a page on a bad, reserved or repeated path', async () => {
    const page = (path: string): AddonPage => ({ path, render: () => '' });
    const database = await createTestDatabase('pages_refused');
    onTestFinished(() => database.drop());
    for (const [pages, message] of [
      [[page('/ui/sidebar')], /page 0 path \/ui\/sidebar is served by the platform/],
      [[page('/admin/x')], /served by the platform/],
      [[page('/ui/:id')], /must be an absolute path/],
      [[page('/ui/a'), page('/ui/a')], /page 1 path \/ui\/a is declared twice/],
    ] as const) {
      await expect(startTestIngress({}, { addon: { ...withPages, pages }, database })).rejects.toThrow(message);
    }
  });
});
