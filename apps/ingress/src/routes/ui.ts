import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { escapeHtml as escape, settingsView, type AddonPage } from '@cap/addon';
import { getInstallation, type WebhookHealth } from '@cap/db';
import { workspaceStatus, type WorkspaceStatus } from '@cap/operator-actions';
import type { IngressContext } from '../context.js';
import { HttpError } from '../http/errors.js';
import { verificationFailure } from './webhooks.js';

const when = (d: Date | null | undefined): string =>
  d ? new Date(d).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—';

/** Origins that may frame component pages: Clockify's, and UI_FRAME_ANCESTORS. */
export function frameOrigins(ctx: IngressContext): string[] {
  return ['https://*.clockify.me', ...ctx.config.UI_FRAME_ANCESTORS];
}

/**
 * Content-Security-Policy of component pages: framed by Clockify (and configured origins) only,
 * nothing but the nonce's styles; with `scripts`, also the nonce's scripts and requests to this
 * origin (the API Studio page).
 */
export function componentCsp(ctx: IngressContext, nonce: string, opts: { scripts?: boolean } = {}): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    ...(opts.scripts ? [`script-src 'nonce-${nonce}'`, "connect-src 'self'"] : []),
    "img-src 'self' data:",
    `frame-ancestors ${["'self'", ...frameOrigins(ctx)].join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The viewer of a component page, from its verified user token. */
export interface Viewer {
  readonly workspaceId: string;
  readonly addonId?: string;
  readonly userId?: string;
  readonly workspaceRole?: string;
  /** The token's API base URLs (Clockify's `backendUrl` and `reportsUrl` claims). */
  readonly backendUrl?: string;
  readonly reportsUrl?: string;
}

/** Verifies the `auth_token` query parameter of a component request as a user token. */
async function viewerOf(ctx: IngressContext, req: Request): Promise<Viewer> {
  const token = typeof req.query.auth_token === 'string' ? req.query.auth_token : undefined;
  if (!token) throw new HttpError(401, 'missing_token', 'the auth_token query parameter is missing');
  return verifyViewer(ctx, token);
}

/** Verifies a user token (from a component's query string or a page's request header). */
export async function verifyViewer(ctx: IngressContext, token: string): Promise<Viewer> {
  let claims;
  try {
    ({ claims } = await ctx.verifier.verify(token, 'user'));
  } catch (err) {
    throw verificationFailure(err);
  }
  if (!claims.workspaceId) throw new HttpError(401, 'missing_claim', 'the user token carries no workspaceId');
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const addonId = text(claims.addonId);
  const userId = text(claims.user);
  const workspaceRole = text(claims.workspaceRole);
  const backendUrl = text(claims.backendUrl);
  const reportsUrl = text(claims.reportsUrl);
  return {
    workspaceId: claims.workspaceId,
    ...(addonId ? { addonId } : {}),
    ...(userId ? { userId } : {}),
    ...(workspaceRole ? { workspaceRole } : {}),
    ...(backendUrl ? { backendUrl } : {}),
    ...(reportsUrl ? { reportsUrl } : {}),
  };
}

/**
 * The installation a viewer's token names, checked as for the add-on's pages: the token carries
 * an `addonId`, the viewer is an owner or admin when `adminsOnly`, and the add-on is installed
 * (not uninstalled) in the token's workspace.
 */
export async function viewerInstallation(ctx: IngressContext, viewer: Viewer, adminsOnly: boolean) {
  if (!viewer.addonId) throw new HttpError(401, 'missing_claim', 'the user token carries no addonId');
  if (adminsOnly && !ADMIN_ROLES.has(viewer.workspaceRole ?? '')) {
    throw new HttpError(403, 'forbidden', 'this page is for workspace admins');
  }
  const installation = await getInstallation(ctx.database.db, {
    workspaceId: viewer.workspaceId,
    addonId: viewer.addonId,
  });
  if (!installation || installation.status === 'DELETED') {
    throw new HttpError(403, 'not_installed', 'the add-on is not installed in this workspace');
  }
  return installation;
}

/** Sends a component page under a CSP that admits only the styles carrying `nonce`. */
function sendPage(ctx: IngressContext, res: Response, nonce: string, html: string): void {
  res.setHeader('content-security-policy', componentCsp(ctx, nonce));
  res.setHeader('cache-control', 'no-store');
  res.type('html').send(html);
}

/**
 * `GET /ui/sidebar?auth_token=…`: the sidebar component. Verifies the user token, then shows the
 * workspace's installation status, bootstrap progress and recent webhook deliveries.
 */
export async function sidebar(ctx: IngressContext, req: Request, res: Response): Promise<void> {
  const viewer = await viewerOf(ctx, req);
  const status = await workspaceStatus(ctx.database.db, viewer.workspaceId, viewer.addonId);
  const nonce = randomBytes(16).toString('base64');
  sendPage(ctx, res, nonce, renderSidebar(ctx.addon.name, viewer.workspaceId, status, nonce));
}

/**
 * Workspace roles Clockify's `ADMINS` access level admits: the owner and workspace admins, named
 * as the API's role filters name them (OWNER, WORKSPACE_ADMIN). The claim's values other than
 * OWNER are undocumented, so ADMIN is admitted too.
 */
const ADMIN_ROLES = new Set(['OWNER', 'WORKSPACE_ADMIN', 'ADMIN']);

/**
 * `GET <page.path>?auth_token=…`: a page of the add-on (`AddonPage`). The same token check and
 * headers as the sidebar; the token must name an installation that is not uninstalled, and a page
 * shown by an `ADMINS` component refuses a viewer who is not an owner or admin (or whose role is unknown).
 */
export async function addonPage(
  ctx: IngressContext,
  page: AddonPage,
  adminsOnly: boolean,
  req: Request,
  res: Response,
): Promise<void> {
  const viewer = await viewerOf(ctx, req);
  const installation = await viewerInstallation(ctx, viewer, adminsOnly);
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(req.query)) {
    if (name !== 'auth_token' && typeof value === 'string') query.append(name, value);
  }
  const nonce = randomBytes(16).toString('base64');
  const html = await page.render({
    ...settingsView(installation.settings, ctx.addon.settings),
    workspaceId: viewer.workspaceId,
    addonId: installation.addon_id,
    ...(viewer.userId ? { userId: viewer.userId } : {}),
    ...(viewer.workspaceRole ? { workspaceRole: viewer.workspaceRole } : {}),
    query,
    nonce,
    db: ctx.database.db,
    logger: ctx.logger.child({ page: page.path, workspaceId: viewer.workspaceId }),
  });
  sendPage(ctx, res, nonce, html);
}

/** INSTALLED webhooks that were not stored: their deliveries will be ignored until a reinstall. */
function skippedWebhooksNotice(skipped: readonly { path?: string; reason: string }[] | undefined): string {
  if (!skipped || skipped.length === 0) return '';
  const items = skipped
    .map((w) => `<li><code>${escape(w.path ?? '(no path)')}</code>: ${escape(w.reason.replaceAll('_', ' '))}</li>`)
    .join('');
  return `<p class="warning">${skipped.length} webhook${skipped.length === 1 ? ' was' : 's were'} not accepted at install; their events are not received until the add-on is reinstalled:</p><ul class="skipped">${items}</ul>`;
}

/** Webhooks Clockify said it does not deliver (delivery switched off after repeated failures). */
function undeliveredWebhooksNotice(health: WebhookHealth | null | undefined): string {
  if (!health || health.undelivered.length === 0) return '';
  const items = health.undelivered
    .map((w) => {
      const why = !w.deliveryEnabled
        ? 'delivery disabled by Clockify'
        : !w.planEnabled
          ? 'not in your plan'
          : 'disabled';
      return `<li><code>${escape(w.event ?? w.id ?? 'a webhook')}</code>: ${escape(why)}</li>`;
    })
    .join('');
  return `<p class="warning">Clockify is not delivering ${health.undelivered.length === 1 ? 'one webhook' : `${health.undelivered.length} webhooks`} (checked ${escape(when(new Date(health.checkedAt)))}); the workspace is reconciled to heal what was missed:</p><ul class="skipped">${items}</ul>`;
}

export function renderSidebar(
  addonName: string,
  workspaceId: string,
  status: WorkspaceStatus | undefined,
  nonce: string,
): string {
  const run = status?.latestRun;
  const active = run && ['PENDING', 'RUNNING', 'PAUSED'].includes(run.run.status);
  const percent = run && run.totals.resources > 0 ? Math.round((run.totals.finished / run.totals.resources) * 100) : 0;
  const entities = Object.entries(status?.entities ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const body = !status
    ? `<p class="muted">This workspace has no installation yet. It appears here once Clockify has sent INSTALLED.</p>`
    : `
    <section>
      <h2>Installation</h2>
      <p><span class="badge ${escape(status.installation.status.toLowerCase())}">${escape(status.installation.status)}</span>
      since ${escape(when(status.installation.installed_at))}</p>
      ${skippedWebhooksNotice(status.installation.skipped_webhooks)}
      ${undeliveredWebhooksNotice(status.installation.webhook_health)}
    </section>
    <section>
      <h2>Bootstrap</h2>
      ${
        run
          ? `<p><span class="badge">${escape(run.run.status)}</span> ${escape(run.run.trigger)} run, ${run.totals.finished}/${run.totals.resources} resources, ${run.totals.items} items</p>
      <div class="bar" role="progressbar" aria-valuenow="${percent}" aria-valuemin="0" aria-valuemax="100"><div style="width:${percent}%"></div></div>
      ${run.run.paused_until ? `<p class="muted">Paused by Clockify's rate limit until ${escape(when(run.run.paused_until))}.</p>` : ''}
      <ul class="resources">${run.resources
        .map(
          (r) =>
            `<li><span>${escape(r.resource)}</span> <span class="badge">${escape(r.status)}</span> ${r.items} items${
              r.missing_scope ? ` — needs ${escape(r.missing_scope)}` : ''
            }</li>`,
        )
        .join('')}</ul>`
          : '<p class="muted">No bootstrap has run yet.</p>'
      }
    </section>
    <section>
      <h2>Mirrored</h2>
      ${entities.length ? `<ul class="counts">${entities.map(([t, n]) => `<li>${escape(t)}: ${n}</li>`).join('')}</ul>` : '<p class="muted">Nothing mirrored yet.</p>'}
    </section>
    <section>
      <h2>Recent events</h2>
      ${
        status.recentEvents.length
          ? `<table><thead><tr><th>event</th><th>status</th><th>received</th></tr></thead><tbody>${status.recentEvents
              .map(
                (e) =>
                  `<tr><td>${escape(e.event)}</td><td>${escape(e.status)}</td><td>${escape(when(e.received_at))}</td></tr>`,
              )
              .join('')}</tbody></table>`
          : '<p class="muted">No webhooks received yet.</p>'
      }
    </section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${active ? '<meta http-equiv="refresh" content="5">' : ''}
<title>${escape(addonName)}</title>
<style nonce="${nonce}">
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:12px;color:#333}
h1{font-size:16px;margin:0 0 8px}h2{font-size:13px;text-transform:uppercase;color:#666;margin:16px 0 6px}
.badge{display:inline-block;padding:1px 6px;border-radius:8px;background:#eef;font-size:12px}
.badge.active{background:#e3f6e8}.badge.inactive{background:#fff4d6}.badge.deleted{background:#fde2e2}
.bar{height:8px;background:#eee;border-radius:4px;overflow:hidden}.bar div{height:8px;background:#03a9f4}
.muted{color:#888}.warning{color:#8a4b00}ul{padding-left:18px;margin:4px 0}table{border-collapse:collapse;width:100%;font-size:12px}
td,th{text-align:left;padding:2px 4px;border-bottom:1px solid #eee}
</style></head>
<body data-workspace="${escape(workspaceId)}"><h1>${escape(addonName)}</h1>${body}</body></html>`;
}
