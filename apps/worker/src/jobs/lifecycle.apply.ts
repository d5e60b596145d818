import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  applyDeleted,
  applyInstalled,
  applySettingsUpdated,
  applyStatusChanged,
  cancelActiveBootstrapRuns,
} from '@cap/db';
import { JOBS, enqueue, parsePayload, type JobName, type LifecyclePayload } from '@cap/queue';
import type { WorkerDeps } from '../deps.js';

const DAY_MS = 86_400_000;

/** The BullMQ job id of an installation's pending purge (one per installation). */
export function purgeJobId(workspaceId: string, addonId: string): string {
  return `purge-${workspaceId}-${addonId}`;
}

/**
 * Applies one lifecycle event with compare-and-set on the ingress's per-workspace sequence, so a
 * late, retried or reordered event never undoes a newer one.
 */
export async function processLifecycle(deps: WorkerDeps, job: Job, token: string | undefined): Promise<string> {
  const payload = parsePayload(job.name as JobName, job.data) as LifecyclePayload;
  const { workspaceId, addonId, seq } = payload;
  const log = deps.logger.child({ workspaceId, addonId, seq, lifecycle: payload.type, jobId: job.id });

  switch (payload.type) {
    case 'INSTALLED': {
      const body = payload.body;
      const webhooks = body.webhooks.flatMap((w) =>
        w.event ? [{ event: w.event, path: w.path, tokenEnc: w.authTokenEnc, tokenHash: w.tokenHash }] : [],
      );
      const applied = await deps.db.transaction().execute((tx) =>
        applyInstalled(tx, {
          workspaceId,
          addonId,
          seq,
          apiUrl: body.apiUrl ?? null,
          backendUrl: body.backendUrl ?? null,
          reportsUrl: body.reportsUrl ?? null,
          addonUserId: body.addonUserId ?? null,
          installedBy: body.asUser ?? null,
          authTokenEnc: body.authTokenEnc,
          webhooks,
        }),
      );
      if (!applied) {
        log.info('INSTALLED is older than the installation state; ignored');
        return 'stale';
      }
      // A reinstall cancels the purge scheduled by the previous uninstall.
      await deps.queues.maintenance.remove(purgeJobId(workspaceId, addonId)).catch(() => 0);
      log.info({ webhooks: webhooks.length }, 'installation stored');
      if (deps.config.AUTO_BOOTSTRAP) {
        await enqueue(deps.queues, JOBS.bootstrapStart, { v: 1, workspaceId, addonId, trigger: 'install' });
      }
      return 'applied';
    }
    case 'DELETED': {
      const purgeAfter = new Date(deps.now().getTime() + deps.config.DATA_RETENTION_DAYS_AFTER_UNINSTALL * DAY_MS);
      const result = await deps.db.transaction().execute(async (tx) => {
        const applied = await applyDeleted(tx, { workspaceId, addonId, seq, purgeAfter });
        const cancelled = applied
          ? await cancelActiveBootstrapRuns(tx, { workspaceId, addonId }, 'cancelled: the add-on was uninstalled')
          : 0;
        return { applied, cancelled };
      });
      if (!result.applied) {
        log.info('DELETED is older than the installation state; ignored');
        return 'stale';
      }
      await deps.queues.maintenance.remove(purgeJobId(workspaceId, addonId)).catch(() => 0);
      await enqueue(
        deps.queues,
        JOBS.purgeInstallation,
        { v: 1, workspaceId, addonId, seq },
        { jobId: purgeJobId(workspaceId, addonId), delay: Math.max(0, purgeAfter.getTime() - Date.now()) },
      );
      log.info(
        { purgeAfter, cancelledBootstraps: result.cancelled },
        'installation deleted; tokens erased, purge scheduled',
      );
      return 'applied';
    }
    case 'STATUS_CHANGED':
    case 'SETTINGS_UPDATED': {
      const outcome = await deps.db
        .transaction()
        .execute((tx) =>
          payload.type === 'STATUS_CHANGED'
            ? applyStatusChanged(tx, { workspaceId, addonId, seq, status: payload.body.status })
            : applySettingsUpdated(tx, { workspaceId, addonId, seq, settings: payload.body.settings }),
        );
      if (outcome === 'not_installed') {
        // The INSTALLED this event follows has not been applied yet (reordered or retried).
        if (Date.now() - payload.receivedAt < deps.config.WEBHOOK_ORPHAN_AFTER_MS) {
          await job.moveToDelayed(Date.now() + deps.config.WEBHOOK_INSTALL_WAIT_MS, token);
          throw new DelayedError();
        }
        // Not dropped in silence: the job fails for good, so the event lands in `dead_letters`
        // (and BullMQ's failed set), where an operator can replay it once the workspace is installed.
        log.warn('no installation appeared for this event in time; failing it into the dead letters');
        throw new UnrecoverableError(
          `${payload.type} for workspace ${workspaceId}: no installation appeared within ` +
            `${deps.config.WEBHOOK_ORPHAN_AFTER_MS} ms of its receipt (INSTALLED lost or not applied)`,
        );
      }
      log.info({ outcome }, outcome === 'applied' ? `${payload.type} applied` : `${payload.type} is stale; ignored`);
      return outcome;
    }
  }
}
