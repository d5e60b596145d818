import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  applyDeleted,
  applyInstalled,
  applySettingsUpdated,
  applyStatusChanged,
  cancelActiveBootstrapRuns,
  markLifecycleFollowupsDone,
  recordLifecycleReceipt,
  setLifecycleReceiptOutcome,
  storedTokenHashes,
  type AspectResult,
  type Database,
  type StoredTokenHashes,
  type Transaction,
} from '@cap/db';
import type { Logger } from '@cap/observability';
import { JOBS, enqueue, parsePayload, syncStoredTokens, type JobName, type LifecyclePayload } from '@cap/queue';
import type { WorkerDeps } from '../deps.js';

const DAY_MS = 86_400_000;

/** The BullMQ job id of an installation's pending purge (one per installation). */
export function purgeJobId(workspaceId: string, addonId: string): string {
  return `purge-${workspaceId}-${addonId}`;
}

class NotInstalledYet extends Error {}

/**
 * - `decided`: applied or found stale now, in this transaction;
 * - `followups`: this very call (same sequence) was applied by an earlier attempt that failed or
 *   died before its follow-ups were done: do them now, once;
 * - `replay` / `wrong_kind`: ignored, refused.
 */
type Decided<T> =
  { readonly outcome: 'replay' | 'wrong_kind' | 'followups' } | { readonly outcome: 'decided'; readonly result: T };

/**
 * Runs `apply` in one transaction behind the two checks every lifecycle call passes first:
 * - its token is not one the installation stores as a webhook or installation token (a token of
 *   one kind never serves as another; the ingress refuses the same from Redis, this is the
 *   authority);
 * - the same call (token, type, body) was not decided before: a replay is ignored, however late
 *   it comes and whatever was applied meanwhile. The receipt commits with the decision.
 * `previous` are the token hashes the installation stored before this call, for the registry.
 */
async function decideOnce<T>(
  deps: WorkerDeps,
  payload: LifecyclePayload,
  apply: (tx: Transaction<Database>) => Promise<T>,
  outcomeOf: (result: T) => string,
): Promise<{ decided: Decided<T>; previous: StoredTokenHashes }> {
  const key = { workspaceId: payload.workspaceId, addonId: payload.addonId };
  return deps.db.transaction().execute(async (tx) => {
    const previous = await storedTokenHashes(tx, key);
    const hash = payload.tokenHash;
    if (hash !== undefined && hashesOf(previous).includes(hash)) {
      return { decided: { outcome: 'wrong_kind' as const }, previous };
    }
    if (payload.receipt !== undefined) {
      const seen = await recordLifecycleReceipt(tx, {
        ...key,
        receipt: payload.receipt,
        type: payload.type,
        seq: payload.seq,
        outcome: 'pending',
      });
      if (seen) {
        const retried = seen.seq === payload.seq && seen.outcome === 'applied' && seen.followups_done_at === null;
        return { decided: { outcome: retried ? ('followups' as const) : ('replay' as const) }, previous };
      }
    }
    const result = await apply(tx);
    if (payload.receipt !== undefined) await setLifecycleReceiptOutcome(tx, payload.receipt, outcomeOf(result));
    return { decided: { outcome: 'decided' as const, result }, previous };
  });
}

/**
 * Applies one lifecycle event with compare-and-set on the ingress's per-workspace sequence, so a
 * late, retried or reordered event never undoes a newer one, and a replayed call never applies.
 */
export async function processLifecycle(deps: WorkerDeps, job: Job, token: string | undefined): Promise<string> {
  const payload = parsePayload(job.name as JobName, job.data) as LifecyclePayload;
  const { workspaceId, addonId, seq } = payload;
  const log = deps.logger.child({ workspaceId, addonId, seq, lifecycle: payload.type, jobId: job.id });
  const refused = deps.metrics.counter(
    'lifecycle_events_refused_total',
    'Lifecycle jobs a worker refused or ignored, by reason (unverified, wrong_kind, replay).',
    ['reason'],
  );

  if (!payload.verified && deps.config.REQUIRE_SIGNATURE_VERIFICATION) {
    // An ingress running with REQUIRE_SIGNATURE_VERIFICATION=false queued it; this worker does not
    // accept tokens nobody checked. Not retried: no later attempt can verify it.
    refused.inc({ reason: 'unverified' });
    log.error(
      'lifecycle job carries a token whose signature was not verified; refused (this worker requires verified tokens: REQUIRE_SIGNATURE_VERIFICATION)',
    );
    return 'refused';
  }
  const ignored = (decided: { outcome: 'replay' | 'wrong_kind' | 'followups' }): string => {
    if (decided.outcome === 'followups') {
      // An event without follow-ups, applied by an earlier attempt of this job.
      log.info('already applied by an earlier attempt of this job');
      return 'applied';
    }
    refused.inc({ reason: decided.outcome });
    if (decided.outcome === 'replay')
      log.warn('this lifecycle call (same token and body) was decided before; replay ignored');
    else log.warn('lifecycle call signed with a token this installation stores as another kind; refused');
    return decided.outcome;
  };

  switch (payload.type) {
    case 'INSTALLED': {
      const body = payload.body;
      const webhooks = body.webhooks.flatMap((w) =>
        w.event ? [{ event: w.event, path: w.path, tokenEnc: w.authTokenEnc, tokenHash: w.tokenHash }] : [],
      );
      const { decided, previous } = await decideOnce(
        deps,
        payload,
        (tx) =>
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
            authTokenHash: body.authTokenHash ?? null,
            webhooks,
            skippedWebhooks: body.skippedWebhooks ?? [],
          }),
        (applied) => (applied ? 'applied' : 'stale'),
      );
      if (decided.outcome === 'followups') {
        log.info('INSTALLED was applied by an earlier attempt whose follow-ups did not finish; doing them now');
      } else if (decided.outcome !== 'decided') {
        return ignored(decided);
      } else if (!decided.result) {
        log.info('INSTALLED is older than the installation state; ignored');
        return 'stale';
      }
      await syncTokenRegistry(deps, log, {
        stored: [
          ...(body.authTokenHash ? [{ tokenHash: body.authTokenHash, kind: 'installation' as const }] : []),
          ...webhooks.map((w) => ({ tokenHash: w.tokenHash, kind: 'webhook' as const })),
        ],
        removed: hashesOf(previous),
      });
      // A reinstall cancels the purge scheduled by the previous uninstall.
      await deps.queues.maintenance.remove(purgeJobId(workspaceId, addonId)).catch(() => 0);
      log.info(
        { webhooks: webhooks.length, skippedWebhooks: body.skippedWebhooks?.length ?? 0 },
        'installation stored',
      );
      // Clockify stored the manifest's setting defaults at install: read them (see load-settings).
      await enqueue(
        deps.queues,
        JOBS.lifecycleLoadSettings,
        { v: 1, workspaceId, addonId, seq },
        { jobId: `settings-${workspaceId}-${addonId}-${seq}` },
      );
      if (deps.config.AUTO_BOOTSTRAP) {
        // One id per INSTALLED: a retry of its follow-ups does not start a second bootstrap.
        await enqueue(
          deps.queues,
          JOBS.bootstrapStart,
          { v: 1, workspaceId, addonId, trigger: 'install' },
          { jobId: `install-${workspaceId}-${addonId}-${seq}` },
        );
      }
      await followupsDone(deps, payload);
      return 'applied';
    }
    case 'DELETED': {
      const purgeAfter = new Date(deps.now().getTime() + deps.config.DATA_RETENTION_DAYS_AFTER_UNINSTALL * DAY_MS);
      const { decided, previous } = await decideOnce(
        deps,
        payload,
        async (tx) => {
          const applied = await applyDeleted(tx, { workspaceId, addonId, seq, purgeAfter });
          const cancelled = applied
            ? await cancelActiveBootstrapRuns(tx, { workspaceId, addonId }, 'cancelled: the add-on was uninstalled')
            : 0;
          return { applied, cancelled };
        },
        (r) => (r.applied ? 'applied' : 'stale'),
      );
      let cancelled = 0;
      if (decided.outcome === 'followups') {
        log.info('DELETED was applied by an earlier attempt whose follow-ups did not finish; doing them now');
      } else if (decided.outcome !== 'decided') {
        return ignored(decided);
      } else if (!decided.result.applied) {
        log.info('DELETED is older than the installation state; ignored');
        return 'stale';
      } else {
        cancelled = decided.result.cancelled;
      }
      await syncTokenRegistry(deps, log, {
        stored: [],
        removed: hashesOf(previous),
      });
      await deps.queues.maintenance.remove(purgeJobId(workspaceId, addonId)).catch(() => 0);
      await enqueue(
        deps.queues,
        JOBS.purgeInstallation,
        { v: 1, workspaceId, addonId, seq },
        { jobId: purgeJobId(workspaceId, addonId), delay: Math.max(0, purgeAfter.getTime() - Date.now()) },
      );
      await followupsDone(deps, payload);
      log.info({ purgeAfter, cancelledBootstraps: cancelled }, 'installation deleted; tokens erased, purge scheduled');
      return 'applied';
    }
    case 'STATUS_CHANGED':
    case 'SETTINGS_UPDATED': {
      let decided: Decided<AspectResult>;
      try {
        ({ decided } = await decideOnce(
          deps,
          payload,
          async (tx) => {
            const outcome =
              payload.type === 'STATUS_CHANGED'
                ? await applyStatusChanged(tx, { workspaceId, addonId, seq, status: payload.body.status })
                : await applySettingsUpdated(tx, { workspaceId, addonId, seq, settings: payload.body.settings });
            // Rolled back, receipt included: the event is decided only once its installation exists.
            if (outcome === 'not_installed') throw new NotInstalledYet();
            return outcome;
          },
          (outcome) => outcome,
        ));
      } catch (err) {
        if (!(err instanceof NotInstalledYet)) throw err;
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
      if (decided.outcome !== 'decided') return ignored(decided);
      const outcome = decided.result;
      log.info({ outcome }, outcome === 'applied' ? `${payload.type} applied` : `${payload.type} is stale; ignored`);
      return outcome;
    }
  }
}

/** Every token hash an installation stores (its installation token's, then its webhook tokens'). */
function hashesOf(stored: StoredTokenHashes): string[] {
  return [...(stored.installation ? [stored.installation] : []), ...stored.webhooks];
}

/** Marks the call's follow-ups done, so a later retry of the same job does not redo them. */
async function followupsDone(deps: WorkerDeps, payload: LifecyclePayload): Promise<void> {
  if (payload.receipt !== undefined) await markLifecycleFollowupsDone(deps.db, payload.receipt);
}

/**
 * Tells the ingress which token hashes this installation now stores (see stored-tokens.ts in
 * @cap/queue). After the commit, best effort: a failure only leaves the refusal to this worker.
 */
async function syncTokenRegistry(
  deps: WorkerDeps,
  log: Logger,
  change: Parameters<typeof syncStoredTokens>[2],
): Promise<void> {
  await syncStoredTokens(deps.redis, deps.config.BULLMQ_PREFIX, change).catch((err: unknown) =>
    log.warn(
      { err: { message: (err as Error).message } },
      'could not update the stored-token registry in Redis; workers still refuse such tokens',
    ),
  );
}
