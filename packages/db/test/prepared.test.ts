import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@cap/testing';
import {
  MAX_PREPARED_PER_CONNECTION,
  PREPARED,
  PREPARED_MARK,
  getEntity,
  migrateToLatest,
  openDatabase,
  prepareMarkedQueries,
  tombstoneEntity,
  upsertEntityFromWebhook,
  type DatabaseHandle,
} from '../src/index.js';

describe('prepareMarkedQueries (unit)', () => {
  function fakeClient() {
    const calls: unknown[][] = [];
    const client = { query: (...args: unknown[]) => void calls.push(args) };
    prepareMarkedQueries(client);
    return { client, calls };
  }

  it('names marked parameterised queries by a hash of their text and leaves the rest alone', () => {
    const { client, calls } = fakeClient();
    const marked = `${PREPARED_MARK} INSERT INTO t VALUES ($1)`;
    client.query(marked, [1]);
    client.query(marked, [2]);
    client.query('SELECT $1::int', [3]);
    client.query(`${PREPARED_MARK} SELECT 1`);
    client.query('BEGIN');
    // Without parameters (as Kysely sends plain SQL): the mark may be inside a literal; not prepared.
    client.query(`SELECT '${PREPARED_MARK}'`, []);
    const [a, b] = calls as [[{ name: string; text: string; values: unknown[] }], [{ name: string }]];
    expect(a[0]).toMatchObject({ text: marked, values: [1] });
    expect(a[0].name).toMatch(/^prep_[0-9a-f]{24}$/);
    expect(b[0].name).toBe(a[0].name);
    expect(calls[2]).toEqual(['SELECT $1::int', [3]]);
    expect(calls[3]).toEqual([`${PREPARED_MARK} SELECT 1`]);
    expect(calls[4]).toEqual(['BEGIN']);
    expect(calls[5]).toEqual([`SELECT '${PREPARED_MARK}'`, []]);
  });

  it('prepares at most MAX_PREPARED_PER_CONNECTION texts per connection; more run unprepared', () => {
    const { client, calls } = fakeClient();
    for (let i = 0; i <= MAX_PREPARED_PER_CONNECTION; i++) client.query(`${PREPARED_MARK} SELECT $1 + ${i}`, [i]);
    client.query(`${PREPARED_MARK} SELECT $1 + 0`, [0]);
    const named = calls.filter((c) => typeof c[0] === 'object');
    expect(named).toHaveLength(MAX_PREPARED_PER_CONNECTION + 1); // the 64 texts, and the first one again
    expect(calls[MAX_PREPARED_PER_CONNECTION]).toEqual([
      `${PREPARED_MARK} SELECT $1 + ${MAX_PREPARED_PER_CONNECTION}`,
      [MAX_PREPARED_PER_CONNECTION],
    ]);
  });
});

describe('marked queries against Postgres', () => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    testDb = await createTestDatabase('prepared');
    // One connection, so every query below runs on the same session.
    handle = await openDatabase({ url: testDb.url, dataDir: '/unused', poolMax: 1 });
    await migrateToLatest(handle.db);
  });
  afterAll(async () => {
    await handle?.close();
    await testDb?.drop();
  });

  it('are prepared once per connection and reused; the mirror writes behave as before', async () => {
    for (const x of [1, 2, 3]) {
      const { rows } = await sql<{ x: number }>`${PREPARED} SELECT ${x}::int AS x`.execute(handle.db);
      expect(rows).toEqual([{ x }]);
    }
    const key = { workspaceId: 'ws-prepared', entityType: 'tag', entityId: 't1' };
    expect(await upsertEntityFromWebhook(handle.db, key, { id: 't1', name: 'One' }, 'NEW_TAG')).toBe(true);
    expect(await upsertEntityFromWebhook(handle.db, key, { id: 't1', name: 'Two' }, 'TAG_UPDATED')).toBe(true);
    expect((await getEntity(handle.db, key))?.data).toEqual({ id: 't1', name: 'Two' });
    await tombstoneEntity(handle.db, key, { id: 't1' }, 'TAG_DELETED');
    // A tombstone is not revived by a late update.
    expect(await upsertEntityFromWebhook(handle.db, key, { id: 't1', name: 'Late' }, 'TAG_UPDATED')).toBe(false);
    expect((await getEntity(handle.db, key))?.deleted).toBe(true);

    const { rows } = await sql<{ name: string; statement: string }>`
      SELECT name, statement FROM pg_prepared_statements ORDER BY name`.execute(handle.db);
    expect(rows.every((r) => r.statement.includes(PREPARED_MARK))).toBe(true);
    expect(rows.filter((r) => r.statement.includes('SELECT $1::int AS x'))).toHaveLength(1);
    // Creations, updates and tombstones share one statement (applyEntityWrites), prepared once.
    expect(rows.filter((r) => r.statement.includes('INSERT INTO workspace_entities'))).toHaveLength(1);
  });

  it('are sent unprepared when prepared statements are turned off (DATABASE_PREPARED_STATEMENTS=false)', async () => {
    const plain = await openDatabase({ url: testDb.url, dataDir: '/unused', poolMax: 1, preparedStatements: false });
    try {
      for (const x of [1, 2]) {
        const { rows } = await sql<{ x: number }>`${PREPARED} SELECT ${x}::int AS x`.execute(plain.db);
        expect(rows).toEqual([{ x }]);
      }
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements`.execute(
        plain.db,
      );
      expect(rows[0]?.n).toBe(0);
    } finally {
      await plain.close();
    }
  });
});
