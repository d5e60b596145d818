import type { Job } from 'bullmq';
import {
  deleteApiCallsBefore,
  deleteDeadLettersBefore,
  deleteFinishedBootstrapRunsBefore,
  deleteLifecycleReceiptsBefore,
  dropWebhookEventPartitionsBefore,
  ensureWebhookEventPartitions,
  installationsDueForPurge,
  listInstallations,
  purgeInstallation,
} from '@cap/db';
import { JOBS, enqueue, parsePayload } from '@cap/queue';
import type { WorkerDeps } from '../deps.js';
import { installationOffsetMs } from '../runtime/spread.js';
import { failStrandedRuns } from '../bootstrap/runs.js';

const DAY_MS = 86_400_000;
/** Partitions kept ready ahead of time, so inserts rarely create one. */
const PARTITIONS_AHEAD_DAYS = 7;

export interface RetentionReport {
  readonly partitionsCreated: string[];
  readonly partitionsDropped: { name: string; rows: number }[];
  readonly installationsPurged: { workspaceId: string; addonId: string; entities: number; webhookEvents: number }[];
  readonly deadLettersDeleted: number;
  readonly bootstrapRunsDeleted: number;
  readonly lifecycleReceiptsDeleted: number;
  readonly apiCallsDeleted: number;
  /** Active bootstrap runs ended because no job of theirs was left in the queue. */
  readonly strandedRunsEnded: string[];
}

/**
 * Retention: drops `webhook_events` day partitions older than WEBHOOK_EVENT_RETENTION_DAYS,
 * creates the coming days' partitions, drops old dead letters, finished bootstrap runs and
 * recorded API calls, ends
 * active bootstrap runs left without a job (see failStrandedRuns), and purges uninstalled
 * workspaces whose date passed (only if still deleted). Logs the counts.
 */
export async function runRetention(deps: WorkerDeps): Promise<RetentionReport> {
  const now = deps.now();
  const created = await ensureWebhookEventPartitions(
    deps.db,
    new Date(now.getTime() - DAY_MS),
    PARTITIONS_AHEAD_DAYS + 1,
  );
  const cutoff = new Date(now.getTime() - deps.config.WEBHOOK_EVENT_RETENTION_DAYS * DAY_MS);
  const dropped = await dropWebhookEventPartitionsBefore(deps.db, cutoff);
  const deadLettersDeleted = await deleteDeadLettersBefore(
    deps.db,
    new Date(now.getTime() - deps.config.DEAD_LETTER_RETENTION_DAYS * DAY_MS),
  );
  const bootstrapRunsDeleted = await deleteFinishedBootstrapRunsBefore(
    deps.db,
    new Date(now.getTime() - deps.config.BOOTSTRAP_RUN_RETENTION_DAYS * DAY_MS),
  );
  const lifecycleReceiptsDeleted = await deleteLifecycleReceiptsBefore(
    deps.db,
    new Date(now.getTime() - deps.config.LIFECYCLE_RECEIPT_RETENTION_DAYS * DAY_MS),
  );
  const apiCallsDeleted = await deleteApiCallsBefore(
    deps.db,
    new Date(now.getTime() - deps.config.API_CALL_AUDIT_RETENTION_DAYS * DAY_MS),
  );
  const strandedRunsEnded = await failStrandedRuns(deps);
  const purged: RetentionReport['installationsPurged'] = [];
  for (;;) {
    const due = await installationsDueForPurge(deps.db, now, 50);
    if (due.length === 0) break;
    for (const inst of due) {
      const key = { workspaceId: inst.workspace_id, addonId: inst.addon_id };
      const counts = await deps.db.transaction().execute((tx) => purgeInstallation(tx, key, now));
      if (counts) purged.push({ ...key, entities: counts.entities, webhookEvents: counts.webhookEvents });
    }
  }
  deps.logger.info(
    {
      partitionsDropped: dropped.length,
      webhookEventsDropped: dropped.reduce((n, d) => n + d.rows, 0),
      installationsPurged: purged.length,
      deadLettersDeleted,
      bootstrapRunsDeleted,
      lifecycleReceiptsDeleted,
      apiCallsDeleted,
      strandedRunsEnded: strandedRunsEnded.length,
      cutoff,
    },
    'retention done',
  );
  return {
    partitionsCreated: created,
    partitionsDropped: dropped,
    installationsPurged: purged,
    deadLettersDeleted,
    bootstrapRunsDeleted,
    lifecycleReceiptsDeleted,
    apiCallsDeleted,
    strandedRunsEnded,
  };
}

/** Purges one uninstalled workspace when its scheduled date comes (no-op if reinstalled). */
export async function runPurge(deps: WorkerDeps, job: Job): Promise<string> {
  const p = parsePayload(JOBS.purgeInstallation, job.data);
  const key = { workspaceId: p.workspaceId, addonId: p.addonId };
  const counts = await deps.db.transaction().execute((tx) => purgeInstallation(tx, key, deps.now()));
  if (!counts) {
    deps.logger.info(key, 'purge skipped: the installation is active again or its date has not come');
    return 'skipped';
  }
  deps.logger.info({ ...key, ...counts }, 'uninstalled workspace purged');
  return 'purged';
}

/**
 * Reconciliation: a bootstrap of every ACTIVE workspace heals what webhooks missed. The bootstraps
 * are spread over RECONCILE_SPREAD_HOURS after the run, each workspace at the same offset every day
 * (a hash of its ids), so they do not all hit Clockify's API and Postgres at the same minute. One
 * job id per installation and day: a second run the same day requests nothing new.
 */
export async function runReconcile(deps: WorkerDeps): Promise<number> {
  const now = deps.now();
  const day = now.toISOString().slice(0, 10);
  const spreadMs = deps.config.RECONCILE_SPREAD_HOURS * 3_600_000;
  let offset = 0;
  let requested = 0;
  for (;;) {
    const batch = await listInstallations(deps.db, { status: 'ACTIVE', limit: 500, offset });
    if (batch.length === 0) break;
    for (const inst of batch) {
      const key = { workspaceId: inst.workspace_id, addonId: inst.addon_id };
      await enqueue(
        deps.queues,
        JOBS.bootstrapStart,
        { v: 1, ...key, trigger: 'reconcile' },
        { jobId: `reconcile-${key.workspaceId}-${key.addonId}-${day}`, delay: installationOffsetMs(key, spreadMs) },
      );
      requested++;
    }
    offset += batch.length;
  }
  deps.logger.info(
    { workspaces: requested, spreadHours: deps.config.RECONCILE_SPREAD_HOURS },
    'reconciliation requested a bootstrap per active workspace, spread over the period',
  );
  return requested;
}
