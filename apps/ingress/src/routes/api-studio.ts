import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Request, Response } from 'express';
import { API_STUDIO_PATH, API_STUDIO_WRITES_SETTING, escapeHtml as escape, settingsView } from '@cap/addon';
import { CallValidationError, isReadOnly, resolveOperation } from '@cap/clockify';
import { ApiCallError, callClockify } from '@cap/operator-actions';
import type { IngressContext } from '../context.js';
import { apiCallDeps, apiCallFailure, isRecord, parseCallBody } from '../clockify-calls.js';
import { explorerOperations } from '../explorer.js';
import { HttpError } from '../http/errors.js';
import { componentCsp, frameOrigins, verifyViewer, viewerInstallation } from './ui.js';

/**
 * The API Studio page (`GET /ui/api-studio?auth_token=…`) and its calls
 * (`POST /ui/api-studio/call`, the user token in `X-Addon-Token`). Served when the add-on declares
 * a component with API_STUDIO_PATH. Calls run with the viewing user's token, so Clockify applies
 * that user's permissions; never with the installation's token.
 */

export const API_STUDIO_CALL_PATH = `${API_STUDIO_PATH}/call`;
export const API_STUDIO_SCRIPT_PATH = '/assets/api-studio.js';

/** The page's script, read once at start (a static file: no build step, no framework). */
export const API_STUDIO_SCRIPT = readFileSync(
  fileURLToPath(new URL('../../assets/api-studio.js', import.meta.url)),
  'utf8',
);

export function apiStudioDeclared(ctx: IngressContext): boolean {
  return (ctx.addon.components ?? []).some((c) => c.path === API_STUDIO_PATH);
}

function writesAllowed(ctx: IngressContext, settings: unknown): boolean {
  return settingsView(settings, ctx.addon.settings).setting<boolean>(API_STUDIO_WRITES_SETTING) === true;
}

/** JSON inside a `<script type="application/json">`: no `<` can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export async function apiStudioPage(ctx: IngressContext, req: Request, res: Response): Promise<void> {
  const token = typeof req.query.auth_token === 'string' ? req.query.auth_token : undefined;
  if (!token) throw new HttpError(401, 'missing_token', 'the auth_token query parameter is missing');
  const viewer = await verifyViewer(ctx, token);
  // Workspace admins only, whatever access level the add-on declared the component with.
  const installation = await viewerInstallation(ctx, viewer, true);
  const nonce = randomBytes(16).toString('base64');
  const allowWrites = writesAllowed(ctx, installation.settings);
  // Where Clockify's refreshAddonToken answer may come from: the origins allowed to frame the page.
  const data = {
    allowWrites,
    callPath: API_STUDIO_CALL_PATH,
    refreshOrigins: frameOrigins(ctx),
    ...explorerOperations(),
  };
  // The sidebar's policy, plus this page's own script and its calls to the same origin.
  res.setHeader('content-security-policy', componentCsp(ctx, nonce, { scripts: true }));
  res.setHeader('cache-control', 'no-store');
  res.type('html').send(renderApiStudio(ctx.addon.name, viewer.workspaceId, allowWrites, nonce, scriptJson(data)));
}

export function renderApiStudio(
  addonName: string,
  workspaceId: string,
  allowWrites: boolean,
  nonce: string,
  dataJson: string,
): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API Studio · ${escape(addonName)}</title>
<style nonce="${escape(nonce)}">
  body { font: 13px/1.45 system-ui, sans-serif; margin: 12px; color: #1f2933; }
  h1 { font-size: 16px; margin: 0 0 2px; }
  h2 { font-size: 14px; margin: 0 0 4px; word-break: break-all; }
  .sub, .hint { color: #52606d; margin: 0 0 10px; }
  .method { display: inline-block; min-width: 48px; font-weight: 600; }
  .GET { color: #0b7a3e; } .POST { color: #a15c00; } .PUT, .PATCH { color: #2754c5; } .DELETE { color: #b42318; }
  input, select, textarea { font: inherit; box-sizing: border-box; width: 100%; padding: 3px 5px; }
  textarea { min-height: 90px; font-family: ui-monospace, monospace; }
  details { margin: 2px 0; } summary { cursor: pointer; font-weight: 600; }
  ul { list-style: none; margin: 2px 0 6px; padding: 0 0 0 6px; }
  li button { all: unset; cursor: pointer; display: block; padding: 1px 2px; }
  li button:hover, li button:focus { background: #eef2f7; }
  .hidden { display: none; }
  #ops { max-height: 45vh; overflow: auto; border-bottom: 1px solid #d9e2ec; padding-bottom: 6px; margin-bottom: 8px; }
  label { display: block; margin: 6px 0 2px; }
  .req { color: #b42318; }
  .desc { color: #52606d; font-size: 12px; }
  .actions { margin: 8px 0; }
  .actions button { font: inherit; padding: 4px 12px; cursor: pointer; }
  .note { background: #fff8e1; border: 1px solid #f0d58c; padding: 6px; margin: 6px 0; }
  .error { background: #fdecea; border: 1px solid #f5b5ae; padding: 6px; margin: 6px 0; }
  pre { background: #f5f7fa; border: 1px solid #d9e2ec; padding: 6px; overflow: auto; max-height: 50vh; white-space: pre-wrap; word-break: break-all; }
</style>
</head>
<body>
<h1>API Studio</h1>
<p class="sub">Clockify's API for workspace <code>${escape(workspaceId)}</code>, run with your own
permissions. ${allowWrites ? 'Writes are allowed; each one asks for a confirmation.' : 'Reads only (an admin can allow writes in the add-on’s settings).'}</p>
<input id="filter" type="search" placeholder="Filter operations (name, path, tag)" aria-label="Filter operations">
<nav id="ops" aria-label="Operations"></nav>
<main id="detail"><p class="hint">Pick an operation.</p></main>
<p id="session" class="note hidden" role="status"></p>
<script type="application/json" id="api-studio-data" nonce="${escape(nonce)}">${dataJson}</script>
<script src="${API_STUDIO_SCRIPT_PATH}" nonce="${escape(nonce)}"></script>
</body>
</html>`;
}

/**
 * `POST /ui/api-studio/call`: one call with the viewer's own token. The token comes in the
 * `X-Addon-Token` header (never the URL of a request the page makes), is verified as a user token
 * of an admin of an installed workspace, and names the workspace: there is no other way to say
 * which. Writes need the installation's API Studio setting and `confirmWrite: true`.
 */
export async function apiStudioCall(ctx: IngressContext, req: Request, res: Response): Promise<void> {
  const token = req.headers['x-addon-token'];
  if (typeof token !== 'string' || token === '') {
    throw new HttpError(401, 'missing_token', 'the X-Addon-Token header is missing');
  }
  const viewer = await verifyViewer(ctx, token);
  const installation = await viewerInstallation(ctx, viewer, true);
  if (!viewer.backendUrl) throw new HttpError(401, 'missing_claim', 'the user token carries no backendUrl');
  const input = parseCallBody(req.body);
  const confirmWrite = isRecord(req.body) && req.body.confirmWrite === true;
  const allowWrites = writesAllowed(ctx, installation.settings);
  let write = false;
  try {
    write = !isReadOnly(resolveOperation(input.operation));
  } catch (err) {
    if (!(err instanceof CallValidationError)) throw err;
  }
  if (write && allowWrites && !confirmWrite) {
    throw new HttpError(409, 'confirmation_required', `${input.operation} changes the workspace: confirm it first`);
  }
  try {
    res.json(
      await callClockify(apiCallDeps(ctx), {
        ...input,
        allowWrite: allowWrites && confirmWrite,
        workspaceId: viewer.workspaceId,
        actor: { kind: 'user', id: viewer.userId ?? 'unknown user' },
        userToken: {
          token,
          baseUrl: viewer.backendUrl,
          ...(viewer.reportsUrl ? { reportsUrl: viewer.reportsUrl } : {}),
        },
      }),
    );
  } catch (err) {
    if (err instanceof ApiCallError && err.code === 'write_not_allowed') {
      throw new HttpError(
        403,
        'write_not_allowed',
        'writes are off for this workspace: an admin can turn on "Allow API Studio writes" in the add-on\'s settings',
        {},
        err.auditId ? { auditId: err.auditId } : undefined,
      );
    }
    apiCallFailure(err);
  }
}
