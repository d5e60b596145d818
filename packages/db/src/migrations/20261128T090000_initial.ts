import { sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE installations (
      workspace_id    text        NOT NULL,
      addon_id        text        NOT NULL,
      status          text        NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE', 'DELETED')),
      api_url         text,
      backend_url     text,
      reports_url     text,
      addon_user_id   text,
      installed_by    text,
      auth_token_enc  text CHECK (auth_token_enc IS NULL OR auth_token_enc LIKE 'enc:%'),
      settings        jsonb       NOT NULL DEFAULT '[]'::jsonb,
      last_seq        bigint      NOT NULL DEFAULT 0,
      status_seq      bigint      NOT NULL DEFAULT 0,
      settings_seq    bigint      NOT NULL DEFAULT 0,
      installed_at    timestamptz NOT NULL DEFAULT now(),
      updated_at      timestamptz NOT NULL DEFAULT now(),
      deleted_at      timestamptz,
      purge_after     timestamptz,
      PRIMARY KEY (workspace_id, addon_id)
    )`.execute(db);
  await sql`CREATE INDEX installations_status_idx ON installations (status)`.execute(db);
  await sql`CREATE INDEX installations_purge_idx ON installations (purge_after) WHERE purge_after IS NOT NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE installation_webhooks (
      workspace_id  text        NOT NULL,
      addon_id      text        NOT NULL,
      event         text        NOT NULL,
      path          text        NOT NULL,
      token_enc     text        NOT NULL CHECK (token_enc LIKE 'enc:%'),
      token_hash    text        NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, addon_id, event),
      FOREIGN KEY (workspace_id, addon_id) REFERENCES installations (workspace_id, addon_id) ON DELETE CASCADE
    )`.execute(db);

  // Partitioned by day so retention drops whole partitions; partitions are created ahead of
  // time (and on demand) by the application, see partitions.ts.
  await sql`
    CREATE TABLE webhook_events (
      delivery_key  text        NOT NULL,
      window_start  timestamptz NOT NULL,
      workspace_id  text        NOT NULL,
      addon_id      text,
      event         text        NOT NULL,
      status        text        NOT NULL CHECK (status IN ('received', 'done', 'failed', 'skipped', 'ignored', 'orphaned')),
      token_check   text CHECK (token_check IN ('matched', 'mismatch', 'no_stored_token', 'unverified')),
      entity_id     text,
      job_id        text,
      attempts      integer     NOT NULL DEFAULT 0,
      error         text,
      received_at   timestamptz NOT NULL,
      processed_at  timestamptz,
      PRIMARY KEY (delivery_key, window_start)
    ) PARTITION BY RANGE (window_start)`.execute(db);
  await sql`CREATE INDEX webhook_events_workspace_idx ON webhook_events (workspace_id, received_at DESC)`.execute(db);

  await sql`
    CREATE TABLE bootstrap_runs (
      id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
      workspace_id  text        NOT NULL,
      addon_id      text        NOT NULL,
      status        text        NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'PAUSED', 'COMPLETED', 'PARTIAL', 'FAILED')),
      trigger       text        NOT NULL CHECK (trigger IN ('install', 'manual', 'reconcile')),
      job_id        text,
      error         text,
      paused_until  timestamptz,
      created_at    timestamptz NOT NULL DEFAULT now(),
      started_at    timestamptz,
      finished_at   timestamptz,
      updated_at    timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // At most one active run per workspace.
  await sql`
    CREATE UNIQUE INDEX bootstrap_runs_one_active_idx ON bootstrap_runs (workspace_id, addon_id)
    WHERE status IN ('PENDING', 'RUNNING', 'PAUSED')`.execute(db);
  await sql`CREATE INDEX bootstrap_runs_workspace_idx ON bootstrap_runs (workspace_id, created_at DESC)`.execute(db);

  await sql`
    CREATE TABLE bootstrap_resources (
      run_id         uuid        NOT NULL REFERENCES bootstrap_runs (id) ON DELETE CASCADE,
      resource       text        NOT NULL,
      status         text        NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED')),
      cursor         jsonb,
      pages          integer     NOT NULL DEFAULT 0,
      items          integer     NOT NULL DEFAULT 0,
      requests       integer     NOT NULL DEFAULT 0,
      error          text,
      missing_scope  text,
      started_at     timestamptz,
      finished_at    timestamptz,
      updated_at     timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (run_id, resource)
    )`.execute(db);

  await sql`
    CREATE TABLE workspace_entities (
      workspace_id  text        NOT NULL,
      entity_type   text        NOT NULL,
      entity_id     text        NOT NULL,
      data          jsonb       NOT NULL,
      deleted       boolean     NOT NULL DEFAULT false,
      source        text        NOT NULL CHECK (source IN ('webhook', 'bootstrap')),
      last_event    text,
      seen_run_id   uuid,
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, entity_type, entity_id)
    )`.execute(db);

  await sql`
    CREATE TABLE dead_letters (
      id             bigserial   PRIMARY KEY,
      queue          text        NOT NULL,
      job_name       text        NOT NULL,
      job_id         text        NOT NULL,
      workspace_id   text,
      payload        jsonb       NOT NULL,
      error          text        NOT NULL,
      attempts       integer     NOT NULL,
      failed_at      timestamptz NOT NULL DEFAULT now(),
      replayed_at    timestamptz,
      replay_job_id  text,
      UNIQUE (queue, job_id)
    )`.execute(db);
  await sql`CREATE INDEX dead_letters_open_idx ON dead_letters (failed_at DESC) WHERE replayed_at IS NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'dead_letters',
    'workspace_entities',
    'bootstrap_resources',
    'bootstrap_runs',
    'webhook_events',
    'installation_webhooks',
    'installations',
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)} CASCADE`.execute(db);
  }
}
