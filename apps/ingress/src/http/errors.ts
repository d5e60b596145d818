import type { ServerResponse } from 'node:http';

/**
 * An error with its HTTP answer. Messages are written for the caller and never contain a token
 * or the request body.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    /** More fields of the error object (e.g. the audit id and the problems of a refused call). */
    readonly detail?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** `Retry-After` for 503s: Redis hiccups are short; senders should come back soon. */
export const RETRY_AFTER_SECONDS = '2';

export function unavailable(message: string, code = 'unavailable'): HttpError {
  return new HttpError(503, code, message, { 'retry-after': RETRY_AFTER_SECONDS });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** The error shape of every route: `{"error":{"code","message","requestId"}}`. */
export function sendError(res: ServerResponse, err: HttpError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, { error: { ...err.detail, code: err.code, message: err.message, requestId } }, err.headers);
}

/** A genuine token presented where its kind does not belong (told apart by its stored hash). */
export function wrongKind(message: string): HttpError {
  return new HttpError(401, 'wrong_kind', message);
}
