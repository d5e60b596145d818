import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, waitFor, type TestDatabase } from '@cap/testing';
import {
  addonMigrationTable,
  dropWebhookEventPartitionsBefore,
  ensureWebhookEventPartition,
  ensureWebhookEventPartitions,
  listWebhookEventPartitions,
  migrateToLatest,
  openDatabase,
  partitionName,
  type DatabaseHandle,
} from '../src/index.js';
import { migrations } from '../src/migrations/index.js';

let testDb: TestDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  testDb = await createTestDatabase('dbpkg');
  handle = await openDatabase({ url: testDb.url, dataDir: '/unused', poolMax: 4 });
});

afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

describe('migrations', () => {
  it('creates every table, once, even when several instances migrate at the same time', async () => {
    const others = await Promise.all(
      [1, 2, 3].map(() => openDatabase({ url: testDb.url, dataDir: '/unused', poolMax: 2 })),
    );
    const results = await Promise.all([handle, ...others].map((h) => migrateToLatest(h.db)));
    await Promise.all(others.map((h) => h.close()));
    expect(results.flatMap((r) => r.applied)).toEqual(Object.keys(migrations));
    const tables = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%'
      AND table_name NOT LIKE 'webhook_events_p%' ORDER BY table_name`.execute(handle.db);
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'api_call_audit',
      'bootstrap_resources',
      'bootstrap_runs',
      'dead_letters',
      'forwarding_rules',
      'installation_webhooks',
      'installations',
      'lifecycle_receipts',
      'webhook_events',
      'workspace_entities',
    ]);
    expect((await migrateToLatest(handle.db)).applied).toEqual([]);
  });

  it('keeps one active bootstrap run per workspace', async () => {
    await handle.db
      .insertInto('bootstrap_runs')
      .values({ workspace_id: 'w1', addon_id: 'a1', status: 'RUNNING', trigger: 'install' })
      .execute();
    await expect(
      handle.db
        .insertInto('bootstrap_runs')
        .values({ workspace_id: 'w1', addon_id: 'a1', status: 'PENDING', trigger: 'manual' })
        .execute(),
    ).rejects.toThrow(/bootstrap_runs_one_active_idx/);
    await handle.db
      .insertInto('bootstrap_runs')
      .values({ workspace_id: 'w1', addon_id: 'a1', status: 'COMPLETED', trigger: 'manual' })
      .execute();
  });

  it('refuses a plaintext token column value', async () => {
    await expect(
      handle.db
        .insertInto('installations')
        .values({
          workspace_id: 'w',
          addon_id: 'a',
          status: 'ACTIVE',
          auth_token_enc: 'plain-token',
          settings: '[]',
          api_url: null,
          backend_url: null,
          reports_url: null,
          addon_user_id: null,
          installed_by: null,
        })
        .execute(),
    ).rejects.toThrow(/check constraint/);
  });
});

describe('an add-on’s own migrations', () => {
  const table = (name: string) => ({
    up: async (db: Kysely<unknown>) => {
      await db.schema
        .createTable(name)
        .addColumn('id', 'text', (c) => c.primaryKey())
        .execute();
    },
  });

  it('run after the platform’s, once each, recorded in a table of the add-on’s own', async () => {
    const addon = { key: 'Own-Tables.v2', migrations: { '002_b': table('own_b'), '001_a': table('own_a') } };
    expect(addonMigrationTable(addon.key)).toBe('addon_migrations_own_tables_v2');
    expect(await migrateToLatest(handle.db, addon)).toEqual({
      applied: ['Own-Tables.v2:001_a', 'Own-Tables.v2:002_b'],
    });
    expect(await migrateToLatest(handle.db, addon)).toEqual({ applied: [] });
    const later = { ...addon, migrations: { ...addon.migrations, '003_c': table('own_c') } };
    expect(await migrateToLatest(handle.db, later)).toEqual({ applied: ['Own-Tables.v2:003_c'] });
    const recorded = await sql<{ name: string }>`SELECT name FROM addon_migrations_own_tables_v2 ORDER BY name`.execute(
      handle.db,
    );
    expect(recorded.rows.map((r) => r.name)).toEqual(['001_a', '002_b', '003_c']);
    // The platform's record holds none of them.
    const platform = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM kysely_migration WHERE name LIKE '00%'`.execute(handle.db);
    expect(platform.rows[0]!.n).toBe(0);
  });

  it('name the migration that failed, and refuse a key too long for a table name', async () => {
    const broken = {
      key: 'broken',
      migrations: {
        '001_bad': {
          up: async (db: Kysely<unknown>) => {
            await sql`SELECT * FROM no_such_table`.execute(db);
          },
        },
      },
    };
    await expect(migrateToLatest(handle.db, broken)).rejects.toThrow(/migration 001_bad failed: .*no_such_table/);
    expect(() => addonMigrationTable('k'.repeat(60))).toThrow(/too long/);
  });
});

describe('webhook_events partitions', () => {
  it('creates day partitions idempotently, also concurrently, and drops whole old days', async () => {
    const day = new Date('2026-01-10T12:00:00Z');
    await Promise.all([1, 2, 3, 4].map(() => ensureWebhookEventPartitions(handle.db, day, 3)));
    // A second handle has no cache and races the creation of the same partition.
    const other = await openDatabase({ url: testDb.url, dataDir: '/unused' });
    await Promise.all([ensureWebhookEventPartition(other.db, day), ensureWebhookEventPartition(handle.db, day)]);
    await other.close();
    const names = (await listWebhookEventPartitions(handle.db)).map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining(['webhook_events_p20260110', 'webhook_events_p20260111', 'webhook_events_p20260112']),
    );

    await handle.db
      .insertInto('webhook_events')
      .values({
        delivery_key: 'a'.repeat(64),
        window_start: '2026-01-10T11:55:00Z',
        workspace_id: 'w',
        event: 'NEW_TAG',
        status: 'done',
        received_at: '2026-01-10T11:56:00Z',
        addon_id: null,
        token_check: 'matched',
        entity_id: null,
        job_id: 'j',
        error: null,
      })
      .execute();
    const dropped = await dropWebhookEventPartitionsBefore(handle.db, new Date('2026-01-11T06:00:00Z'));
    expect(dropped).toEqual([{ name: 'webhook_events_p20260110', rows: 1 }]);
    expect(partitionName(new Date('2026-01-11T23:59:59Z'))).toBe('webhook_events_p20260111');
    const after = (await listWebhookEventPartitions(handle.db)).map((p) => p.name);
    expect(after).not.toContain('webhook_events_p20260110');
    expect(after).toContain('webhook_events_p20260111');
  });
});

describe('pool resilience', () => {
  it('survives a connection killed while idle in the pool', async () => {
    const h = await openDatabase({ url: testDb.url, dataDir: '/unused', poolMax: 2, applicationName: 'cap-idle-kill' });
    await h.ping();
    const admin = new pg.Client({ connectionString: testDb.url });
    await admin.connect();
    const killed = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cap-idle-kill' AND pid <> pg_backend_pid()`,
    );
    await admin.end();
    expect(killed.rowCount).toBeGreaterThan(0);
    // The dead idle client is reported and replaced; queries keep working and nothing crashed.
    await waitFor(async () => {
      await h.ping();
      return true;
    });
    await h.close();
  });
});

describe('embedded PGlite', () => {
  it('migrates and serialises transactions on its single connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cap-pglite-'));
    const h = await openDatabase({ dataDir: dir });
    try {
      expect(h.kind).toBe('pglite');
      expect((await migrateToLatest(h.db)).applied).toEqual(Object.keys(migrations));
      await ensureWebhookEventPartitions(h.db, new Date(), 2);
      // Concurrent transactions must not interleave on the one connection.
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          h.db
            .transaction()
            .execute(async (trx) => {
              await trx
                .insertInto('workspace_entities')
                .values({
                  workspace_id: 'w',
                  entity_type: 'tag',
                  entity_id: `t${i}`,
                  data: JSON.stringify({ i }),
                  source: 'webhook',
                  last_event: null,
                  seen_run_id: null,
                })
                .execute();
              if (i % 2 === 1) throw new Error('rollback');
            })
            .catch(() => undefined),
        ),
      );
      const rows = await h.db.selectFrom('workspace_entities').select('entity_id').orderBy('entity_id').execute();
      expect(rows.map((r) => r.entity_id)).toEqual(['t0', 't2', 't4', 't6', 't8']);
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
