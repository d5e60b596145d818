import { ClockifyClient } from '@cap/clockify';
import type { Installation } from '@cap/db';
import type { WorkerDeps } from './deps.js';

export class InstallationUnusableError extends Error {
  override name = 'InstallationUnusableError';
}

/**
 * A Clockify client bound to an installation: base URL from the installation (`apiUrl`, else the
 * token's `backendUrl`; never a constant), its decrypted token (in memory only), the shared
 * per-workspace limiter and the retry policy.
 */
export function createInstallationClient(
  deps: WorkerDeps,
  installation: Installation,
  opts: { maxLimiterWaitMs?: number } = {},
): ClockifyClient {
  const baseUrl = installation.api_url ?? installation.backend_url;
  if (!baseUrl)
    throw new InstallationUnusableError(`installation of workspace ${installation.workspace_id} has no API URL`);
  if (!installation.auth_token_enc) {
    throw new InstallationUnusableError(
      `installation of workspace ${installation.workspace_id} has no token (uninstalled)`,
    );
  }
  return new ClockifyClient({
    baseUrl,
    ...(installation.reports_url ? { reportsUrl: installation.reports_url } : {}),
    token: deps.keyring.decrypt(installation.auth_token_enc),
    workspaceId: installation.workspace_id,
    allowedHosts: deps.config.CLOCKIFY_API_ALLOWED_HOSTS,
    limiter: deps.limiter,
    maxLimiterWaitMs: opts.maxLimiterWaitMs ?? deps.config.BOOTSTRAP_LIMITER_MAX_WAIT_MS,
    timeoutMs: deps.config.CLOCKIFY_API_TIMEOUT_MS,
    maxRetries: deps.config.CLOCKIFY_API_MAX_RETRIES,
    logger: deps.logger,
    metrics: deps.metrics,
  });
}
