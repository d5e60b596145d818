import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { ClockifyApiError, flattenSettingsDocument } from '@cap/clockify';
import { getInstallation, storeLoadedSettings } from '@cap/db';
import { JOBS, parsePayload } from '@cap/queue';
import {
  InstallationUnusableError,
  createInstallationClient,
  rateLimitWaitMs,
  retryEarlyUnauthorized,
} from '../clockify.js';
import type { WorkerDeps } from '../deps.js';

/**
 * After INSTALLED: reads the installation's settings from Clockify, which stored the manifest's
 * defaults at install (and the installer's user id in USER_DROPDOWN settings), so handlers see
 * them before anyone edits the settings. Stored only if nothing newer arrived meanwhile (a
 * reinstall, a SETTINGS_UPDATED). Until it has run, handlers see the manifest's defaults.
 */
export async function processLoadSettings(deps: WorkerDeps, job: Job, token: string | undefined): Promise<string> {
  const p = parsePayload(JOBS.lifecycleLoadSettings, job.data);
  const key = { workspaceId: p.workspaceId, addonId: p.addonId };
  const log = deps.logger.child({ ...key, seq: p.seq, jobId: job.id });
  const installation = await getInstallation(deps.db, key);
  if (!installation || installation.last_seq !== p.seq || installation.status === 'DELETED') {
    log.info('installation changed since INSTALLED; its settings are loaded by the newer event');
    return 'stale';
  }
  let document: unknown;
  try {
    const api = createInstallationClient(deps, installation);
    document = (await api.addonRequest('GET /addon/workspaces/{workspaceId}/settings')).data;
  } catch (err) {
    const waitMs = rateLimitWaitMs(err);
    if (waitMs !== undefined) {
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError();
    }
    await retryEarlyUnauthorized(deps, installation, err, job, token, log);
    if (err instanceof InstallationUnusableError || (err instanceof ClockifyApiError && !err.retryable)) {
      throw new UnrecoverableError(`the settings could not be read: ${(err as Error).message}`);
    }
    throw err;
  }
  const settings = flattenSettingsDocument(document);
  const stored = await storeLoadedSettings(deps.db, {
    ...key,
    lastSeq: p.seq,
    settingsSeq: installation.settings_seq,
    settings,
  });
  if (!stored) {
    log.info('settings changed while they were read (SETTINGS_UPDATED or a reinstall); the newer ones stay');
    return 'stale';
  }
  deps.installations.invalidate(key);
  log.info({ settings: settings.length }, 'installation settings loaded from Clockify');
  return 'loaded';
}
