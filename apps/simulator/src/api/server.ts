import { createHash, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type Logger, type Metrics } from '@cap/observability';
import { defaultDataDir, loadOrCreateKeys } from '../keys.js';
import type { InstallationRegistry } from '../installations.js';
import { MockStore, StoreError, type MockStoreOptions, type StoreChange } from '../store/store.js';
import { TokenAuthenticator } from './auth.js';
import { FaultInjector, validateFault, type OperationFault } from './faults.js';
import { ADDON_OPERATIONS, HANDLERS, type AddonHooks, type HandlerResult } from './handlers.js';
import { SlidingWindowLimiter, type RateLimitOptions } from './rate-limit.js';
import { extraOperation, OperationIndex, requiredScope, validateQuery, type OperationSpec } from './spec.js';
import { RequestStats } from './stats.js';

export interface MockApiOptions extends MockStoreOptions {
  /** Default 0 (an ephemeral port). */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Serve this store instead of generating one from `seed`/`workspaces`. */
  readonly store?: MockStore;
  /** Key that verifies `X-Addon-Token`; default the simulator key under `dataDir`. */
  readonly publicKey?: KeyObject;
  /** Where the simulator key lives when `publicKey` is not given; default `DATA_DIR`. */
  readonly dataDir?: string;
  /** Consulted for tokens revoked by an uninstall. */
  readonly installations?: InstallationRegistry;
  /** Per-workspace sliding-window limit (default 50 per 1000 ms); `false` turns it off. */
  readonly rateLimit?: RateLimitOptions | false;
  /** Called for every change made through the API (e.g. POST tags), to send its webhook. */
  readonly onChange?: (change: StoreChange) => void;
  readonly addonHooks?: AddonHooks;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /**
   * Whether paged list responses carry `Last-Page`. Clockify documents the header, but third
   * parties saw lists without it; a client then has to stop at a short page. `'always'`,
   * `'never'`, `'some'` (the default: every operation but LAST_PAGE_OMITTED_OPERATIONS), or the
   * operationIds that omit it.
   */
  readonly lastPageHeader?: 'always' | 'never' | 'some' | readonly string[];
  /**
   * Whether the rate limit's 429s carry `Retry-After` (Clockify does not document whether it
   * sends one). `'always'`, `'never'`, or `'alternate'` (the default): every second 429 of this
   * mock comes without it, so a client meets both from the first few. Injected faults carry the
   * header exactly when their `retryAfterSeconds` is set.
   */
  readonly retryAfterOn429?: 'always' | 'never' | 'alternate';
  /** Largest request body accepted; default 1 MiB. */
  readonly maxBodyBytes?: number;
  /**
   * Commands run inside this process (`POST /_sim/commands/<name>`, JSON body), allowed only with
   * the header `X-Sim-Control-Token: <token>`. `sim serve` uses it so the CLI's `webhook` and
   * `burst` change the data this mock serves. Errors thrown as `inputError` answer 400.
   */
  readonly commands?: {
    readonly token: string;
    run(name: string, input: unknown): Promise<unknown>;
    isInputError(err: unknown): boolean;
  };
}

/**
 * Lists served without `Last-Page` under `lastPageHeader: 'some'`. Third-party probes saw the
 * header on clients, tags, user groups, custom fields, tasks and user time entries (REFERENCE.md
 * §3.3) but report nothing for these; two of them (users, projects) are bootstrap listings, so the
 * default exercises a client's "a short page ends the list" fallback.
 */
export const LAST_PAGE_OMITTED_OPERATIONS: readonly string[] = Object.freeze([
  'getUsersOfWorkspace',
  'getProjects',
  'getInProgressTimeEntries',
]);

/** The header carrying the control token of `MockApiOptions.commands`. */
export const CONTROL_TOKEN_HEADER = 'x-sim-control-token';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export interface MockApi {
  /** e.g. `http://127.0.0.1:PORT/api`: the `apiUrl`/`backendUrl` to give the add-on. */
  readonly url: string;
  /** e.g. `http://127.0.0.1:PORT/reports`: the `reportsUrl`. */
  readonly reportsUrl: string;
  /** e.g. `http://127.0.0.1:PORT` (also serves `/_sim/...`). */
  readonly origin: string;
  readonly port: number;
  readonly store: MockStore;
  readonly stats: RequestStats;
  readonly faults: FaultInjector;
  readonly rateLimiter: SlidingWindowLimiter | undefined;
  readonly operations: OperationIndex;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 1024 * 1024;

/** Error bodies look like Clockify's: `{message, code}`; validation errors carry code 501. */
export function errorBody(status: number, message: string): { message: string; code: number } {
  return { message, code: status === 400 ? 501 : status };
}

/**
 * Starts the mock Clockify REST API (node:http). Every operation of the official OpenAPI document
 * is recognized under `/api` (report operations also under `/reports`); unknown ones answer 404,
 * missing required or invalid enum/number parameters 400, and operations the simulator does not
 * implement 501. Requests need an installation or user token for the workspace in the path
 * (401/403), and each workspace is limited to `rateLimit.limit` requests in any sliding window
 * (429, `Retry-After: 1`).
 */
export async function createMockApi(options: MockApiOptions = {}): Promise<MockApi> {
  const logger = options.logger ?? silentLogger();
  const store = options.store ?? new MockStore(options);
  const publicKey = options.publicKey ?? (await loadOrCreateKeys(options.dataDir ?? defaultDataDir())).publicKey;
  const operations = new OperationIndex([
    ...OperationIndex.official().operations,
    ...ADDON_OPERATIONS.map(extraOperation),
  ]);
  const limiter = options.rateLimit === false ? undefined : new SlidingWindowLimiter(options.rateLimit ?? {});
  const stats = new RequestStats({
    ...(options.metrics ? { metrics: options.metrics } : {}),
    peakOf: (ws) => limiter?.peak(ws) ?? 0,
  });
  const faults = new FaultInjector();
  const installations = options.installations;
  const auth = new TokenAuthenticator(publicKey, (token) => installations?.isRevoked(token) ?? false);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const lastPageMode = options.lastPageHeader ?? 'some';
  const omitsLastPage = (operationId: string): boolean =>
    lastPageMode === 'never' ||
    (lastPageMode === 'some' && LAST_PAGE_OMITTED_OPERATIONS.includes(operationId)) ||
    (Array.isArray(lastPageMode) && lastPageMode.includes(operationId));
  const retryAfterMode = options.retryAfterOn429 ?? 'alternate';
  // Counts the limiter's 429s, so 'alternate' is deterministic: the 1st, 3rd, … carry the header.
  let limited429s = 0;
  const closing = new AbortController();
  const emit = (change: StoreChange) => {
    try {
      options.onChange?.(change);
    } catch (err) {
      logger.warn({ err }, 'onChange hook failed');
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'mock API request failed');
      if (!res.headersSent) send(res, 500, errorBody(500, 'Internal simulator error'));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname.startsWith('/_sim/')) return control(req, res, method, url);

    let record = { workspaceId: '-', operation: 'unknown' };
    const reply = (status: number, body?: unknown, headers?: Record<string, string>) => {
      stats.record({ ...record, status });
      send(res, status, body, headers);
    };

    let apiPath: string | undefined;
    let server: 'api' | 'reports' | undefined;
    if (url.pathname.startsWith('/api/')) apiPath = url.pathname.slice(4);
    else if (url.pathname.startsWith('/reports/')) {
      apiPath = url.pathname.slice(8);
      server = 'reports';
    }
    const match = apiPath !== undefined ? operations.match(method, apiPath, server) : undefined;
    if (!match || match.kind !== 'matched') {
      const inPath = /^\/v1\/workspaces\/([0-9a-zA-Z]{1,64})(\/|$)/.exec(apiPath ?? '');
      if (inPath) record = { workspaceId: inPath[1] as string, operation: 'unknown' };
      const hint =
        match && match.allowedMethods.length > 0 ? ` (the path exists for ${match.allowedMethods.join(', ')})` : '';
      await drain(req);
      return reply(404, errorBody(404, `No operation ${method} ${apiPath ?? url.pathname} in the Clockify API${hint}`));
    }
    const op = match.operation;
    const pathWorkspace = match.pathParams.workspaceId;
    record = { workspaceId: pathWorkspace ?? '-', operation: op.operationId };

    const raw = await readBody(req, maxBody);
    if (raw === 'too-large') return reply(413, errorBody(413, `Request body larger than ${maxBody} bytes`));

    if (!op.acceptsAddonToken) {
      return reply(403, errorBody(403, `${op.operationId} does not accept X-Addon-Token (API keys only)`));
    }
    const token = header(req, 'x-addon-token');
    const authResult = await auth.authenticate(token, pathWorkspace);
    if (!authResult.ok) return reply(authResult.status, errorBody(authResult.status, authResult.message));
    const claims = authResult.claims;
    const workspaceId = pathWorkspace ?? claims.workspaceId;
    record = { workspaceId, operation: op.operationId };

    if (limiter) {
      const taken = limiter.take(workspaceId);
      if (!taken.allowed) {
        limited429s += 1;
        const withRetryAfter = retryAfterMode === 'always' || (retryAfterMode === 'alternate' && limited429s % 2 === 1);
        return reply(
          429,
          errorBody(429, 'Too many requests'),
          withRetryAfter ? { 'Retry-After': String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))) } : undefined,
        );
      }
    }

    const fault = faults.decide(op.operationId);
    if (fault.latencyMs > 0) {
      try {
        await sleep(fault.latencyMs, undefined, { signal: closing.signal });
      } catch {
        return;
      }
    }
    if (fault.kind === 'forbid') {
      const scope = fault.scope ?? requiredScope(op);
      return reply(
        403,
        errorBody(403, `Addon with id ${String(claims.addonId ?? 'unknown')} does not have permission ${scope}`),
      );
    }
    if (fault.kind === 'fail') {
      return reply(
        fault.status,
        errorBody(fault.status, `Simulated failure of ${op.operationId}`),
        fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : undefined,
      );
    }

    const problem = validateQuery(op, url.searchParams);
    if (problem) return reply(400, errorBody(400, problem.message));
    if (pathWorkspace !== undefined && !store.hasWorkspace(pathWorkspace)) {
      return reply(404, errorBody(404, `Workspace with id ${pathWorkspace} doesn't exist`));
    }

    const handler = HANDLERS[op.operationId];
    if (!handler) {
      return reply(
        501,
        errorBody(
          501,
          `The simulator recognizes ${op.operationId} (${op.method} ${op.path}) but does not implement it`,
        ),
      );
    }
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return reply(400, errorBody(400, 'Malformed JSON request body'));
      }
    }
    let result: HandlerResult;
    try {
      result = await handler({
        op,
        pathParams: match.pathParams,
        query: url.searchParams,
        body,
        claims,
        store,
        hooks: options.addonHooks ?? {},
        emit,
      });
    } catch (err) {
      if (err instanceof StoreError) return reply(err.status, errorBody(err.status, err.message));
      throw err;
    }
    const headers = result.headers ? { ...result.headers } : undefined;
    if (headers && omitsLastPage(op.operationId)) delete headers['Last-Page'];
    reply(result.status, result.body, headers);
  }

  async function control(req: IncomingMessage, res: ServerResponse, method: string, url: URL): Promise<void> {
    const route = `${method} ${url.pathname}`;
    // A command may carry a webhook body (up to 1 MiB); the other control requests are small.
    const commandRoute = method === 'POST' && url.pathname.startsWith('/_sim/commands/');
    const raw = await readBody(req, commandRoute ? 1024 * 1024 + 64 * 1024 : 64 * 1024);
    if (raw === 'too-large') return send(res, 413, errorBody(413, 'Control request too large'));
    if (commandRoute) return command(req, res, url.pathname.slice('/_sim/commands/'.length), raw);
    switch (route) {
      case 'GET /_sim/health':
        return send(res, 200, { ok: true });
      case 'GET /_sim/stats':
        return send(res, 200, stats.snapshot());
      case 'POST /_sim/reset-stats':
        stats.reset();
        limiter?.resetPeaks();
        return send(res, 200, stats.snapshot());
      case 'GET /_sim/workspaces':
        return send(
          res,
          200,
          store.workspaceIds().map((id) => store.summary(id)),
        );
      case 'GET /_sim/faults':
        return send(res, 200, faults.list());
      case 'POST /_sim/faults': {
        let input: OperationFault & { operation?: unknown };
        try {
          input = JSON.parse(raw.toString('utf8')) as OperationFault & { operation?: unknown };
          if (typeof input !== 'object' || input === null || typeof input.operation !== 'string')
            throw new Error('the body needs "operation"');
          const { operation, ...fault } = input;
          validateFault(fault);
          if (operation !== '*' && !operations.get(operation)) throw new Error(`unknown operation ${operation}`);
          faults.set(operation, fault);
        } catch (err) {
          return send(res, 400, errorBody(400, err instanceof SyntaxError ? 'Malformed JSON' : (err as Error).message));
        }
        return send(res, 200, faults.list());
      }
      case 'DELETE /_sim/faults':
        faults.clear(url.searchParams.get('operation') ?? undefined);
        return send(res, 200, faults.list());
      default:
        return send(res, 404, errorBody(404, `No simulator control route ${route}`));
    }
  }

  async function command(req: IncomingMessage, res: ServerResponse, name: string, raw: Buffer): Promise<void> {
    const commands = options.commands;
    if (!commands) return send(res, 404, errorBody(404, 'This mock runs no commands (start it with `sim serve`)'));
    const given = req.headers[CONTROL_TOKEN_HEADER];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), digest(commands.token)))
      return send(res, 401, errorBody(401, `Commands need the ${CONTROL_TOKEN_HEADER} header of this server`));
    let input: unknown;
    try {
      input = JSON.parse(raw.toString('utf8'));
    } catch {
      return send(res, 400, errorBody(400, 'Malformed JSON'));
    }
    try {
      return send(res, 200, await commands.run(name, input));
    } catch (err) {
      if (commands.isInputError(err)) return send(res, 400, errorBody(400, (err as Error).message));
      logger.error({ err, command: name }, 'simulator command failed');
      return send(res, 500, errorBody(500, `The command failed: ${(err as Error).message}`));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;
  logger.info({ origin }, 'mock Clockify API listening');

  return {
    url: `${origin}/api`,
    reportsUrl: `${origin}/reports`,
    origin,
    port: address.port,
    store,
    stats,
    faults,
    rateLimiter: limiter,
    operations,
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, body?: unknown, headers?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const extra = headers ?? {};
  if (body === undefined || status === 204) {
    res.writeHead(status, extra);
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

/** Reads the body up to `limit` bytes; a larger body is read to its end and discarded. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.once('end', () => resolve(size > limit ? 'too-large' : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

async function drain(req: IncomingMessage): Promise<void> {
  await readBody(req, 64 * 1024);
}

export type { OperationSpec };
