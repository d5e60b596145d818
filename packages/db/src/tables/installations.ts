import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export type InstallationStatus = 'ACTIVE' | 'INACTIVE' | 'DELETED';

/** One of the installation's webhooks that Clockify does not deliver. */
export interface UndeliveredWebhook {
  readonly id?: string;
  readonly event?: string;
  /** False after repeated delivery failures (Clockify's `deliveryEnabled`). */
  readonly deliveryEnabled: boolean;
  readonly enabled: boolean;
  /** False when the plan does not allow it (`planEnabled`). */
  readonly planEnabled: boolean;
}

/** The result of the last check of an installation's webhooks with Clockify. */
export interface WebhookHealth {
  readonly checkedAt: string;
  readonly webhooks: number;
  readonly undelivered: readonly UndeliveredWebhook[];
  /** Why the check failed, when it did (the undelivered list is then the previous one). */
  readonly error?: string;
}

export interface SkippedWebhookRecord {
  readonly index: number;
  readonly path?: string;
  readonly reason: string;
}

/** One installation of the add-on in one workspace, keyed by (workspace_id, addon_id). */
export interface InstallationsTable {
  workspace_id: string;
  addon_id: string;
  status: InstallationStatus;
  /** `apiUrl` of INSTALLED (no `/v1`), the base of every API call. */
  api_url: string | null;
  /** `backendUrl` / `reportsUrl` claims of the installation token, when it carries them. */
  backend_url: string | null;
  reports_url: string | null;
  addon_user_id: string | null;
  installed_by: string | null;
  /** Installation token, AES-GCM ciphertext; NULL once uninstalled. */
  auth_token_enc: string | null;
  /** SHA-256 of the installation token (never accepted as a lifecycle token); NULL once uninstalled. */
  auth_token_hash: ColumnType<string | null, string | null | undefined, string | null>;
  /** INSTALLED webhooks[] entries not stored, and why: `{index, path?, reason}`. */
  skipped_webhooks: ColumnType<SkippedWebhookRecord[], string | undefined, string>;
  /** What Clockify last said about this installation's webhooks (see WebhookHealth). */
  webhook_health: ColumnType<WebhookHealth | null, string | null | undefined, string | null>;
  webhooks_checked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Settings as Clockify sends them in SETTINGS_UPDATED: a list of {id, name, value}. */
  settings: ColumnType<unknown[], string, string>;
  /**
   * Sequences (stamped per workspace by the ingress) of the last applied INSTALLED/DELETED, of the
   * last STATUS_CHANGED and of the last SETTINGS_UPDATED: an event is applied only if newer, so a
   * late or retried event never undoes a newer one.
   */
  last_seq: ColumnType<number, number | undefined, number>;
  status_seq: ColumnType<number, number | undefined, number>;
  settings_seq: ColumnType<number, number | undefined, number>;
  installed_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  deleted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  purge_after: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** Per-event webhook tokens from INSTALLED's `webhooks[]`. */
export interface InstallationWebhooksTable {
  workspace_id: string;
  addon_id: string;
  event: string;
  path: string;
  token_enc: string;
  token_hash: string;
  created_at: Generated<Date>;
}

/** One lifecycle call already decided (applied or stale), by SHA-256 over (token, type, body). */
export interface LifecycleReceiptsTable {
  receipt: string;
  workspace_id: string;
  addon_id: string;
  type: 'INSTALLED' | 'DELETED' | 'SETTINGS_UPDATED' | 'STATUS_CHANGED';
  seq: number;
  outcome: string;
  decided_at: Generated<Date>;
  /** When the applied call's follow-ups (bootstrap, purge, registry) were done; NULL until then. */
  followups_done_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export type Installation = Selectable<InstallationsTable>;
export type NewInstallation = Insertable<InstallationsTable>;
export type InstallationUpdate = Updateable<InstallationsTable>;
export type InstallationWebhook = Selectable<InstallationWebhooksTable>;
export type LifecycleReceipt = Selectable<LifecycleReceiptsTable>;
