import { defineAddon, escapeHtml, type AddonPage } from '@cap/addon';

/**
 * This add-on's own table (created by its migration below): one row per project event. A type
 * alias, not an interface, so Kysely's `withTables` accepts it.
 */
export type __PASCAL__Tables = {
  __SNAKE___project_events: {
    workspace_id: string;
    project_id: string;
    project_name: string | null;
    event: string;
    received_at: Date;
  };
};

/** The id of the setting that titles the page. */
export const TITLE_SETTING = 'page-title';

/** The sidebar page: the latest project events of the viewer's workspace. */
const projectEventsPage: AddonPage = {
  path: '/ui/__NAME__',
  render: async (ctx) => {
    const rows = await ctx.db
      .withTables<__PASCAL__Tables>()
      .selectFrom('__SNAKE___project_events')
      .selectAll()
      .where('workspace_id', '=', ctx.workspaceId)
      .orderBy('received_at', 'desc')
      .limit(20)
      .execute();
    const items = rows
      .map((r) => `<li>${escapeHtml(r.event)}: ${escapeHtml(r.project_name ?? r.project_id)}</li>`)
      .join('');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<style nonce="${ctx.nonce}">body{font:14px system-ui,sans-serif;margin:12px}</style></head>
<body><h1>${escapeHtml(ctx.setting<string>(TITLE_SETTING))}</h1>
${items ? `<ul>${items}</ul>` : '<p>No project events yet.</p>'}</body></html>`;
  },
};

/**
 * __TITLE__. Records every new and deleted project of a workspace in a table of its own, keeps
 * the projects in the platform's mirror, and lists the latest events on a sidebar page.
 */
export const addon = defineAddon({
  key: '__NAME__',
  name: '__TITLE__',
  description: 'Records the project events of a workspace and lists the latest in a sidebar.',
  minimalSubscriptionPlan: 'FREE',
  scopes: ['PROJECT_READ'],
  components: [{ type: 'sidebar', accessLevel: 'ADMINS', path: projectEventsPage.path, label: '__TITLE__' }],
  pages: [projectEventsPage],
  settings: {
    tabs: [
      {
        id: 'general',
        name: 'General',
        settings: [
          {
            id: TITLE_SETTING,
            name: 'Page title',
            type: 'TXT',
            value: 'Latest project events',
            accessLevel: 'ADMINS',
          },
        ],
      },
    ],
  },
  migrations: {
    '0001_project_events': {
      up: async (db) => {
        await db.schema
          .createTable('__SNAKE___project_events')
          .addColumn('workspace_id', 'text', (c) => c.notNull())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('project_name', 'text')
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('received_at', 'timestamptz', (c) => c.notNull())
          .execute();
      },
    },
  },
  events: ['NEW_PROJECT', 'PROJECT_DELETED'],
  handlers: {
    NEW_PROJECT: async (project, ctx) => {
      await ctx.tx
        .withTables<__PASCAL__Tables>()
        .insertInto('__SNAKE___project_events')
        .values({
          workspace_id: ctx.workspaceId,
          project_id: project.id,
          project_name: project.name ?? null,
          event: ctx.event,
          received_at: ctx.receivedAt,
        })
        .execute();
      ctx.mirror.created('project', project.id, project);
    },
    PROJECT_DELETED: async (project, ctx) => {
      await ctx.tx
        .withTables<__PASCAL__Tables>()
        .insertInto('__SNAKE___project_events')
        .values({
          workspace_id: ctx.workspaceId,
          project_id: project.id,
          project_name: project.name ?? null,
          event: ctx.event,
          received_at: ctx.receivedAt,
        })
        .execute();
      ctx.mirror.deleted('project', project.id, project);
    },
  },
});
