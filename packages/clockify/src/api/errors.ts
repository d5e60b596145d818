/**
 * Errors of the Clockify client. Every one says whether trying again later can help
 * (`retryable`), so a job runner can choose between a retry, a re-schedule and giving up without
 * parsing messages. Messages name the operation by its path template, never a token.
 */

export abstract class ClockifyError extends Error {
  abstract readonly retryable: boolean;
  /** `METHOD /path/{template}` of the request, or undefined before one was chosen. */
  readonly operation: string | undefined;

  constructor(message: string, operation: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.operation = operation;
  }
}

/** The URL's host is not in `CLOCKIFY_API_ALLOWED_HOSTS` (or http to a non-loopback host). Nothing was sent. */
export class HostNotAllowedError extends ClockifyError {
  readonly retryable = false;
  readonly host: string;

  constructor(host: string, reason: string, operation?: string) {
    super(`refusing to send the installation token to ${host}: ${reason}`, operation);
    this.host = host;
  }
}

export type FailureKind = 'http' | 'network' | 'timeout' | 'protocol';

export class ClockifyApiError extends ClockifyError {
  /** HTTP status, or undefined when no response arrived (network error, timeout). */
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly kind: FailureKind;
  /** Clockify's own error code from a JSON error body, when it sent one. */
  readonly code: number | undefined;

  constructor(
    message: string,
    init: { operation: string; status?: number; retryable: boolean; kind: FailureKind; code?: number; cause?: unknown },
  ) {
    super(message, init.operation, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.retryable = init.retryable;
    this.kind = init.kind;
    this.code = init.code;
  }
}

/** 401/403: the token lacks a scope, or the installation is gone. Retrying cannot help. */
export class ClockifyPermissionError extends ClockifyApiError {
  /** The scope Clockify named as missing (e.g. `USER_READ`), when its message says so. */
  readonly missingScope: string | undefined;

  constructor(message: string, init: { operation: string; status: number; missingScope?: string; code?: number }) {
    super(message, { ...init, retryable: false, kind: 'http' });
    this.missingScope = init.missingScope;
  }
}

/**
 * Clockify answered 429 and asked for a wait longer than a worker should hold its slot (or the
 * attempts ran out). The workspace is blocked in the shared limiter until then.
 */
export class RateLimitedError extends ClockifyError {
  readonly retryable = true;
  readonly retryAfterMs: number;

  constructor(operation: string, retryAfterMs: number) {
    super(`Clockify rate-limited ${operation}; retry in ${retryAfterMs} ms`, operation);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The shared limiter has no slot within `maxLimiterWaitMs`; nothing was sent and nothing was
 * reserved. The caller re-schedules the job instead of holding a worker slot.
 */
export class RateLimitDeferredError extends ClockifyError {
  readonly retryable = true;
  readonly retryInMs: number;

  constructor(operation: string, retryInMs: number) {
    super(`rate limiter deferred ${operation}; next slot in ${retryInMs} ms`, operation);
    this.retryInMs = retryInMs;
  }
}

/** The server broke the paging contract (repeated a page, or never said it was done). */
export class PaginationError extends ClockifyError {
  readonly retryable = false;
  readonly page: number;

  constructor(message: string, operation: string, page: number) {
    super(message, operation);
    this.page = page;
  }
}
