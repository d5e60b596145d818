import { sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  // Forwarding rules of an installation: which events go where, filtered and transformed by
  // JSONata. The signing secret (and the previous one during a rotation) and the extra header
  // values are encrypted like tokens; only the header names are kept in the clear.
  await sql`
    CREATE TABLE forwarding_rules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      workspace_id text NOT NULL,
      addon_id text NOT NULL,
      name text NOT NULL,
      events jsonb NOT NULL,
      filter text,
      transform text,
      destination_url text NOT NULL,
      header_names jsonb NOT NULL DEFAULT '[]'::jsonb,
      headers_enc text,
      secret_enc text NOT NULL,
      previous_secret_enc text,
      previous_secret_until timestamptz,
      secret_rotated_at timestamptz,
      enabled boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (workspace_id, addon_id, name)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS forwarding_rules`.execute(db);
}
