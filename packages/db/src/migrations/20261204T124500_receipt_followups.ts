import { sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  // When the follow-ups of an applied lifecycle call (bootstrap start, purge scheduling, the
  // token registry) were done: a retry of the same call after its commit redoes them until set.
  await sql`ALTER TABLE lifecycle_receipts ADD COLUMN followups_done_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE lifecycle_receipts DROP COLUMN IF EXISTS followups_done_at`.execute(db);
}
