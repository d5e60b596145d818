import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingMigrations, openDatabase, sql } from '@cap/db';
import { createLogger } from '@cap/observability';
import { createTestDatabase, type TestDatabase } from '@cap/testing';
import { StartupError, openMigratedDatabase } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const logger = createLogger({ name: 'test', level: 'silent' });
const addon = {
  key: 'own-schema',
  migrations: {
    '001_notes': {
      up: async (db: Parameters<typeof pendingMigrations>[0]) => {
        await db.schema.createTable('own_schema_notes').addColumn('id', 'text').execute();
      },
    },
  },
};

let testDb: TestDatabase;
const config = (migrate: boolean) => ({
  DATABASE_URL: testDb.url,
  DATA_DIR: '/unused',
  DATABASE_POOL_MAX: 2,
  DATABASE_CONNECT_TIMEOUT_MS: 5000,
  MIGRATE_ON_START: migrate,
});

beforeAll(async () => {
  testDb = await createTestDatabase('migrate_on_start');
});
afterAll(async () => {
  await testDb?.drop();
});

describe('MIGRATE_ON_START', () => {
  it('false: refuses to start on a schema that is behind, naming the migrations and the Job', async () => {
    const err = await openMigratedDatabase(config(false), logger, 'test', addon).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(/migrations pending \(\d{8}T\d{6}_\w+, .*\(\d+ in all\)\)/);
    expect((err as Error).message).toMatch(/infra\/k8s\/migrate-job\.yaml|npm run db:migrate/);
  });

  it('`npm run db:migrate` applies them even where the apps are told not to', () => {
    const run = spawnSync(process.execPath, ['apps/worker/dist/migrate.js'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: testDb.url, MIGRATE_ON_START: 'false', LOG_LEVEL: 'info' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('database migrated');
  });

  it('false: starts on an up-to-date schema, and refuses once the add-on brings a new migration', async () => {
    // The script migrated the example add-on's (none); this add-on's own is still pending.
    const refused = await openMigratedDatabase(config(false), logger, 'test', addon).catch((e: unknown) => e);
    expect((refused as Error).message).toContain('migrations pending (own-schema:001_notes)');
    const handle = await openMigratedDatabase(config(true), logger, 'test', addon);
    await handle.close();
    const started = await openMigratedDatabase(config(false), logger, 'test', addon);
    try {
      await sql`SELECT count(*) FROM own_schema_notes`.execute(started.db);
    } finally {
      await started.close();
    }
    const check = await openDatabase({ url: testDb.url, dataDir: '/unused' });
    try {
      expect(await pendingMigrations(check.db, addon)).toEqual([]);
    } finally {
      await check.close();
    }
  });
});
