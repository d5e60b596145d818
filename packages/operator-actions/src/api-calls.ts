import {
  CallValidationError,
  ClockifyApiError,
  ClockifyClient,
  OperationCatalog,
  isReadOnly,
  RateLimitDeferredError,
  RateLimitedError,
  resolveOperation,
  validateCall,
  type CallInput,
  type ClockifyLimiter,
  type Operation,
  type OperationRef,
} from '@cap/clockify';
import {
  listApiCalls,
  recordApiCall,
  type ApiCallActorKind,
  type ApiCallAudit,
  type Database,
  type Kysely,
} from '@cap/db';
import { REDACTED, redact, redactString, type Logger, type Metrics } from '@cap/observability';
import { installationTokenOf, type Keyring } from '@cap/secrets';
import { findInstallation } from './bootstrap.js';

/**
 * Clockify API calls made by people rather than by handlers: an operator through the admin API or
 * the CLI (with the installation's token), a workspace admin on the API Studio page (with their
 * own user token, so Clockify applies their permissions). Each one is validated against the spec,
 * sent through the workspace's rate limiter, and recorded in `api_call_audit`.
 */

/** Request and response bodies are kept up to this many characters in the audit. */
export const AUDIT_BODY_CHARS = 4096;

export interface ApiCallDeps {
  readonly db: Kysely<Database>;
  readonly keyring: Keyring;
  readonly limiter?: ClockifyLimiter;
  /** `CLOCKIFY_API_ALLOWED_HOSTS`. */
  readonly allowedHosts: readonly string[];
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly fetch?: typeof fetch;
}

export interface ApiCallActor {
  readonly kind: ApiCallActorKind;
  /** The admin user name, the OS user of the CLI, or the Clockify user id. */
  readonly id: string;
}

export interface ApiCallRequest extends CallInput {
  readonly workspaceId: string;
  readonly operation: OperationRef;
  /** Operations other than GET are refused unless this is true. */
  readonly allowWrite?: boolean;
  readonly actor: ApiCallActor;
  /**
   * Call with this token instead of the installation's: the viewing user's token on the API
   * Studio page, with the base URLs its claims name (already verified by the caller).
   */
  readonly userToken?: { readonly token: string; readonly baseUrl: string; readonly reportsUrl?: string };
  readonly signal?: AbortSignal;
  /** Largest response accepted (default 1 MiB). */
  readonly maxResponseBytes?: number;
}

export interface ApiCallResult {
  /** Null only when the audit row could not be written (logged). */
  readonly auditId: string | null;
  readonly operationId: string;
  readonly method: string;
  readonly status: number;
  readonly durationMs: number;
  readonly data: unknown;
}

/** Why a call was not made or failed; `status` is the HTTP status an API should answer with. */
export class ApiCallError extends Error {
  override name = 'ApiCallError';
  constructor(
    message: string,
    readonly code:
      | 'invalid_call'
      | 'write_not_allowed'
      | 'not_found'
      | 'not_active'
      | 'clockify_error'
      | 'rate_limited'
      | 'unavailable',
    readonly status: number,
    readonly auditId?: string,
    readonly detail?: { problems?: CallValidationError['problems']; clockifyStatus?: number; retryAfterMs?: number },
  ) {
    super(message);
  }
}

const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/** The longest a person's call may take, limiter wait and retries included. */
export const CALL_DEADLINE_MS = 30_000;
// Keys whose values never enter the audit, beyond the logger's list.
const SECRET_KEY = /token|secret|password|passwd|api[-_]?key|authorization|cookie|signature|credential/i;

/** A redacted copy: secret-looking keys replaced, token-like strings masked. */
export function redactForAudit(value: unknown, depth = 0): unknown {
  if (depth > 12) return '[Truncated]';
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map((v) => redactForAudit(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) && v !== null && v !== undefined ? REDACTED : redactForAudit(v, depth + 1),
      ]),
    );
  }
  return redact(value);
}

/** Serialized, redacted and cut to {@link AUDIT_BODY_CHARS} (marked when cut). */
export function auditText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? redactString(value) : JSON.stringify(redactForAudit(value));
  return text.length > AUDIT_BODY_CHARS
    ? `${text.slice(0, AUDIT_BODY_CHARS)}… [truncated, ${text.length} chars]`
    : text;
}

/** Path, query and body, redacted; the whole request cut to AUDIT_BODY_CHARS when longer. */
function auditRequest(req: ApiCallRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (req.path) out.path = redactForAudit(req.path);
  if (req.query) out.query = redactForAudit(req.query);
  if (req.body !== undefined) out.body = redactForAudit(req.body);
  const text = JSON.stringify(out);
  return text.length <= AUDIT_BODY_CHARS ? out : { truncated: auditText(text) };
}

function counter(metrics: Metrics | undefined) {
  return metrics?.counter(
    'clockify_api_calls_total',
    'Clockify API calls made by operators and workspace admins (admin API, CLI, API Studio), by operation and outcome',
    ['operation', 'status', 'actor_kind'],
  );
}

/**
 * Validates, sends and records one call. Refusals (unknown operation, bad input, a write without
 * `allowWrite`, no active installation) are recorded too and thrown as {@link ApiCallError}.
 */
export async function callClockify(deps: ApiCallDeps, req: ApiCallRequest): Promise<ApiCallResult> {
  const calls = counter(deps.metrics);
  const label = typeof req.operation === 'string' ? req.operation : `${req.operation.method} ${req.operation.path}`;
  const record = async (
    op: Pick<Operation, 'operationId' | 'method' | 'path'> | undefined,
    outcome: 'ok' | 'http_error' | 'refused' | 'failed',
    extra: { status?: number; durationMs?: number; response?: string; error?: string },
  ) => {
    calls?.inc({
      operation: op?.operationId ?? 'unknown',
      status: extra.status !== undefined ? String(extra.status) : outcome,
      actor_kind: req.actor.kind,
    });
    return recordApiCall(deps.db, {
      actorKind: req.actor.kind,
      actor: req.actor.id,
      workspaceId: req.workspaceId,
      operationId: op?.operationId ?? label.slice(0, 200),
      method: op?.method ?? '',
      pathTemplate: op?.path ?? '',
      outcome,
      status: extra.status,
      durationMs: extra.durationMs,
      request: auditRequest(req),
      response: extra.response,
      error: extra.error === undefined ? undefined : redactString(extra.error),
    });
  };

  let op: Operation;
  try {
    op = resolveOperation(req.operation);
  } catch (err) {
    const e = err as CallValidationError;
    const auditId = await record(undefined, 'refused', { error: e.message });
    throw new ApiCallError(e.message, 'invalid_call', 400, auditId, { problems: e.problems });
  }
  const problems = validateCall(op, req, OperationCatalog.official());
  if (problems.length > 0) {
    const e = new CallValidationError(op.operationId, problems);
    const auditId = await record(op, 'refused', { error: e.message });
    throw new ApiCallError(e.message, 'invalid_call', 400, auditId, { problems });
  }
  if (!isReadOnly(op) && req.allowWrite !== true) {
    const message = `${op.operationId} is a ${op.method}: writes need allowWrite`;
    const auditId = await record(op, 'refused', { error: message });
    throw new ApiCallError(message, 'write_not_allowed', 403, auditId);
  }

  let client: ClockifyClient;
  try {
    client = await clientFor(deps, req, op);
  } catch (err) {
    if (!(err instanceof ApiCallError)) throw err;
    const auditId = await record(op, 'refused', { error: err.message });
    throw new ApiCallError(err.message, err.code, err.status, auditId);
  }

  const started = performance.now();
  try {
    const res = await client.callDynamic(op.operationId, {
      ...(req.path ? { path: req.path } : {}),
      ...(req.query ? { query: req.query } : {}),
      ...(req.body !== undefined ? { body: req.body } : {}),
      // A person is waiting: the whole call, retries included, is bounded.
      signal: req.signal
        ? AbortSignal.any([req.signal, AbortSignal.timeout(CALL_DEADLINE_MS)])
        : AbortSignal.timeout(CALL_DEADLINE_MS),
      maxResponseBytes: req.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    });
    const durationMs = performance.now() - started;
    // The call happened: a failed audit write is logged, not turned into an error to retry.
    const auditId = await record(op, 'ok', { status: res.status, durationMs, response: auditText(res.data) }).catch(
      (err: unknown) => {
        deps.logger?.error({ err, operation: op.operationId }, 'could not record a Clockify call in the audit');
        return null;
      },
    );
    return {
      auditId,
      operationId: op.operationId,
      method: op.method,
      status: res.status,
      durationMs,
      // Secret-named fields (a webhook's authToken, say) are masked for people too.
      data: redactForAudit(res.data),
    };
  } catch (err) {
    const durationMs = performance.now() - started;
    if (err instanceof RateLimitDeferredError || err instanceof RateLimitedError) {
      const retryAfterMs = err instanceof RateLimitDeferredError ? err.retryInMs : err.retryAfterMs;
      const auditId = await record(op, 'failed', { durationMs, error: err.message, status: 429 });
      throw new ApiCallError(err.message, 'rate_limited', 429, auditId, { retryAfterMs });
    }
    if (err instanceof ClockifyApiError && err.status !== undefined) {
      const status = err.status;
      const auditId = await record(op, 'http_error', { status, durationMs, error: err.message });
      throw new ApiCallError(err.message, 'clockify_error', 502, auditId, { clockifyStatus: status });
    }
    const message = err instanceof Error ? err.message : String(err);
    const auditId = await record(op, 'failed', { durationMs, error: message });
    throw new ApiCallError(`${op.operationId} failed: ${redactString(message)}`, 'unavailable', 502, auditId);
  }
}

async function clientFor(deps: ApiCallDeps, req: ApiCallRequest, op: Operation): Promise<ClockifyClient> {
  const common = {
    workspaceId: req.workspaceId,
    allowedHosts: deps.allowedHosts,
    ...(deps.limiter ? { limiter: deps.limiter } : {}),
    // A person is waiting for the answer: a short limiter wait, then "try again".
    maxLimiterWaitMs: 2_000,
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
    // A write is sent once: Clockify may have applied one whose answer was lost.
    maxRetries: isReadOnly(op) ? Math.min(deps.maxRetries ?? 2, 2) : 0,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  };
  // The workspace's installation, as requestBootstrap finds it (the latest); it must be active.
  const installation = await findInstallation(deps.db, req.workspaceId);
  if (installation?.status !== 'ACTIVE') {
    throw new ApiCallError(`no active installation in workspace ${req.workspaceId}`, 'not_active', 404);
  }
  if (req.userToken) {
    return new ClockifyClient({
      ...common,
      baseUrl: req.userToken.baseUrl,
      ...(req.userToken.reportsUrl ? { reportsUrl: req.userToken.reportsUrl } : {}),
      token: req.userToken.token,
    });
  }
  const baseUrl = installation.api_url ?? installation.backend_url;
  if (!installation.auth_token_enc || !baseUrl) {
    throw new ApiCallError(
      `the installation in workspace ${req.workspaceId} has no token or API URL`,
      'not_active',
      409,
    );
  }
  return new ClockifyClient({
    ...common,
    baseUrl,
    ...(installation.reports_url ? { reportsUrl: installation.reports_url } : {}),
    token: installationTokenOf(deps.keyring, { ...installation, auth_token_enc: installation.auth_token_enc }),
  });
}

/** An audit row as the admin API and the CLI show it. */
export function apiCallView(row: ApiCallAudit) {
  return {
    id: String(row.id),
    calledAt: row.called_at,
    actor: { kind: row.actor_kind, id: row.actor },
    workspaceId: row.workspace_id,
    operationId: row.operation_id,
    method: row.method,
    path: row.path_template,
    outcome: row.outcome,
    status: row.status,
    durationMs: row.duration_ms,
    request: row.request,
    response: row.response,
    error: row.error,
  };
}

export async function recentApiCalls(
  db: Kysely<Database>,
  opts: { workspaceId?: string; limit?: number; offset?: number } = {},
) {
  return (await listApiCalls(db, opts)).map(apiCallView);
}
