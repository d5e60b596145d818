import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ensureWebhookEventPartition, type Database, type WebhookEventStatus } from '@cap/db';

/**
 * Rows the worker would have written, inserted through a connection of the test's own so the
 * ingress's recorded queries stay its own.
 */
export class Seeder {
  readonly db: Kysely<Database>;

  constructor(url: string) {
    this.db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
    });
  }

  async installation(
    workspaceId: string,
    addonId: string,
    status: 'ACTIVE' | 'INACTIVE' | 'DELETED' = 'ACTIVE',
    skippedWebhooks: readonly { index: number; path?: string; reason: string }[] = [],
  ): Promise<void> {
    await this.db
      .insertInto('installations')
      .values({
        workspace_id: workspaceId,
        addon_id: addonId,
        status,
        api_url: 'https://api.clockify.me/api',
        backend_url: 'https://api.clockify.me/api',
        reports_url: null,
        addon_user_id: 'u-addon',
        installed_by: 'u-owner',
        auth_token_enc: 'enc:v1:k:seeded-ciphertext',
        skipped_webhooks: JSON.stringify(skippedWebhooks),
        settings: '[]',
        installed_at: new Date('2026-11-01T10:00:00Z'),
      })
      .execute();
  }

  /** A RUNNING run with one finished and one running resource. */
  async runningBootstrap(workspaceId: string, addonId: string): Promise<string> {
    const run = await this.db
      .insertInto('bootstrap_runs')
      .values({
        workspace_id: workspaceId,
        addon_id: addonId,
        status: 'RUNNING',
        trigger: 'install',
        job_id: 'job-1',
        error: null,
        started_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.db
      .insertInto('bootstrap_resources')
      .values([
        {
          run_id: run.id,
          resource: 'projects',
          status: 'COMPLETED',
          pages: 3,
          items: 120,
          requests: 3,
          error: null,
          missing_scope: null,
        },
        {
          run_id: run.id,
          resource: 'tags',
          status: 'RUNNING',
          pages: 1,
          items: 50,
          requests: 1,
          error: null,
          missing_scope: null,
        },
      ])
      .execute();
    return run.id;
  }

  async webhookEvent(
    workspaceId: string,
    event: string,
    status: WebhookEventStatus,
    receivedAt = new Date(),
  ): Promise<void> {
    await ensureWebhookEventPartition(this.db, receivedAt);
    await this.db
      .insertInto('webhook_events')
      .values({
        delivery_key: `${workspaceId}-${event}-${receivedAt.getTime()}-${Math.random()}`,
        window_start: receivedAt,
        workspace_id: workspaceId,
        addon_id: null,
        event,
        status,
        token_check: 'matched',
        entity_id: 'e-1',
        job_id: 'j-1',
        attempts: 1,
        error: null,
        received_at: receivedAt,
      })
      .execute();
  }

  async entity(workspaceId: string, type: string, id: string): Promise<void> {
    await this.db
      .insertInto('workspace_entities')
      .values({
        workspace_id: workspaceId,
        entity_type: type,
        entity_id: id,
        data: JSON.stringify({ id }),
        source: 'bootstrap',
        last_event: null,
        seen_run_id: null,
      })
      .execute();
  }

  /** A dead letter of a webhook job whose payload is complete (replayable without the original job). */
  async deadLetter(workspaceId: string, payload: Record<string, unknown>): Promise<number> {
    const row = await this.db
      .insertInto('dead_letters')
      .values({
        queue: 'webhooks',
        job_name: 'webhook.process',
        job_id: `failed-${Math.random().toString(16).slice(2)}`,
        workspace_id: workspaceId,
        payload: JSON.stringify(payload),
        error: 'handler failed: boom',
        attempts: 8,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}
