import type { ColumnType, Selectable } from 'kysely';

/**
 * received → done | failed while a handler runs; skipped (INACTIVE), ignored (DELETED or token
 * mismatch) and orphaned (never installed) record why a delivery had no effect.
 */
export type WebhookEventStatus = 'received' | 'done' | 'failed' | 'skipped' | 'ignored' | 'orphaned';

/** How the delivery's token was checked against the installation. */
export type WebhookTokenCheck = 'matched' | 'mismatch' | 'no_stored_token' | 'unverified';

/** One row per delivery key and dedupe window; partitioned by day on window_start. */
export interface WebhookEventsTable {
  delivery_key: string;
  window_start: ColumnType<Date, Date | string, never>;
  workspace_id: string;
  addon_id: string | null;
  event: string;
  status: WebhookEventStatus;
  token_check: WebhookTokenCheck | null;
  entity_id: string | null;
  job_id: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  error: string | null;
  received_at: ColumnType<Date, Date | string, never>;
  processed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type WebhookEvent = Selectable<WebhookEventsTable>;
