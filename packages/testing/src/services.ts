import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

/** Redis for tests: `REDIS_URL`, default the local server. */
export function testRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** Postgres for tests: `TEST_DATABASE_URL`, default the local server's `test` database. */
export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** A BullMQ prefix no other test uses. */
export function uniquePrefix(label: string): string {
  return `t-${label.replace(/[^A-Za-z0-9]/g, '').slice(0, 20)}-${randomBytes(5).toString('hex')}`;
}

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database on the test server, so each test file migrates and writes its own
 * tables. `drop()` removes it (forcing off connections the test forgot to close).
 */
export async function createTestDatabase(label = 'db'): Promise<TestDatabase> {
  const base = new URL(testDatabaseUrl());
  const name = `cap_${label
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: base.toString() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Deletes every key under a prefix (SCAN, never KEYS). */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<number> {
  // Tests on a Sentinel or Cluster of their own throw the whole server away afterwards.
  if (!/^rediss?:\/\//.test(url)) return 0;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
