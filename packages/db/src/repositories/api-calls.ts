import type { Kysely, Transaction } from 'kysely';
import type { ApiCallActorKind, ApiCallAudit, ApiCallOutcome, Database } from '../tables/index.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewApiCall {
  readonly actorKind: ApiCallActorKind;
  readonly actor: string;
  readonly workspaceId: string;
  readonly operationId: string;
  readonly method: string;
  readonly pathTemplate: string;
  readonly outcome: ApiCallOutcome;
  readonly status?: number | undefined;
  readonly durationMs?: number | undefined;
  /** Already redacted and bounded by the caller. */
  readonly request: Record<string, unknown>;
  readonly response?: string | undefined;
  readonly error?: string | undefined;
}

/** Records one call; returns its audit id. */
export async function recordApiCall(db: Db, call: NewApiCall): Promise<string> {
  const row = await db
    .insertInto('api_call_audit')
    .values({
      actor_kind: call.actorKind,
      actor: call.actor.slice(0, 200),
      workspace_id: call.workspaceId,
      operation_id: call.operationId,
      method: call.method,
      path_template: call.pathTemplate,
      outcome: call.outcome,
      status: call.status ?? null,
      duration_ms: call.durationMs === undefined ? null : Math.round(call.durationMs),
      request: JSON.stringify(call.request),
      response: call.response ?? null,
      error: call.error?.slice(0, 2000) ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** Recorded calls, newest first, of one workspace or of all. */
export async function listApiCalls(
  db: Db,
  opts: { workspaceId?: string; limit?: number; offset?: number } = {},
): Promise<ApiCallAudit[]> {
  let q = db.selectFrom('api_call_audit').selectAll();
  if (opts.workspaceId !== undefined) q = q.where('workspace_id', '=', opts.workspaceId);
  return q
    .orderBy('called_at', 'desc')
    .orderBy('id', 'desc')
    .limit(opts.limit ?? 100)
    .offset(opts.offset ?? 0)
    .execute();
}

export async function getApiCall(db: Db, id: string): Promise<ApiCallAudit | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  return db.selectFrom('api_call_audit').selectAll().where('id', '=', Number(id)).executeTakeFirst();
}

/** Retention: removes calls recorded before `cutoff`; returns how many. */
export async function deleteApiCallsBefore(db: Db, cutoff: Date): Promise<number> {
  const res = await db.deleteFrom('api_call_audit').where('called_at', '<', cutoff).executeTakeFirst();
  return Number(res.numDeletedRows);
}
