import { sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  // Every Clockify API call an operator (admin API, CLI) or a workspace admin (API Studio) made:
  // who, where, what, the outcome, and both bodies truncated with secrets redacted.
  await sql`
    CREATE TABLE api_call_audit (
      id bigserial PRIMARY KEY,
      called_at timestamptz NOT NULL DEFAULT now(),
      actor_kind text NOT NULL CHECK (actor_kind IN ('admin', 'cli', 'user')),
      actor text NOT NULL,
      workspace_id text NOT NULL,
      operation_id text NOT NULL,
      method text NOT NULL,
      path_template text NOT NULL,
      outcome text NOT NULL CHECK (outcome IN ('ok', 'http_error', 'refused', 'failed')),
      status integer,
      duration_ms integer,
      request jsonb NOT NULL DEFAULT '{}'::jsonb,
      response text,
      error text
    )`.execute(db);
  await sql`CREATE INDEX api_call_audit_workspace_idx ON api_call_audit (workspace_id, called_at DESC)`.execute(db);
  await sql`CREATE INDEX api_call_audit_called_at_idx ON api_call_audit (called_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS api_call_audit`.execute(db);
}
