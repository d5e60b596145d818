import { sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  // The ingress's sequence of the last webhook applied to the row: an older change that a worker
  // finishes later is refused, so the last change received wins. NULL: no sequenced write yet.
  await sql`ALTER TABLE workspace_entities ADD COLUMN webhook_seq bigint`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE workspace_entities DROP COLUMN IF EXISTS webhook_seq`.execute(db);
}
