import { sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  // INSTALLED webhooks[] entries that were not stored (bad token, path matching no route), with
  // the reason: shown to operators and on the sidebar, since such a webhook will never be accepted.
  await sql`ALTER TABLE installations ADD COLUMN skipped_webhooks jsonb NOT NULL DEFAULT '[]'::jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE installations DROP COLUMN IF EXISTS skipped_webhooks`.execute(db);
}
