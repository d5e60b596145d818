import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { IngressContext } from './context.js';
import { trustProxySetting } from './config.js';
import { HttpError, sendError } from './http/errors.js';
import { adminRouter } from './routes/admin.js';
import { LIFECYCLE_ROUTES, handleLifecycle } from './routes/lifecycle.js';
import { ICON_SVG } from './routes/manifest.js';
import { addonPage, sidebar } from './routes/ui.js';
import {
  API_STUDIO_CALL_PATH,
  API_STUDIO_SCRIPT,
  API_STUDIO_SCRIPT_PATH,
  apiStudioCall,
  apiStudioDeclared,
  apiStudioPage,
} from './routes/api-studio.js';
import { explorerOperations } from './explorer.js';
import { API_STUDIO_PATH } from '@cap/addon';

declare module 'http' {
  interface IncomingMessage {
    /** Set by the server before express sees the request. */
    requestId?: string;
  }
}

/**
 * The express part of the ingress: manifest, lifecycle, components and the admin surface. The
 * webhook route and the ops endpoints are served in front of it by server.ts.
 */
export function createApp(ctx: IngressContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxySetting(ctx.config.TRUST_PROXY));

  app.get(['/manifest', '/manifest.json'], (_req, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('cache-control', 'public, max-age=60');
    res.send(ctx.manifestJson);
  });
  app.get('/assets/icon.svg', (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=86400');
    res.type('image/svg+xml').send(ICON_SVG);
  });

  for (const [path, type] of LIFECYCLE_ROUTES) {
    app.post(path, async (req, res) => {
      await handleLifecycle(ctx, req, type, req.requestId ?? '');
      res.status(200).json({ received: true });
    });
  }

  // Components are framed by Clockify: CSP frame-ancestors instead of X-Frame-Options.
  const componentHeaders = helmet({
    contentSecurityPolicy: false,
    frameguard: false,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.get('/ui/sidebar', componentHeaders, (req, res) => sidebar(ctx, req, res));
  if (apiStudioDeclared(ctx)) {
    // The explorer's data is built here, once, from the spec (not on the first page view).
    explorerOperations();
    app.get(API_STUDIO_SCRIPT_PATH, (_req, res) => {
      res.setHeader('cache-control', 'public, max-age=300');
      res.type('text/javascript').send(API_STUDIO_SCRIPT);
    });
    app.get(API_STUDIO_PATH, componentHeaders, (req, res) => apiStudioPage(ctx, req, res));
    app.post(API_STUDIO_CALL_PATH, componentHeaders, express.json({ limit: '64kb' }), (req, res) =>
      apiStudioCall(ctx, req, res),
    );
  }
  // The add-on's pages (paths checked at start, see pageProblems).
  for (const page of ctx.addon.pages ?? []) {
    const adminsOnly = (ctx.addon.components ?? []).some((c) => c.path === page.path && c.accessLevel === 'ADMINS');
    app.get(page.path, componentHeaders, (req, res) => addonPage(ctx, page, adminsOnly, req, res));
  }

  app.use('/admin', adminRouter(ctx));

  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'not found')));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = req.requestId ?? '';
    if (err instanceof HttpError) {
      sendError(res, err, requestId);
      return;
    }
    // express.json() and friends throw errors with a status.
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendError(res, new HttpError(status, 'bad_request', 'the request could not be read'), requestId);
      return;
    }
    ctx.logger.error({ err, requestId, path: req.path }, 'request failed');
    sendError(res, new HttpError(500, 'internal', 'unexpected error'), requestId);
  });
  return app;
}
