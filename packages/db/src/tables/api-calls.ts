import type { ColumnType, Generated, Selectable } from 'kysely';

export type ApiCallActorKind = 'admin' | 'cli' | 'user';
export type ApiCallOutcome = 'ok' | 'http_error' | 'refused' | 'failed';

/** One Clockify API call made by an operator or a workspace admin; never a token, bodies truncated. */
export interface ApiCallAuditTable {
  id: Generated<number>;
  called_at: ColumnType<Date, Date | string | undefined, Date | string>;
  actor_kind: ApiCallActorKind;
  /** The admin user name, `cli` and the OS user, or the Clockify user id. */
  actor: string;
  workspace_id: string;
  operation_id: string;
  method: string;
  path_template: string;
  outcome: ApiCallOutcome;
  status: number | null;
  duration_ms: number | null;
  /** Path and query parameters and the body, redacted and truncated. */
  request: ColumnType<Record<string, unknown>, string, string>;
  response: string | null;
  error: string | null;
}

export type ApiCallAudit = Selectable<ApiCallAuditTable>;
