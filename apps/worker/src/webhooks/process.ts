import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  handlerFor,
  invokeHandler,
  PendingMirrorWrites,
  refusedMirrorWrites,
  settingsView,
  type HandlerInvocation,
} from '@cap/addon';
import {
  ENTITY_EVENTS,
  bodyKindOf,
  entityIdOf,
  isWebhookEventName,
  type ClockifyClient,
  type WebhookEventName,
} from '@cap/clockify';
import {
  claimDelivery,
  claimFirstDelivery,
  completeDelivery,
  ensureWebhookEventPartition,
  processedInPreviousWindow,
  recordDeliveryFailure,
  recordDeliveryOutcome,
  type DeliveryRef,
  type FirstClaimInput,
  type WebhookTokenCheck,
} from '@cap/db';
import { inSpan, type Logger } from '@cap/observability';
import { JOBS, parsePayload } from '@cap/queue';
import { createInstallationClient } from '../clockify.js';
import type { WorkerDeps } from '../deps.js';

export type WebhookOutcome = 'done' | 'duplicate' | 'skipped' | 'ignored' | 'orphaned';

/** Lookups of the installation per job: the cached one, then fresh ones if it changed meanwhile. */
const MAX_LOOKUPS = 3;

/** Seconds, from a delivery applied at once to one that waited out a long backlog. */
const END_TO_END_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Steps 5–6 of the webhook flow: installation lookup, token check, then the handler and the
 * delivery's status change in one transaction. A retry or replay of an unfinished delivery runs
 * the handler again; a finished one never.
 *
 * The installation comes from a per-process cache (see InstallationCache) and is re-checked by
 * the claim inside the transaction. Deliveries that wait at the same moment share that
 * transaction (DeliveryGroups): under load the common case costs a share of one BEGIN, one claim,
 * one statement for the handlers' mirror writes (PendingMirrorWrites) and one COMMIT.
 */
export async function processWebhook(deps: WorkerDeps, job: Job, token: string | undefined): Promise<WebhookOutcome> {
  const p = parsePayload(JOBS.webhookProcess, job.data);
  const counter = deps.metrics.counter('webhook_events_processed_total', 'Webhook deliveries processed by the worker', [
    'event',
    'status',
  ]);
  const endToEnd = deps.metrics.histogram(
    'webhook_end_to_end_seconds',
    'From the ingress accepting a webhook to its delivery committed by a worker',
    ['event'],
    END_TO_END_BUCKETS,
  );
  // Built on first use: most deliveries log nothing, and a child logger is not free.
  let childLog: Logger | undefined;
  const log = (): Logger =>
    (childLog ??= deps.logger.child({
      event: p.event,
      workspaceId: p.workspaceId,
      deliveryKey: p.deliveryKey.slice(0, 16),
      jobId: job.id,
    }));

  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(p.body);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    body = parsed as Record<string, unknown>;
  } catch (err) {
    // The ingress validated the body; a bad one here cannot get better by retrying.
    throw new UnrecoverableError(`webhook body is not a JSON object: ${(err as Error).message}`);
  }
  if (!isWebhookEventName(p.event)) throw new UnrecoverableError(`unknown webhook event ${p.event}`);
  const event: WebhookEventName = p.event;

  const ref: DeliveryRef = {
    deliveryKey: p.deliveryKey,
    windowStart: new Date(p.windowStart),
    workspaceId: p.workspaceId,
    addonId: p.addonId ?? null,
    event,
    receivedAt: new Date(p.receivedAt),
    entityId: entityIdOf(event, body) ?? null,
    jobId: job.id ?? null,
  };
  const finish = (status: WebhookOutcome): WebhookOutcome => {
    counter.inc({ event, status });
    // Received by the ingress → committed here: what a delivery's lateness looks like end to end.
    if (status === 'done') endToEnd.observe({ event }, Math.max(0, Date.now() - p.receivedAt) / 1000);
    return status;
  };
  await ensureWebhookEventPartition(deps.db, ref.windowStart);

  /** One pass with the installation as cached (or read now, when `fresh`); 'stale' asks for a fresh pass. */
  const attempt = async (fresh: boolean): Promise<WebhookOutcome | 'stale'> => {
    const addonId = p.addonId;
    const found = addonId
      ? await deps.installations.get(deps.db, { workspaceId: p.workspaceId, addonId }, fresh)
      : undefined;

    if (!found) {
      // Not installed yet: Clockify may deliver a webhook before the INSTALLED job is applied.
      // Wait without spending attempts, up to a cap, then record the delivery as orphaned.
      if (Date.now() - p.receivedAt < deps.config.WEBHOOK_ORPHAN_AFTER_MS) {
        log().debug('installation not known yet; checking again later');
        await job.moveToDelayed(Date.now() + deps.config.WEBHOOK_INSTALL_WAIT_MS, token);
        throw new DelayedError();
      }
      await recordDeliveryOutcome(deps.db, ref, 'orphaned', {
        reason: 'no installation for this workspace and add-on',
      });
      log().warn('no installation appeared in time; delivery recorded as orphaned');
      return finish('orphaned');
    }
    // The cache holds ACTIVE installations only: these two outcomes are decided on fresh data.
    const { installation } = found;
    if (installation.status === 'DELETED') {
      await recordDeliveryOutcome(deps.db, ref, 'ignored', { reason: 'the add-on is uninstalled in this workspace' });
      return finish('ignored');
    }
    if (installation.status === 'INACTIVE') {
      await recordDeliveryOutcome(deps.db, ref, 'skipped', { reason: 'the add-on is inactive in this workspace' });
      return finish('skipped');
    }

    if (!p.verified && deps.config.REQUIRE_SIGNATURE_VERIFICATION) {
      // Queued by an ingress that skips signature checks; this worker accepts no token nobody checked.
      await recordDeliveryOutcome(deps.db, ref, 'ignored', {
        tokenCheck: 'unverified',
        reason: 'the token was not verified and this worker requires verified tokens',
      });
      log().error('webhook job carries a token whose signature was not verified; refused');
      return finish('ignored');
    }
    if (installation.auth_token_hash !== null && installation.auth_token_hash === p.tokenHash) {
      // The installation token has the claims of a webhook token and more: only its hash tells.
      await recordDeliveryOutcome(deps.db, ref, 'ignored', {
        tokenCheck: 'mismatch',
        reason: 'signed with the installation token, which is not a webhook token',
      });
      log().warn('webhook signed with the installation token; ignored');
      return finish('ignored');
    }
    const storedHash = found.tokenHashes.get(event);
    let tokenCheck: WebhookTokenCheck;
    if (storedHash === undefined) {
      // Subscribed in a later add-on version than the one installed: accepted on the JWT alone.
      tokenCheck = p.verified ? 'no_stored_token' : 'unverified';
    } else if (storedHash === p.tokenHash) {
      tokenCheck = p.verified ? 'matched' : 'unverified';
    } else {
      // A reinstall may have replaced the tokens since they were cached: refuse only on fresh data.
      if (found.cached) return 'stale';
      await recordDeliveryOutcome(deps.db, ref, 'ignored', {
        tokenCheck: 'mismatch',
        reason: 'the signature token is not the one stored for this webhook',
      });
      log().warn('webhook token does not match the stored token for this event; ignored');
      return finish('ignored');
    }

    const handler = handlerFor(deps.addon, event);
    if (!handler) {
      if (await processedInPreviousWindow(deps.db, ref, p.windowSeconds)) return finish('duplicate');
      await recordDeliveryOutcome(deps.db, ref, 'ignored', { tokenCheck, reason: 'no handler for this event' });
      return finish('ignored');
    }

    const settings = settingsView(installation.settings, deps.addon.settings);
    const entityType = ENTITY_EVENTS[event]?.entityType;
    let api: ClockifyClient | undefined;
    const invocation: HandlerInvocation = {
      handler,
      event,
      body,
      workspaceId: p.workspaceId,
      addonId: installation.addon_id,
      bodyKind: bodyKindOf(event),
      deliveryKey: p.deliveryKey,
      attempt: job.attemptsMade + 1,
      receivedAt: ref.receivedAt,
      settings,
      // One client for the delivery, whichever transaction attempt first needs it.
      api: () => (api ??= createInstallationClient(deps, installation)),
      logger: log,
      ...(entityType && ref.entityId && p.entitySeq !== undefined
        ? { entity: { entityType, entityId: ref.entityId, seq: p.entitySeq } }
        : {}),
    };
    const claim: FirstClaimInput = {
      ref,
      addonId: installation.addon_id,
      version: found.version,
      tokenCheck,
      windowSeconds: p.windowSeconds,
    };
    try {
      // The common case commits with the deliveries waiting at the same moment (group commit);
      // anything else (a retry, a replay, a duplicate, a stale installation) decides alone.
      if (deps.deliveryGroups && (await deps.deliveryGroups.commit({ claim, invocation })) === 'done') {
        return finish('done');
      }
      const outcome = await inSpan('commit webhook delivery', { attributes: { 'cap.deliveries': 1 } }, () =>
        deps.db.transaction().execute(async (tx) => {
          const first = await claimFirstDelivery(tx, claim);
          if (first === 'stale' || first === 'duplicate') return first;
          if (first === 'exists') {
            // A retry or replay: the row is there, finished or not; claim it under its lock.
            const claimed = await claimDelivery(tx, ref);
            if (!claimed.claimed) return 'duplicate' as const;
          }
          const pending = new PendingMirrorWrites(refusedMirrorWrites(deps.metrics));
          await invokeHandler(tx, pending, invocation);
          await pending.apply(tx);
          if (first === 'exists') await completeDelivery(tx, ref, tokenCheck);
          return 'done' as const;
        }),
      );
      return outcome === 'stale' ? outcome : finish(outcome);
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      await recordDeliveryFailure(deps.db, ref, (err as Error).message ?? String(err)).catch((e: unknown) =>
        log().error({ err: e }, 'could not record the delivery failure'),
      );
      throw err;
    }
  };

  for (let lookup = 0; lookup < MAX_LOOKUPS; lookup++) {
    const outcome = await attempt(lookup > 0);
    if (outcome !== 'stale') return outcome;
    if (p.addonId) deps.installations.invalidate({ workspaceId: p.workspaceId, addonId: p.addonId });
  }
  // The installation changed under every pass (lifecycle events in quick succession): retry later.
  throw new Error('the installation kept changing while the webhook was processed; retrying');
}
