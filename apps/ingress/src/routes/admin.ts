import { timingSafeEqual, createHash } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import {
  getForwardingRule,
  type getInstallation,
  listDeadLetters,
  listInstallations,
  pageEntities,
  pageWebhookEvents,
  type InstallationStatus,
} from '@cap/db';
import { queueBacklog } from '@cap/app-process';
import {
  ForwardingRuleError,
  findInstallation,
  ruleView,
  OperationError,
  createForwardingRule,
  forwardingRules,
  removeForwardingRule,
  rotateForwardingRuleSecret,
  updateForwardingRuleFields,
  ReplayError,
  callClockify,
  recentApiCalls,
  drainQueue,
  findQueue,
  installationDetail,
  listInstallationOverviews,
  replayAllDeadLetters,
  replayDeadLetter,
  requestBootstrap,
  workspaceStatus,
} from '@cap/operator-actions';
import type { IngressContext } from '../context.js';
import { apiCallDeps, apiCallFailure, parseCallBody } from '../clockify-calls.js';
import { explorerOperations } from '../explorer.js';
import { HttpError } from '../http/errors.js';
import { LoginThrottle } from '../http/login-throttle.js';

export const ADMIN_CSRF_HEADER = 'x-admin-request';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time comparison (hashing first makes lengths equal). */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * HTTP basic auth against ADMIN_USERNAME / ADMIN_PASSWORD, with a challenge. A client with too
 * many failed logins (`throttle`) gets 429 + Retry-After until its window ends, without its
 * credentials being checked.
 */
export function basicAuth(
  username: string,
  password: string,
  throttle?: LoginThrottle,
  onBlocked?: (client: string) => void,
) {
  return (req: Request, res: Response, next: NextFunction) => {
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const waitMs = throttle?.blockedFor(client) ?? 0;
    if (waitMs > 0) {
      const seconds = String(Math.max(1, Math.ceil(waitMs / 1000)));
      next(
        new HttpError(429, 'too_many_attempts', 'too many failed admin logins; try again later', {
          'retry-after': seconds,
        }),
      );
      return;
    }
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    let ok = false;
    if (match) {
      const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        // Both compared every time, so timing does not tell which part was wrong.
        const userOk = safeEqual(decoded.slice(0, colon), username);
        const passOk = safeEqual(decoded.slice(colon + 1), password);
        ok = userOk && passOk;
      }
    }
    if (ok) return next();
    // A failed login is wrong credentials; a request without any is a browser asking for the prompt.
    if (header !== '' && throttle?.fail(client)) onBlocked?.(client);
    res.setHeader('www-authenticate', 'Basic realm="clockify-addon admin", charset="UTF-8"');
    next(new HttpError(401, 'unauthorized', 'admin credentials are required'));
  };
}

/**
 * Writes must come from a page of this origin or carry the custom header, so a browser that holds
 * basic-auth credentials cannot be driven by another site (CSRF): a cross-site form cannot set
 * headers, and a cross-site fetch with one needs a CORS preflight this server never grants.
 */
export function csrfGuard(ctx: IngressContext) {
  const allowed = new Set([new URL(ctx.config.BASE_URL).origin]);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    if (req.headers[ADMIN_CSRF_HEADER] !== undefined) return next();
    const origin = req.headers.origin;
    // `req.host` honours X-Forwarded-Host only behind a trusted proxy (TRUST_PROXY), as `req.protocol` does.
    const self = `${req.protocol}://${req.host ?? ''}`;
    if (origin && (allowed.has(origin) || origin === self)) return next();
    next(
      new HttpError(403, 'csrf_rejected', `admin writes need a same-origin request or the ${ADMIN_CSRF_HEADER} header`),
    );
  };
}

const STATUSES = new Set<InstallationStatus>(['ACTIVE', 'INACTIVE', 'DELETED']);

function intParam(value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new HttpError(400, 'bad_request', `expected an integer from 0 to ${max}`);
  return n;
}

function operationFailure(err: unknown): never {
  if (err instanceof OperationError) {
    throw new HttpError(err.code === 'not_found' ? 404 : 409, err.code, err.message);
  }
  if (err instanceof ReplayError) {
    const status = err.code === 'not_found' ? 404 : err.code === 'already_replayed' ? 409 : 422;
    throw new HttpError(status, err.code, err.message);
  }
  throw err;
}

/** The admin JSON API under /admin/api. */
function adminApi(ctx: IngressContext): Router {
  const router = express.Router();
  const deps = { db: ctx.database.db, queues: ctx.queues };
  const installationView = (i: Awaited<ReturnType<typeof getInstallation>>) => {
    if (!i) return undefined;
    const { auth_token_enc, auth_token_hash: _hash, ...rest } = i;
    return { ...rest, hasToken: auth_token_enc !== null };
  };

  router.get('/installations', async (req, res) => {
    const status = req.query.status;
    if (status !== undefined && !STATUSES.has(status as InstallationStatus)) {
      throw new HttpError(400, 'bad_request', 'status must be ACTIVE, INACTIVE or DELETED');
    }
    const page = {
      ...(status ? { status: status as InstallationStatus } : {}),
      limit: intParam(req.query.limit, 100, 1000),
      offset: intParam(req.query.offset, 0, 1_000_000),
    };
    const [rows, overviews] = await Promise.all([
      listInstallations(ctx.database.db, page),
      listInstallationOverviews(ctx.database.db, page),
    ]);
    // The stored fields, plus what `installations list` shows: webhook tokens present, the last
    // lifecycle call, the latest bootstrap run (both lists are in the same order).
    const byKey = new Map(overviews.map((o) => [`${o.workspaceId}\0${o.addonId}`, o]));
    res.json({
      installations: rows.map((r) => {
        const o = byKey.get(`${r.workspace_id}\0${r.addon_id}`);
        return {
          ...installationView(r),
          webhookTokens: o?.webhookTokens ?? 0,
          lastLifecycle: o?.lastLifecycle ?? null,
          bootstrap: o?.bootstrap ?? null,
        };
      }),
    });
  });

  router.get('/installations/:workspaceId', async (req, res) => {
    const detail = await installationDetail(ctx.database.db, req.params.workspaceId!);
    if (!detail) throw new HttpError(404, 'not_found', 'no installation in that workspace');
    res.json(detail);
  });

  // The queues as `npm run cli -- queues` shows and changes them.
  const queueOf = (name: string | undefined) => {
    try {
      return findQueue(ctx.queues, name);
    } catch (err) {
      operationFailure(err);
    }
  };
  router.get('/queues', async (_req, res) => {
    res.json({ queues: await Promise.all(Object.values(ctx.queues).map((q) => queueBacklog(ctx.redis, q))) });
  });
  router.post('/queues/:queue/drain', async (req, res) => {
    const queue = queueOf(req.params.queue);
    if (req.query.confirm !== 'true') {
      throw new HttpError(
        400,
        'confirmation_required',
        `drain deletes every waiting and delayed job of ${queue.name}; repeat with ?confirm=true`,
      );
    }
    res.json(await drainQueue(queue));
  });
  // pause | resume: stop or restart every worker taking jobs from the queue.
  router.post('/queues/:queue/:action', async (req, res) => {
    const action = req.params.action;
    if (action !== 'pause' && action !== 'resume') throw new HttpError(404, 'not_found', 'not found');
    const queue = queueOf(req.params.queue);
    await (action === 'pause' ? queue.pause() : queue.resume());
    res.json(await queueBacklog(ctx.redis, queue));
  });

  router.get('/workspaces/:workspaceId', async (req, res) => {
    const status = await workspaceStatus(ctx.database.db, req.params.workspaceId!);
    if (!status) throw new HttpError(404, 'not_found', 'no installation in that workspace');
    res.json(status);
  });

  router.get('/workspaces/:workspaceId/bootstrap', async (req, res) => {
    const status = await workspaceStatus(ctx.database.db, req.params.workspaceId!);
    if (!status) throw new HttpError(404, 'not_found', 'no installation in that workspace');
    res.json({ latestRun: status.latestRun ?? null, recentRuns: status.recentRuns });
  });

  router.get('/workspaces/:workspaceId/entities', async (req, res) => {
    const type = req.query.type;
    if (type !== undefined && (typeof type !== 'string' || !/^[a-z_]{1,64}$/.test(type))) {
      throw new HttpError(400, 'bad_request', 'type must be an entity type such as time_entry');
    }
    const entities = await pageEntities(ctx.database.db, req.params.workspaceId!, {
      ...(type ? { entityType: type } : {}),
      includeDeleted: req.query.includeDeleted === 'true',
      limit: intParam(req.query.limit, 500, 1000),
      offset: intParam(req.query.offset, 0, 10_000_000),
    });
    res.json({ entities });
  });

  router.get('/workspaces/:workspaceId/deliveries', async (req, res) => {
    const since = typeof req.query.since === 'string' ? new Date(req.query.since) : undefined;
    if (since && Number.isNaN(since.getTime()))
      throw new HttpError(400, 'bad_request', 'since must be an ISO-8601 time');
    const rows = await pageWebhookEvents(ctx.database.db, req.params.workspaceId!, {
      ...(since ? { since } : {}),
      limit: intParam(req.query.limit, 500, 1000),
      offset: intParam(req.query.offset, 0, 10_000_000),
    });
    res.json({
      deliveries: rows.map((r) => ({
        event: r.event,
        status: r.status,
        entityId: r.entity_id,
        tokenCheck: r.token_check,
        attempts: r.attempts,
        error: r.error,
        receivedAt: r.received_at,
        processedAt: r.processed_at,
      })),
    });
  });

  router.post('/workspaces/:workspaceId/bootstrap', async (req, res) => {
    try {
      const result = await requestBootstrap(deps, req.params.workspaceId!, { trigger: 'manual' });
      res.status(202).json(result);
    } catch (err) {
      operationFailure(err);
    }
  });

  // Clockify API calls of operators: validated against the spec, through the workspace's
  // limiter, recorded in api_call_audit (see @cap/operator-actions callClockify).
  const apiDeps = apiCallDeps(ctx);
  router.post('/workspaces/:workspaceId/clockify', async (req, res) => {
    const input = parseCallBody(req.body);
    try {
      res.json(
        await callClockify(apiDeps, {
          ...input,
          workspaceId: req.params.workspaceId!,
          actor: { kind: 'admin', id: ctx.config.ADMIN_USERNAME ?? 'admin' },
        }),
      );
    } catch (err) {
      apiCallFailure(err);
    }
  });
  router.get('/clockify/calls', async (req, res) => {
    const workspaceId = typeof req.query.workspaceId === 'string' ? req.query.workspaceId : undefined;
    res.json({
      calls: await recentApiCalls(ctx.database.db, {
        ...(workspaceId ? { workspaceId } : {}),
        limit: intParam(req.query.limit, 100, 1000),
        offset: intParam(req.query.offset, 0, 1_000_000),
      }),
    });
  });
  // Built here, at start, from the spec; served as is.
  const explorer = explorerOperations();
  router.get('/clockify/operations', (_req, res) => {
    res.json(explorer);
  });

  // Forwarding rules of a workspace's installation (see @cap/operator-actions forwarding).
  const forwardingDeps = {
    db: ctx.database.db,
    keyring: ctx.keyring,
    policy: { allowedHosts: ctx.config.FORWARDING_ALLOWED_HOSTS },
    events: ctx.addon.events,
  };
  // The workspace's installation, as requestBootstrap finds it (the latest), unless uninstalled.
  const installationOf = async (workspaceId: string) => {
    const installation = await findInstallation(ctx.database.db, workspaceId);
    if (!installation || installation.status === 'DELETED') {
      throw new HttpError(404, 'not_found', 'no installation in that workspace');
    }
    return { workspaceId, addonId: installation.addon_id };
  };
  const ruleFailure = (err: unknown): never => {
    if (err instanceof ForwardingRuleError) {
      const status = err.code === 'not_found' ? 404 : err.code === 'conflict' ? 409 : 400;
      throw new HttpError(
        status,
        err.code,
        err.message,
        {},
        err.problems.length > 0 ? { problems: err.problems } : undefined,
      );
    }
    throw err;
  };
  const rules = '/workspaces/:workspaceId/forwarding/rules';
  router.get(rules, async (req, res) => {
    res.json({ rules: await forwardingRules(forwardingDeps, await installationOf(req.params.workspaceId!)) });
  });
  router.post(rules, async (req, res) => {
    const ref = await installationOf(req.params.workspaceId!);
    try {
      res.status(201).json(await createForwardingRule(forwardingDeps, ref, req.body));
    } catch (err) {
      ruleFailure(err);
    }
  });
  router.get(`${rules}/:id`, async (req, res) => {
    const rule = await getForwardingRule(
      ctx.database.db,
      await installationOf(req.params.workspaceId!),
      req.params.id!,
    );
    if (!rule) throw new HttpError(404, 'not_found', 'no such forwarding rule');
    res.json(ruleView(rule));
  });
  router.put(`${rules}/:id`, async (req, res) => {
    const ref = await installationOf(req.params.workspaceId!);
    try {
      res.json(await updateForwardingRuleFields(forwardingDeps, ref, req.params.id!, req.body));
    } catch (err) {
      ruleFailure(err);
    }
  });
  router.delete(`${rules}/:id`, async (req, res) => {
    const ref = await installationOf(req.params.workspaceId!);
    try {
      await removeForwardingRule(forwardingDeps, ref, req.params.id!);
      res.status(204).end();
    } catch (err) {
      ruleFailure(err);
    }
  });
  router.post(`${rules}/:id/rotate-secret`, async (req, res) => {
    const ref = await installationOf(req.params.workspaceId!);
    try {
      res.json(await rotateForwardingRuleSecret(forwardingDeps, ref, req.params.id!));
    } catch (err) {
      ruleFailure(err);
    }
  });

  router.get('/dead-letters', async (req, res) => {
    const letters = await listDeadLetters(ctx.database.db, {
      includeReplayed: req.query.includeReplayed === 'true',
      ...(typeof req.query.workspaceId === 'string' ? { workspaceId: req.query.workspaceId } : {}),
      limit: intParam(req.query.limit, 100, 1000),
      offset: intParam(req.query.offset, 0, 1_000_000),
    });
    res.json({ deadLetters: letters });
  });

  router.post('/dead-letters/replay-all', async (req, res) => {
    const workspaceId = typeof req.query.workspaceId === 'string' ? req.query.workspaceId : undefined;
    res.status(202).json(await replayAllDeadLetters(deps, workspaceId ? { workspaceId } : {}));
  });

  router.post('/dead-letters/:id/replay', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(400, 'bad_request', 'id must be a positive integer');
    try {
      res.status(202).json(await replayDeadLetter(deps, id));
    } catch (err) {
      operationFailure(err);
    }
  });

  return router;
}

/**
 * The admin surface: Bull Board at /admin/queues (read-only unless ADMIN_BULL_BOARD_WRITE) and the
 * JSON API at /admin/api, both behind basic auth and the CSRF guard. Without credentials the
 * whole surface answers 404 (see start.ts, which logs why).
 */
export function adminRouter(ctx: IngressContext): Router {
  const { ADMIN_USERNAME, ADMIN_PASSWORD, ADMIN_BULL_BOARD_WRITE } = ctx.config;
  const router = express.Router();
  if (!ADMIN_USERNAME || !ADMIN_PASSWORD) {
    router.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'not found')));
    return router;
  }
  router.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          frameAncestors: ["'none'"],
        },
      },
    }),
  );
  const throttle = new LoginThrottle(ctx.config.ADMIN_LOGIN_MAX_FAILURES, ctx.config.ADMIN_LOGIN_WINDOW_SECONDS * 1000);
  router.use(
    basicAuth(ADMIN_USERNAME, ADMIN_PASSWORD, throttle, (client) =>
      ctx.logger.warn(
        { client, windowSeconds: ctx.config.ADMIN_LOGIN_WINDOW_SECONDS },
        'admin logins from this client are blocked after too many failures',
      ),
    ),
  );
  router.use(csrfGuard(ctx));

  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({
    queues: Object.values(ctx.queues).map(
      (q) => new BullMQAdapter(q, { readOnlyMode: !ADMIN_BULL_BOARD_WRITE, allowRetries: ADMIN_BULL_BOARD_WRITE }),
    ),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: `${ctx.addon.name} queues` } },
  });
  const boardApp = board.getRouter() as express.Express;
  // Bull Board is an express app of its own, with express's default X-Powered-By.
  boardApp.disable('x-powered-by');
  router.use('/queues', boardApp);
  router.use('/api', express.json({ limit: '16kb' }), adminApi(ctx));
  router.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'not found')));
  return router;
}
