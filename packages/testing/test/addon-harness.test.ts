import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAddon } from '@cap/addon';
import { sql } from '@cap/db';
import { HandlerHarness } from '@cap/testing/addon';

// A type alias, not an interface: Kysely's withTables wants an index-compatible record.
type NoteTables = {
  harness_tag_notes: { tag_id: string; workspace_tag_count: number; note: string };
};

/** An add-on with its own table, a setting, an API call and mirror writes: what the harness must run. */
const noted = defineAddon({
  key: 'harness-notes',
  name: 'Harness Notes',
  minimalSubscriptionPlan: 'FREE',
  scopes: ['TAG_READ'],
  settings: {
    tabs: [
      {
        id: 'general',
        name: 'General',
        settings: [{ id: 'note', name: 'Note', type: 'TXT', value: 'default note', accessLevel: 'ADMINS' }],
      },
    ],
  },
  migrations: {
    '001_tag_notes': {
      up: async (db) => {
        await db.schema
          .createTable('harness_tag_notes')
          .addColumn('tag_id', 'text', (c) => c.primaryKey())
          .addColumn('workspace_tag_count', 'integer', (c) => c.notNull())
          .addColumn('note', 'text', (c) => c.notNull())
          .execute();
      },
    },
  },
  events: ['NEW_TAG', 'TAG_DELETED'],
  handlers: {
    NEW_TAG: async (tag, ctx) => {
      const tags = await ctx.api.request('GET', '/v1/workspaces/{workspaceId}/tags');
      ctx.logger.info({ tags: tags.data.length }, 'tag noted');
      await ctx.tx
        .withTables<NoteTables>()
        .insertInto('harness_tag_notes')
        .values({ tag_id: tag.id, workspace_tag_count: tags.data.length, note: ctx.setting<string>('note') ?? '' })
        .execute();
      ctx.mirror.created('tag', tag.id, tag);
    },
    TAG_DELETED: (tag, ctx) => {
      if (tag.name === 'boom') throw new Error('handler failed');
      ctx.mirror.deleted('tag', tag.id, tag);
    },
  },
});

let harness: HandlerHarness;
beforeAll(async () => {
  harness = await HandlerHarness.start(noted);
});
afterAll(async () => {
  await harness?.close();
});

const notes = () =>
  harness.db.withTables<NoteTables>().selectFrom('harness_tag_notes').selectAll().orderBy('tag_id').execute();

describe('HandlerHarness', () => {
  it('runs a handler with its own table, the mock API, settings and the mirror, and reports what it did', async () => {
    const body = harness.body('NEW_TAG') as { id: string; name: string; workspaceId: string };
    expect(body.workspaceId).toBe(harness.workspaceId);
    const run = await harness.run('NEW_TAG', body);

    expect(run.apiCalls).toEqual([{ method: 'GET', path: `/v1/workspaces/${harness.workspaceId}/tags`, status: 200 }]);
    expect(run.mirrorWrites).toEqual([
      { change: 'created', entityType: 'tag', entityId: body.id, data: body, applied: true },
    ]);
    expect(run.logs.find((l) => l.msg === 'tag noted')).toMatchObject({ level: 'info', event: 'NEW_TAG' });
    const [note] = await notes();
    expect(note).toMatchObject({ tag_id: body.id, note: 'default note' });
    expect(note!.workspace_tag_count).toBeGreaterThan(0);
    expect((await harness.entity('tag', body.id))?.data).toMatchObject({ id: body.id, name: body.name });
  });

  it('applies the platform write rules: a creation after a deletion is refused and reported so', async () => {
    const body = harness.body('NEW_TAG') as { id: string };
    const other = { ...body, id: `${body.id.slice(0, -4)}beef` };
    await harness.run('TAG_DELETED', other);
    const run = await harness.run('NEW_TAG', other, { settings: { note: 'second' } });
    expect(run.mirrorWrites).toEqual([expect.objectContaining({ change: 'created', applied: false })]);
    expect((await harness.entity('tag', other.id))?.deleted).toBe(true);
    expect((await notes()).find((n) => n.tag_id === other.id)?.note).toBe('second');
  });

  it('rolls back a handler that throws, and refuses an event the add-on does not handle', async () => {
    const before = (await harness.entities('tag')).length;
    const body = { ...harness.body('TAG_DELETED'), name: 'boom' };
    await expect(harness.run('TAG_DELETED', body)).rejects.toThrow('handler failed');
    expect((await harness.entities('tag')).length).toBe(before);
    await expect(harness.run('NEW_PROJECT', harness.body('NEW_PROJECT'))).rejects.toThrow(/no handler for NEW_PROJECT/);
  });

  it('records the add-on migrations apart from the platform ones', async () => {
    const rows = await sql<{ name: string }>`SELECT name FROM addon_migrations_harness_notes`.execute(harness.db);
    expect(rows.rows.map((r) => r.name)).toEqual(['001_tag_notes']);
  });
});
