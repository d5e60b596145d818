import { DelayedError, type Job } from 'bullmq';
import { ClockifyClient, ClockifyPermissionError, RateLimitDeferredError, RateLimitedError } from '@cap/clockify';
import type { Logger } from '@cap/observability';
import { installationTokenOf } from '@cap/secrets';
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
    token: installationTokenOf(deps.keyring, { ...installation, auth_token_enc: installation.auth_token_enc }),
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

/**
 * Right after an install, Clockify may answer 401 for a token it has only just issued (seen as a
 * delay between the INSTALLED call and the token being usable). Within
 * CLOCKIFY_EARLY_401_WINDOW_MS of the install, a 401 is retried with backoff up to
 * CLOCKIFY_EARLY_401_RETRIES times (counted in the job's data as `early401`) instead of failing
 * for good: the job is re-scheduled and this throws DelayedError. Returns when the error is to
 * be handled as usual.
 */
export async function retryEarlyUnauthorized(
  deps: WorkerDeps,
  installation: Installation,
  err: unknown,
  job: Job,
  token: string | undefined,
  log: Logger,
): Promise<void> {
  if (!(err instanceof ClockifyPermissionError) || err.status !== 401) return;
  const sinceInstall = deps.now().getTime() - new Date(installation.installed_at).getTime();
  if (sinceInstall > deps.config.CLOCKIFY_EARLY_401_WINDOW_MS) return;
  const done = Number((job.data as { early401?: unknown }).early401 ?? 0);
  if (!Number.isInteger(done) || done >= deps.config.CLOCKIFY_EARLY_401_RETRIES) return;
  const delayMs = deps.config.CLOCKIFY_EARLY_401_BACKOFF_MS * 2 ** done;
  // A token Clockify issued moments ago may not be usable yet: not a missing scope (yet).
  log.info({ delayMs }, 'Clockify answered 401 right after install; trying again shortly');
  await job.updateData({ ...job.data, early401: done + 1 });
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

/** How long Clockify's rate limit asks to wait, for a rate-limit error; undefined otherwise. */
export function rateLimitWaitMs(err: unknown): number | undefined {
  if (err instanceof RateLimitDeferredError) return err.retryInMs;
  if (err instanceof RateLimitedError) return err.retryAfterMs;
  return undefined;
}
