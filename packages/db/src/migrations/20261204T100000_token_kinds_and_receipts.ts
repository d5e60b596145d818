import { sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  // The installation token's hash: a lifecycle call signed with it is refused (a token of one
  // kind never serves as another), without decrypting anything.
  await sql`ALTER TABLE installations ADD COLUMN auth_token_hash text`.execute(db);

  // Lifecycle calls already decided, by SHA-256 over (token, type, raw body): the same call again
  // is a replay and is ignored, however much later it comes and whatever was applied meanwhile.
  await sql`
    CREATE TABLE lifecycle_receipts (
      receipt       text        PRIMARY KEY,
      workspace_id  text        NOT NULL,
      addon_id      text        NOT NULL,
      type          text        NOT NULL CHECK (type IN ('INSTALLED', 'DELETED', 'SETTINGS_UPDATED', 'STATUS_CHANGED')),
      seq           bigint      NOT NULL,
      outcome       text        NOT NULL,
      decided_at    timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX lifecycle_receipts_decided_idx ON lifecycle_receipts (decided_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS lifecycle_receipts`.execute(db);
  await sql`ALTER TABLE installations DROP COLUMN IF EXISTS auth_token_hash`.execute(db);
}
