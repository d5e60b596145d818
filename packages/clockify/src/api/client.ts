import { createHash } from 'node:crypto';
import {
  SpanKind,
  inSpan,
  redactString,
  secondsSince,
  silentLogger,
  type Counter,
  type Histogram,
  type Logger,
  type Metrics,
  type Span,
} from '@cap/observability';
import {
  ClockifyApiError,
  ClockifyPermissionError,
  PaginationError,
  RateLimitDeferredError,
  RateLimitedError,
  type FailureKind,
} from './errors.js';
import { ADDON_ENDPOINTS, type AddonEndpoint, type AddonEndpoints } from './addon-endpoints.js';
import { assertHostAllowed } from './hosts.js';
import { backoffDelayMs, parseRetryAfter } from './retry.js';
import { isReportsPath, pagedOperation } from './spec-index.js';
import type {
  ApiResponse,
  ArgsOf,
  HttpMethod,
  OperationOf,
  PageItem,
  PagedListPath,
  PaginateParamsOf,
  PathsWith,
  RequestInitOf,
  ResponseData,
} from './types.js';
import { buildQuery, fillPath, joinUrl, normalizeBaseUrl } from './url.js';
import type { CallInput, OperationRef } from './call.js';
import type { operations } from './openapi.js';

/** The shared per-workspace limiter (see `RateLimiter` in ../rate-limit); any object of this shape works. */
export interface ClockifyLimiter {
  acquire(
    key: string,
    opts: { maxWaitMs: number },
  ): Promise<{ granted: true; waitMs: number } | { granted: false; retryInMs: number }>;
  block(key: string, ms: number): Promise<void>;
}

export interface ClockifyClientOptions {
  /** The installation's `apiUrl` or the token's `backendUrl`, e.g. `https://api.clockify.me/api` (no `/v1`). */
  readonly baseUrl: string;
  /** The token's `reportsUrl`, e.g. `https://reports.api.clockify.me`; needed only for report operations. */
  readonly reportsUrl?: string;
  /** Installation token, plaintext in memory only. */
  readonly token: string;
  readonly workspaceId: string;
  /** `CLOCKIFY_API_ALLOWED_HOSTS`. */
  readonly allowedHosts: readonly string[];
  readonly limiter?: ClockifyLimiter;
  /** Longest limiter wait (or 429 `Retry-After`) worth holding a worker for; beyond it the job re-schedules. */
  readonly maxLimiterWaitMs?: number;
  readonly timeoutMs?: number;
  /** Retries after a network error, timeout or 5xx (and 429s within the wait bound). */
  readonly maxRetries?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** Largest response body accepted. */
  readonly maxResponseBytes?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface PaginateOptions {
  /** Default 50, at most 200 (and at most the spec's maximum for the operation). */
  readonly pageSize?: number;
  /** Default 10 000; reaching it without a last page is an error, not a silent stop. */
  readonly maxPages?: number;
  /** Resume from this page (one job per page); default the spec's first page. */
  readonly startPage?: number;
}

export interface Page<T> {
  readonly page: number;
  readonly items: T[];
  readonly lastPage: boolean;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_MAX_PAGES = 10_000;

const MAX_ERROR_BODY_BYTES = 16 * 1024;
const MAX_ERROR_MESSAGE_CHARS = 300;
// Every Clockify scope ends in _READ or _WRITE (REFERENCE.md §1.7).
const SCOPE_IN_MESSAGE = /\b([A-Z]+(?:_[A-Z]+)*_(?:READ|WRITE))\b/;

interface RawInit {
  readonly path?: Readonly<Record<string, unknown>>;
  readonly query?: Readonly<Record<string, unknown>>;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** A tighter bound than the client's for this request's success body. */
  readonly maxResponseBytes?: number;
}

/** Options of {@link ClockifyClient.call} besides the operation's parameters. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Largest success body accepted (default {@link DEFAULT_CALL_MAX_RESPONSE_BYTES}); larger fails, nothing is kept. */
  readonly maxResponseBytes?: number;
}

/** Default response bound of a general call: enough for a page of 200 entities. */
export const DEFAULT_CALL_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

interface ClientMetrics {
  readonly requests: Counter<'operation' | 'status'>;
  readonly duration: Histogram<'operation'>;
  readonly retries: Counter<'operation' | 'reason'>;
}

/** A success body over the size bound: no retry can fix it. */
class ResponseTooLarge extends Error {}

let sharedSilentLogger: Logger | undefined;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function numberOption(value: number | undefined, fallback: number, name: string, min = 0): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw new RangeError(`${name} must be a number >= ${min}`);
  return v;
}

/**
 * A Clockify REST client bound to one installation: its workspace, base URLs and token. Every
 * request is typed from the official spec, checked against the host allow-list, passed through
 * the shared per-workspace limiter, and retried where that can help.
 */
export class ClockifyClient {
  readonly workspaceId: string;
  readonly #token: string;
  readonly #base: string;
  readonly #reportsBase: string | undefined;
  readonly #allowedHosts: readonly string[];
  readonly #limiter: ClockifyLimiter | undefined;
  readonly #maxLimiterWaitMs: number;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #maxResponseBytes: number;
  readonly #log: Logger;
  readonly #metrics: ClientMetrics | undefined;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: ClockifyClientOptions) {
    if (typeof options.token !== 'string' || options.token === '') throw new TypeError('token is required');
    if (typeof options.workspaceId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(options.workspaceId)) {
      throw new TypeError('workspaceId must be 1–64 letters, digits, `_` or `-`');
    }
    this.workspaceId = options.workspaceId;
    this.#token = options.token;
    this.#log = options.logger ?? (sharedSilentLogger ??= silentLogger());
    this.#base = normalizeBaseUrl(options.baseUrl, 'baseUrl');
    this.#reportsBase =
      options.reportsUrl === undefined ? undefined : normalizeBaseUrl(options.reportsUrl, 'reportsUrl');
    if (/\/v1\/*$/i.test(new URL(options.baseUrl).pathname)) {
      this.#log.warn({ baseUrl: this.#base }, 'Clockify baseUrl ended in /v1; using it without, as paths carry /v1');
    }
    this.#allowedHosts = [...options.allowedHosts];
    this.#limiter = options.limiter;
    this.#maxLimiterWaitMs = numberOption(options.maxLimiterWaitMs, 1000, 'maxLimiterWaitMs');
    this.#timeoutMs = numberOption(options.timeoutMs, 15_000, 'timeoutMs', 1);
    this.#maxRetries = Math.floor(numberOption(options.maxRetries, 4, 'maxRetries'));
    this.#backoffBaseMs = numberOption(options.backoffBaseMs, 250, 'backoffBaseMs');
    this.#backoffMaxMs = numberOption(options.backoffMaxMs, 8000, 'backoffMaxMs');
    this.#maxResponseBytes = numberOption(options.maxResponseBytes, 32 * 1024 * 1024, 'maxResponseBytes', 1);
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#sleep = options.sleep ?? defaultSleep;
    const m = options.metrics;
    this.#metrics = m && {
      requests: m.counter(
        'clockify_api_requests_total',
        'Clockify API attempts by operation and HTTP status (or network, timeout, protocol)',
        ['operation', 'status'],
      ),
      duration: m.histogram('clockify_api_request_duration_seconds', 'Clockify API attempt duration', ['operation']),
      retries: m.counter('clockify_api_retries_total', 'Clockify API retries by operation and reason', [
        'operation',
        'reason',
      ]),
    };
  }

  /**
   * One operation of the official spec, e.g.
   * `client.request('GET', '/v1/workspaces/{workspaceId}/users', { query: { 'include-roles': 'true' } })`.
   * `workspaceId` is filled in from the client; other path parameters go in `path`.
   */
  async request<M extends HttpMethod, P extends PathsWith<M>>(
    method: M,
    path: P,
    ...args: ArgsOf<RequestInitOf<OperationOf<M, P>>>
  ): Promise<ApiResponse<ResponseData<OperationOf<M, P>>>> {
    const init = (args[0] ?? {}) as RawInit;
    return (await this.#send(method, path, init)) as ApiResponse<ResponseData<OperationOf<M, P>>>;
  }

  /**
   * One of Clockify's add-on endpoints outside the public spec (see addon-endpoints.ts), e.g.
   * `client.addonRequest('GET /addon/workspaces/{workspaceId}/settings')`. Anything not in that
   * table is refused before a request is made.
   */
  async addonRequest<E extends AddonEndpoint>(
    endpoint: E,
    init: { path?: AddonEndpoints[E]['path']; body?: AddonEndpoints[E]['body']; signal?: AbortSignal } = {},
  ): Promise<ApiResponse<AddonEndpoints[E]['response']>> {
    if (!ADDON_ENDPOINTS.includes(endpoint)) throw new TypeError(`${String(endpoint)} is not a known add-on endpoint`);
    const space = endpoint.indexOf(' ');
    const method = endpoint.slice(0, space) as HttpMethod;
    const template = endpoint.slice(space + 1);
    return (await this.#send(method, template, init as RawInit)) as ApiResponse<AddonEndpoints[E]['response']>;
  }

  /**
   * Any operation of the official spec by its `operationId`, typed from the spec (path and query
   * parameters, body, `data`), e.g. `client.call('getTags', { query: { archived: false } })`.
   * Also checked at run time before anything is sent (see {@link callDynamic}).
   */
  async call<Id extends keyof operations>(
    operation: Id,
    ...args: ArgsOf<RequestInitOf<operations[Id]> & CallOptions>
  ): Promise<ApiResponse<ResponseData<operations[Id]>>> {
    return (await this.callDynamic(operation, (args[0] ?? {}) as CallInput & CallOptions)) as ApiResponse<
      ResponseData<operations[Id]>
    >;
  }

  /**
   * An operation chosen at run time, by `operationId` or by `METHOD /path/template`, e.g.
   * `client.callDynamic('GET /v1/workspaces/{workspaceId}/projects/{projectId}', { path: { projectId } })`.
   * Checked against the spec before anything is sent: an unknown operation, an unknown, missing or
   * ill-typed parameter, a body failing the operation's schema → {@link CallValidationError}.
   * `workspaceId` comes from the client. Goes through the limiter and the retries like every
   * request; the success body is bounded by `maxResponseBytes` (default 4 MiB).
   */
  async callDynamic(operation: OperationRef, input: CallInput & CallOptions = {}): Promise<ApiResponse<unknown>> {
    // Loaded on first use: the spec's catalog and the schema validator are not needed by a
    // process that never makes a general call (and stay off the webhook path).
    const { CallValidationError, queryStrings, resolveOperation, validateCall } = await import('./call.js');
    const op = resolveOperation(operation);
    const problems = validateCall(op, input);
    if (problems.length > 0) throw new CallValidationError(op.operationId, problems);
    return this.#send(op.method, op.path, {
      ...(input.path ? { path: input.path } : {}),
      ...(input.query ? { query: queryStrings(op, input.query) } : {}),
      ...(input.body !== undefined ? { body: input.body } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
      maxResponseBytes: input.maxResponseBytes ?? DEFAULT_CALL_MAX_RESPONSE_BYTES,
    });
  }

  /**
   * Pages through a list operation whose spec entry declares `page`, following `Last-Page` (or a
   * short page when the header is absent). Each page is yielded as it arrives, so a caller can
   * persist it and record the page number as a cursor before asking for the next.
   */
  async *paginate<P extends PagedListPath>(
    path: P,
    params: PaginateParamsOf<P>,
    options: PaginateOptions = {},
  ): AsyncGenerator<Page<PageItem<P>>, void, undefined> {
    const operation = `GET ${path}`;
    const paged = pagedOperation('GET', path);
    if (!paged) throw new TypeError(`${operation} declares no page parameter in the Clockify spec; use request()`);
    const maxSize = Math.min(MAX_PAGE_SIZE, paged.maxPageSize ?? MAX_PAGE_SIZE);
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxSize) {
      throw new RangeError(`pageSize must be an integer from 1 to ${maxSize}`);
    }
    const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    if (!Number.isInteger(maxPages) || maxPages < 1) throw new RangeError('maxPages must be a positive integer');
    let page = options.startPage ?? paged.firstPage;
    if (!Number.isInteger(page) || page < 0) throw new RangeError('startPage must be a non-negative integer');

    const raw = params as RawInit;
    let previous: string | undefined;
    for (let fetched = 0; ; fetched++) {
      if (fetched >= maxPages) {
        throw new PaginationError(`${operation} still had pages after the cap of ${maxPages}`, operation, page);
      }
      const response = await this.#send('GET', path, {
        ...raw,
        query: { ...raw.query, page, [paged.sizeParam]: pageSize },
      });
      if (!Array.isArray(response.data)) {
        throw new ClockifyApiError(`${operation} page ${page} was not a JSON array`, {
          operation,
          status: response.status,
          retryable: false,
          kind: 'protocol',
        });
      }
      const items = response.data as PageItem<P>[];
      const fingerprint = pageFingerprint(items);
      if (items.length > 0 && fingerprint === previous) {
        throw new PaginationError(`${operation} returned page ${page} identical to the page before`, operation, page);
      }
      const header = response.headers.get('last-page')?.trim().toLowerCase();
      // An empty page ends the walk even when the header says otherwise: nothing would change.
      const lastPage =
        items.length === 0 || (header === 'true' ? true : header === 'false' ? false : items.length < pageSize);
      yield { page, items, lastPage };
      if (lastPage) return;
      previous = fingerprint;
      page += 1;
    }
  }

  /** One operation, retries and limiter waits included, as one client span (when tracing is on). */
  #send(method: HttpMethod, template: string, init: RawInit): Promise<ApiResponse<unknown>> {
    return inSpan(
      `clockify ${method} ${template}`,
      { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'url.template': template } },
      (span) => this.#sendIn(span, method, template, init),
    );
  }

  async #sendIn(span: Span, method: HttpMethod, template: string, init: RawInit): Promise<ApiResponse<unknown>> {
    const operation = `${method} ${template}`;
    const base = isReportsPath(template) ? this.#reportsBase : this.#base;
    if (base === undefined) throw new TypeError(`${operation} is served by the reports API; reportsUrl is required`);
    const url =
      joinUrl(base, fillPath(template, { ...init.path, workspaceId: this.workspaceId })) + buildQuery(init.query);
    assertHostAllowed(url, this.#allowedHosts, operation);

    const headers: Record<string, string> = { 'X-Addon-Token': this.#token, Accept: 'application/json' };
    let body: string | undefined;
    if (init.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(init.body);
    }

    let limiterWaitMs = 0;
    for (let attempt = 0; ; attempt++) {
      init.signal?.throwIfAborted();
      limiterWaitMs += await this.#waitForSlot(operation);
      const outcome = await this.#attempt(method, url, headers, body, init, operation);
      if (outcome.kind === 'response') {
        const { response, text } = outcome;
        const status = response.status;
        span.setAttributes({
          'http.response.status_code': status,
          'cap.limiter.wait_ms': limiterWaitMs,
          'cap.attempts': attempt + 1,
        });
        if (status >= 200 && status < 300) {
          return { status, data: this.#parse(text, response, operation), headers: response.headers };
        }
        if (status === 429) {
          const waitMs = parseRetryAfter(response.headers.get('retry-after'));
          // Blocking the shared limiter stops every process from spending requests Clockify would refuse.
          await this.#limiter?.block(this.workspaceId, waitMs);
          if (waitMs > this.#maxLimiterWaitMs || attempt >= this.#maxRetries) {
            throw new RateLimitedError(operation, waitMs);
          }
          this.#retrying(operation, attempt, '429', waitMs);
          // With a limiter the next acquire already waits until the block ends.
          if (!this.#limiter) await this.#sleep(waitMs);
          continue;
        }
        if (status >= 500 || status === 408) {
          if (attempt < this.#maxRetries) {
            await this.#backoff(operation, attempt, '5xx');
            continue;
          }
          throw this.#httpError(operation, status, text, true);
        }
        throw this.#httpError(operation, status, text, false);
      }
      // network error or timeout
      if (attempt < this.#maxRetries) {
        await this.#backoff(operation, attempt, outcome.failure);
        continue;
      }
      const what =
        outcome.failure === 'timeout' ? `timed out after ${this.#timeoutMs} ms` : 'failed with a network error';
      throw new ClockifyApiError(`${operation} ${what} (${attempt + 1} attempts)`, {
        operation,
        retryable: true,
        kind: outcome.failure,
        cause: outcome.cause,
      });
    }
  }

  /** Takes the workspace's next slot of the shared limiter; returns how long it waited (ms). */
  async #waitForSlot(operation: string): Promise<number> {
    if (!this.#limiter) return 0;
    const slot = await this.#limiter.acquire(this.workspaceId, { maxWaitMs: this.#maxLimiterWaitMs });
    if (!slot.granted) throw new RateLimitDeferredError(operation, Math.max(0, Math.ceil(slot.retryInMs)));
    // Rounded up: arriving a fraction early could squeeze one request too many into a second.
    const waitMs = slot.waitMs > 0 ? Math.ceil(slot.waitMs) : 0;
    if (waitMs > 0) await this.#sleep(waitMs);
    return waitMs;
  }

  async #attempt(
    method: HttpMethod,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    init: RawInit,
    operation: string,
  ): Promise<
    | { kind: 'response'; response: Response; text: string }
    | { kind: 'failure'; failure: 'network' | 'timeout'; cause: unknown }
  > {
    const callerSignal = init.signal;
    const maxBytes = Math.min(this.#maxResponseBytes, init.maxResponseBytes ?? Infinity);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    const started = process.hrtime.bigint();
    let outcomeLabel = 'network';
    try {
      // `manual`: fetch keeps custom headers across redirects, so following one could hand the
      // token to a host the allow-list never saw.
      const response = await this.#fetch(url, { method, headers, body, signal, redirect: 'manual' });
      outcomeLabel = String(response.status);
      const ok = response.status >= 200 && response.status < 300;
      const text = ok
        ? await readBody(response, maxBytes, false)
        : await readBody(response, MAX_ERROR_BODY_BYTES, true);
      this.#log.debug({ operation, status: response.status }, 'clockify request');
      return { kind: 'response', response, text };
    } catch (err) {
      if (err instanceof ResponseTooLarge) {
        outcomeLabel = 'protocol';
        throw new ClockifyApiError(`${operation}: ${err.message}`, {
          operation,
          retryable: false,
          kind: 'protocol',
        });
      }
      if (callerSignal?.aborted) {
        outcomeLabel = 'aborted';
        throw callerSignal.reason;
      }
      const failure = timeout.aborted ? 'timeout' : 'network';
      outcomeLabel = failure;
      return { kind: 'failure', failure, cause: sanitizeCause(err) };
    } finally {
      this.#metrics?.requests.inc({ operation, status: outcomeLabel });
      this.#metrics?.duration.observe({ operation }, secondsSince(started));
    }
  }

  #parse(text: string, response: Response, operation: string): unknown {
    if (text === '') return undefined;
    const json = /\bjson\b/i.test(response.headers.get('content-type') ?? '');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      if (!json) return text; // e.g. `*/*` responses such as file exports
      throw new ClockifyApiError(`${operation} answered ${response.status} with invalid JSON`, {
        operation,
        status: response.status,
        retryable: false,
        kind: 'protocol',
      });
    }
  }

  #httpError(operation: string, status: number, text: string, retryable: boolean): ClockifyApiError {
    const { message, code } = errorDetails(text);
    const safe = this.#scrub(message);
    if (status === 401 || status === 403) {
      const missingScope = SCOPE_IN_MESSAGE.exec(message)?.[1];
      return new ClockifyPermissionError(
        `${operation} was denied (${status})${missingScope ? `: missing scope ${missingScope}` : ''}${safe ? ` — ${safe}` : ''}`,
        { operation, status, ...(missingScope ? { missingScope } : {}), ...(code === undefined ? {} : { code }) },
      );
    }
    const kind: FailureKind = status >= 300 && status < 400 ? 'protocol' : 'http';
    const detail = kind === 'protocol' ? 'redirects are not followed' : safe;
    return new ClockifyApiError(`${operation} failed with ${status}${detail ? `: ${detail}` : ''}`, {
      operation,
      status,
      retryable,
      kind,
      ...(code === undefined ? {} : { code }),
    });
  }

  /** Clockify's messages can echo request data; nothing token-like leaves this client. */
  #scrub(message: string): string {
    const flat = message.split(this.#token).join('[REDACTED]').replace(/\s+/g, ' ').trim();
    const redacted = redactString(flat);
    return redacted.length > MAX_ERROR_MESSAGE_CHARS ? `${redacted.slice(0, MAX_ERROR_MESSAGE_CHARS)}…` : redacted;
  }

  async #backoff(operation: string, attempt: number, reason: string): Promise<void> {
    const delay = backoffDelayMs(attempt, this.#backoffBaseMs, this.#backoffMaxMs);
    this.#retrying(operation, attempt, reason, delay);
    await this.#sleep(delay);
  }

  #retrying(operation: string, attempt: number, reason: string, delayMs: number): void {
    this.#metrics?.retries.inc({ operation, reason });
    this.#log.warn({ operation, attempt: attempt + 1, reason, delayMs }, 'retrying Clockify request');
  }
}

/**
 * Reads at most `max` bytes. Success bodies over the bound are refused (a silently cut list
 * would look complete); error bodies are only cut, since just their message is wanted.
 */
async function readBody(response: Response, max: number, truncate: boolean): Promise<string> {
  if (!response.body) return '';
  const declared = Number(response.headers.get('content-length'));
  if (!truncate && Number.isFinite(declared) && declared > max) {
    await response.body.cancel();
    throw new ResponseTooLarge(`response of ${declared} bytes exceeds the ${max}-byte limit`);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > max) {
      await reader.cancel();
      if (!truncate) throw new ResponseTooLarge(`response exceeds the ${max}-byte limit`);
      chunks.push(value.subarray(0, max - total));
      break;
    }
    chunks.push(value);
    total += value.byteLength;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function errorDetails(text: string): { message: string; code: number | undefined } {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') {
      const { message, code } = parsed as { message?: unknown; code?: unknown };
      return {
        message: typeof message === 'string' ? message : '',
        code: typeof code === 'number' ? code : undefined,
      };
    }
  } catch {
    // not JSON: use the text itself
  }
  return { message: text, code: undefined };
}

/** Network errors carry no request headers, but keep only what helps diagnose them. */
function sanitizeCause(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const inner = (err as { cause?: unknown }).cause;
  const code = inner && typeof inner === 'object' ? (inner as { code?: unknown }).code : undefined;
  const out = new Error(`${err.name}: ${err.message}${typeof code === 'string' ? ` (${code})` : ''}`);
  out.name = err.name;
  return out;
}

function pageFingerprint(items: readonly unknown[]): string {
  const ids = items.map((item) =>
    item && typeof item === 'object' && 'id' in item ? (item as { id: unknown }).id : undefined,
  );
  const basis = ids.every((id) => typeof id === 'string' || typeof id === 'number') ? ids : items;
  return createHash('sha256').update(JSON.stringify(basis)).digest('hex');
}
