import { sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  // What Clockify last said about the installation's webhooks (GET …/addons/{addonId}/webhooks):
  // the ones whose delivery it switched off (after repeated failures) or never enabled.
  await sql`ALTER TABLE installations ADD COLUMN webhook_health jsonb`.execute(db);
  await sql`ALTER TABLE installations ADD COLUMN webhooks_checked_at timestamptz`.execute(db);
  await sql`CREATE INDEX installations_webhook_check_idx ON installations (webhooks_checked_at NULLS FIRST) WHERE status = 'ACTIVE'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS installations_webhook_check_idx`.execute(db);
  await sql`ALTER TABLE installations DROP COLUMN IF EXISTS webhooks_checked_at`.execute(db);
  await sql`ALTER TABLE installations DROP COLUMN IF EXISTS webhook_health`.execute(db);
}
