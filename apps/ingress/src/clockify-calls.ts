import { RateLimiter } from '@cap/clockify';
import { ApiCallError, type ApiCallDeps } from '@cap/operator-actions';
import type { IngressContext } from './context.js';
import { HttpError } from './http/errors.js';

/**
 * What the admin API and the API Studio page share to call Clockify for a person: one rate
 * limiter per process (the workspace's slots live in Redis, shared with the workers), the body
 * parser and the mapping of refusals to HTTP answers.
 */

const deps = new WeakMap<IngressContext, ApiCallDeps>();

/** The dependencies of `callClockify` for this ingress (made once). */
export function apiCallDeps(ctx: IngressContext): ApiCallDeps {
  let d = deps.get(ctx);
  if (!d) {
    d = {
      db: ctx.database.db,
      keyring: ctx.keyring,
      limiter: new RateLimiter(ctx.redis, {
        prefix: ctx.config.BULLMQ_PREFIX,
        rps: ctx.config.CLOCKIFY_RATE_LIMIT_RPS,
        metrics: ctx.metrics,
        logger: ctx.logger,
      }),
      allowedHosts: ctx.config.CLOCKIFY_API_ALLOWED_HOSTS,
      timeoutMs: ctx.config.CLOCKIFY_API_TIMEOUT_MS,
      maxRetries: ctx.config.CLOCKIFY_API_MAX_RETRIES,
      logger: ctx.logger,
      metrics: ctx.metrics,
    };
    deps.set(ctx, d);
  }
  return d;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The JSON body of a Clockify call: `operation` (an operationId or `METHOD /template`), optional
 * `path` and `query` objects, `body`, and `allowWrite` (true to allow anything but GET).
 */
export function parseCallBody(body: unknown) {
  if (!isRecord(body)) throw new HttpError(400, 'bad_request', 'expected a JSON object with "operation"');
  const { operation, path, query, allowWrite } = body;
  if (typeof operation !== 'string' || operation.length === 0 || operation.length > 300) {
    throw new HttpError(400, 'bad_request', '"operation" must be an operationId or "METHOD /path/template"');
  }
  if (path !== undefined && !isRecord(path)) throw new HttpError(400, 'bad_request', '"path" must be an object');
  if (query !== undefined && !isRecord(query)) throw new HttpError(400, 'bad_request', '"query" must be an object');
  if (allowWrite !== undefined && typeof allowWrite !== 'boolean') {
    throw new HttpError(400, 'bad_request', '"allowWrite" must be true or false');
  }
  return {
    operation,
    ...(path ? { path: path as Record<string, string> } : {}),
    ...(query ? { query } : {}),
    ...('body' in body && body.body !== undefined ? { body: body.body } : {}),
    allowWrite: allowWrite === true,
  };
}

/** An ApiCallError as an HTTP answer: the problems, the audit id, Clockify's status. */
export function apiCallFailure(err: unknown): never {
  if (err instanceof ApiCallError) {
    throw new HttpError(
      err.status,
      err.code,
      err.message,
      err.detail?.retryAfterMs !== undefined
        ? { 'retry-after': String(Math.max(1, Math.ceil(err.detail.retryAfterMs / 1000))) }
        : {},
      {
        ...(err.auditId ? { auditId: err.auditId } : {}),
        ...(err.detail?.problems ? { problems: err.detail.problems } : {}),
        ...(err.detail?.clockifyStatus !== undefined ? { clockifyStatus: err.detail.clockifyStatus } : {}),
      },
    );
  }
  throw err;
}
