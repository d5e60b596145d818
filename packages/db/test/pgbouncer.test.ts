import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import {
  createTestDatabase,
  pgBouncerAvailable,
  startPgBouncer,
  type OwnPgBouncer,
  type TestDatabase,
} from '@cap/testing';
import { migrateToLatest, openDatabase, sql, upsertEntityFromWebhook, getEntity } from '../src/index.js';

/**
 * Through a real PgBouncer in transaction mode (Debian's `pgbouncer`). CI installs it, so there a
 * missing one fails; elsewhere the tests skip.
 */
const MISSING = 'pgbouncer is not installed (apt-get install pgbouncer)';
function requirePgBouncer(ctx: TestContext): void {
  if (pgBouncerAvailable()) return;
  if (process.env.CI === 'true') throw new Error(`${MISSING}; CI must test the database through it`);
  ctx.skip(MISSING);
}

let testDb: TestDatabase;
let bouncer: OwnPgBouncer | undefined;
beforeAll(async () => {
  testDb = await createTestDatabase('pgbouncer');
  if (pgBouncerAvailable()) bouncer = await startPgBouncer(testDb.url, { poolMode: 'transaction', poolSize: 2 });
});
afterAll(async () => {
  await bouncer?.close();
  await testDb?.drop();
});

describe('Postgres behind PgBouncer in transaction mode', () => {
  it('refuses the statement timeout as a startup parameter: why DATABASE_POOL_MODE exists', async (ctx) => {
    requirePgBouncer(ctx);
    const session = await openDatabase({ url: bouncer!.url, dataDir: '/unused', poolMax: 1, poolMode: 'session' });
    try {
      await expect(sql`SELECT 1`.execute(session.db)).rejects.toThrow(/unsupported startup parameter/);
    } finally {
      await session.close();
    }
  });

  it('migrates, writes and reads with DATABASE_POOL_MODE=transaction', async (ctx) => {
    requirePgBouncer(ctx);
    const h = await openDatabase({ url: bouncer!.url, dataDir: '/unused', poolMax: 4, poolMode: 'transaction' });
    try {
      await migrateToLatest(h.db);
      const key = { workspaceId: 'ws-bouncer', entityType: 'tag', entityId: 't-1' };
      // Prepared statements are off: the marked hot-path queries run as plain ones here.
      await h.db.transaction().execute((tx) => upsertEntityFromWebhook(tx, key, { id: 't-1' }, 'NEW_TAG'));
      expect((await getEntity(h.db, key))?.data).toEqual({ id: 't-1' });
    } finally {
      await h.close();
    }
  });

  it('bounds every transaction by the statement timeout, and the setting never leaks to the next client', async (ctx) => {
    requirePgBouncer(ctx);
    const h = await openDatabase({
      url: bouncer!.url,
      dataDir: '/unused',
      poolMax: 2,
      poolMode: 'transaction',
      statementTimeoutMs: 300,
    });
    try {
      await expect(h.db.transaction().execute((tx) => sql`SELECT pg_sleep(2)`.execute(tx))).rejects.toThrow(
        /statement timeout/,
      );
      const inside = await h.db
        .transaction()
        .execute((tx) => sql<{ t: string }>`SELECT current_setting('statement_timeout') AS t`.execute(tx));
      expect(inside.rows[0]!.t).toBe('300ms');
      // Outside a transaction the server connection has its role's default: SET LOCAL ended with
      // the transaction that made it.
      const outside = await sql<{ t: string }>`SELECT current_setting('statement_timeout') AS t`.execute(h.db);
      expect(outside.rows[0]!.t).toBe('0');
    } finally {
      await h.close();
    }
  });
});
