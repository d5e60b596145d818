import {
  countInstallationsWithUndeliveredWebhooks,
  installationsDueForWebhookCheck,
  recordWebhookHealth,
  type Installation,
  type UndeliveredWebhook,
  type WebhookHealth,
} from '@cap/db';
import { JOBS, enqueue } from '@cap/queue';
import { createInstallationClient, rateLimitWaitMs } from '../clockify.js';
import type { WorkerDeps } from '../deps.js';
import { installationOffsetMs } from '../runtime/spread.js';

const MINUTE_MS = 60_000;

export interface WebhookHealthReport {
  readonly checked: number;
  /** Installations with a webhook Clockify stopped delivering since the last check. */
  readonly newlyUndelivered: { workspaceId: string; addonId: string; events: string[] }[];
  readonly failed: number;
}

/**
 * Asks Clockify, for the installations due, whether it still delivers their webhooks
 * (`GET /v1/workspaces/{ws}/addons/{addonId}/webhooks`: `deliveryEnabled` goes false after
 * repeated delivery failures, `planEnabled` on a plan that does not allow them). Nothing else
 * notices a webhook Clockify silently stopped sending. A webhook found undelivered is recorded
 * (installation's `webhook_health`: admin API, sidebar), counted in a metric an alert watches,
 * and starts a reconciliation of the workspace, which heals what the missing deliveries lost.
 *
 * Each installation is checked every WEBHOOK_HEALTH_INTERVAL_MINUTES; the next check is put at a
 * point of that interval given by a hash of the installation, so many installations checked in
 * one run (after an upgrade) spread over the interval instead of coming due together again.
 */
export async function runWebhookHealth(deps: WorkerDeps): Promise<WebhookHealthReport> {
  const now = deps.now();
  const intervalMs = deps.config.WEBHOOK_HEALTH_INTERVAL_MINUTES * MINUTE_MS;
  const checks = deps.metrics.counter(
    'webhook_health_checks_total',
    'Checks with Clockify of whether it delivers an installation’s webhooks, by result',
    ['result'],
  );
  const due = await installationsDueForWebhookCheck(
    deps.db,
    new Date(now.getTime() - intervalMs),
    deps.config.WEBHOOK_HEALTH_BATCH,
  );
  let checked = 0;
  let failed = 0;
  const newlyUndelivered: WebhookHealthReport['newlyUndelivered'] = [];
  for (const installation of due) {
    const key = { workspaceId: installation.workspace_id, addonId: installation.addon_id };
    const log = deps.logger.child(key);
    const previous = installation.webhook_health;
    let health: WebhookHealth;
    try {
      health = await checkInstallation(deps, installation, now);
    } catch (err) {
      if (rateLimitWaitMs(err) !== undefined) {
        // The workspace's quota is for its bootstrap and handlers first; try at the next run.
        checks.inc({ result: 'deferred' });
        continue;
      }
      failed++;
      checks.inc({ result: 'error' });
      log.warn({ err: { message: (err as Error).message } }, 'could not check the webhooks with Clockify');
      health = {
        checkedAt: now.toISOString(),
        webhooks: previous?.webhooks ?? 0,
        undelivered: previous?.undelivered ?? [],
        error: (err as Error).message.slice(0, 300),
      };
    }
    // Recorded up to half an interval early, at the installation's own offset: the next checks of
    // installations checked in the same run come due spread over the interval.
    const checkedAt = new Date(now.getTime() - installationOffsetMs(key, intervalMs / 2));
    await recordWebhookHealth(deps.db, key, health, checkedAt);
    if (health.error !== undefined) continue;
    checked++;
    checks.inc({ result: health.undelivered.length > 0 ? 'undelivered' : 'ok' });
    const before = new Set((previous?.undelivered ?? []).map(identity));
    const fresh = health.undelivered.filter((w) => !before.has(identity(w)));
    if (fresh.length === 0) continue;
    const events = fresh.map((w) => w.event ?? w.id ?? 'unknown');
    newlyUndelivered.push({ ...key, events });
    log.warn(
      { events },
      'Clockify does not deliver some of this installation’s webhooks; starting a reconciliation to heal what was missed',
    );
    await enqueue(deps.queues, JOBS.bootstrapStart, { v: 1, ...key, trigger: 'reconcile' });
  }
  deps.metrics
    .gauge(
      'installations_with_undelivered_webhooks',
      'ACTIVE installations with at least one webhook Clockify does not deliver (deliveryEnabled, enabled or planEnabled false)',
    )
    .set(await countInstallationsWithUndeliveredWebhooks(deps.db));
  const report: WebhookHealthReport = { checked, newlyUndelivered, failed };
  if (due.length > 0) deps.logger.info({ due: due.length, ...report }, 'webhook health checked');
  return report;
}

async function checkInstallation(deps: WorkerDeps, installation: Installation, now: Date): Promise<WebhookHealth> {
  const api = createInstallationClient(deps, installation);
  const response = await api.request('GET', '/v1/workspaces/{workspaceId}/addons/{addonId}/webhooks', {
    path: { addonId: installation.addon_id },
  });
  // Each item also carries the webhook's token: only the fields below are ever kept.
  const items = Array.isArray(response.data?.webhooks) ? response.data.webhooks : [];
  const undelivered: UndeliveredWebhook[] = [];
  for (const w of items) {
    const flags = {
      deliveryEnabled: w.deliveryEnabled !== false,
      enabled: w.enabled !== false,
      planEnabled: w.planEnabled !== false,
    };
    if (flags.deliveryEnabled && flags.enabled && flags.planEnabled) continue;
    const event = typeof w.webhookEvent === 'string' ? w.webhookEvent : undefined;
    undelivered.push({
      ...(typeof w.id === 'string' ? { id: w.id.slice(0, 64) } : {}),
      ...(event !== undefined ? { event: event.slice(0, 64) } : {}),
      ...flags,
    });
  }
  return { checkedAt: now.toISOString(), webhooks: items.length, undelivered };
}

function identity(w: UndeliveredWebhook): string {
  return `${w.id ?? ''}|${w.event ?? ''}`;
}
