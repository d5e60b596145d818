import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Express } from 'express';
import { REQUEST_ID_HEADER, SpanKind, inSpan, requestIdFrom } from '@cap/observability';
import { handleOps, type OpsOptions } from '@cap/app-process';
import type { IngressContext } from '../context.js';
import { handleWebhook } from '../routes/webhooks.js';
import { HttpError, sendError } from './errors.js';

// /metrics and the detailed /ready live on the ops port (INGRESS_OPS_PORT); the public port
// answers /metrics with the express 404 like any unknown path.
const PUBLIC_OPS_PATHS = new Set(['/health', '/ready']);
const WEBHOOK_PREFIX = '/webhooks/';

/** The route label for metrics: a template, never a raw path (bounded cardinality, no tokens). */
function routeOf(req: IncomingMessage, path: string): string {
  const route = (req as { route?: { path?: unknown } }).route?.path;
  const baseUrl = (req as { baseUrl?: string }).baseUrl ?? '';
  if (typeof route === 'string') return `${baseUrl}${route}`;
  // A route registered for several paths (`['/manifest', '/manifest.json']`) keeps the array; the
  // label is the literal that matched, or the first template (still bounded, never the raw path).
  if (Array.isArray(route)) {
    const templates = route.filter((r): r is string => typeof r === 'string');
    const matched = templates.find((r) => `${baseUrl}${r}` === path) ?? templates[0];
    if (matched !== undefined) return `${baseUrl}${matched}`;
  }
  if (path.startsWith('/admin/queues')) return '/admin/queues';
  if (path.startsWith('/admin/api')) return '/admin/api';
  return 'unmatched';
}

/** /health, /ready and /metrics of the ingress; the ops port serves them with detail. */
export function ingressOps(ctx: IngressContext): OpsOptions {
  return {
    metrics: ctx.metrics,
    isAccepting: ctx.isAccepting,
    checks: { redis: () => ctx.redis.ping() },
  };
}

/**
 * One node:http server for the whole public side of the ingress. The webhook route and /health,
 * /ready are served by lean handlers (express's router is the largest cost on the hot path under
 * Node 20); every other request goes to express. Both paths share the request id, the error shape
 * and metrics.
 */
export function createIngressServer(ctx: IngressContext, app: Express): Server {
  // Anyone can reach this port: /ready says ready or not, without check names or error text.
  const ops: OpsOptions = { ...ingressOps(ctx), readyDetail: false };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdFrom(req.headers['x-request-id']);
    req.requestId = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);

    const done = (route: string) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      ctx.ingressMetrics.observe(route, req.method ?? 'GET', res.statusCode, seconds);
      if (res.statusCode >= 500) {
        ctx.logger.error(
          { requestId, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) },
          'request failed',
        );
      } else if (res.statusCode >= 400) {
        ctx.logger.info({ requestId, method: req.method, route, status: res.statusCode }, 'request refused');
      }
    };

    if (path.startsWith(WEBHOOK_PREFIX)) {
      const segment = path.slice(WEBHOOK_PREFIX.length).replace(/\/+$/, '');
      inSpan(
        'webhook receive',
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': req.method ?? '', 'http.route': '/webhooks/:event' },
        },
        async (span) => {
          const result = await handleWebhook(ctx, req, res, segment, requestId);
          span.setAttributes({
            'clockify.event': result.event,
            'cap.webhook.outcome': result.outcome,
            'http.response.status_code': res.statusCode,
          });
          return result;
        },
      )
        .then((result) => {
          ctx.ingressMetrics.webhook(result.event, result.outcome);
          done('/webhooks/:event');
        })
        .catch((err: unknown) => {
          const known = err instanceof HttpError;
          const httpErr = known ? err : new HttpError(500, 'internal', 'unexpected error');
          if (!known) ctx.logger.error({ err, requestId }, 'webhook request failed');
          const event = ctx.routes.get(segment) ?? 'unknown';
          ctx.ingressMetrics.webhook(
            event,
            httpErr.status === 503 ? (httpErr.code === 'overloaded' ? 'shed' : 'unavailable') : 'rejected',
          );
          sendError(res, httpErr, requestId);
          if (httpErr.status === 413) res.once('finish', () => req.socket.destroy());
          done(ctx.routes.has(segment) ? '/webhooks/:event' : 'unmatched');
        });
      return;
    }

    if (PUBLIC_OPS_PATHS.has(path)) {
      handleOps(req, res, ops)
        .then((handled) => {
          if (!handled) sendError(res, new HttpError(405, 'method_not_allowed', 'use GET'), requestId);
          done(path);
        })
        .catch((err: unknown) => {
          ctx.logger.error({ err }, 'ops request failed');
          sendError(res, new HttpError(500, 'internal', 'unexpected error'), requestId);
          done(path);
        });
      return;
    }

    res.once('finish', () => done(routeOf(req, path)));
    app(req, res);
  });

  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  return server;
}
