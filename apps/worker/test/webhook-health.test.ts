import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getInstallation } from '@cap/db';
import { waitFor } from '@cap/testing';
import { runWebhookHealth } from '../src/maintenance/webhook-health.js';
import { startStack, type Stack } from './stack.js';

/** Clockify switches a webhook's delivery off after repeated failures; nothing else would notice. */

let s: Stack;
let addonId: string;
const db = () => s.ingress.context.database.db;
const key = () => ({ workspaceId: s.workspaceId, addonId });
const due = () =>
  db()
    .updateTable('installations')
    .set({ webhooks_checked_at: null })
    .where('workspace_id', '=', s.workspaceId)
    .execute();

beforeAll(async () => {
  s = await startStack({
    sizes: { users: 2, projects: 1, tasksPerProject: 1, tags: 1, clients: 1, entries: 2 },
    workerEnv: { AUTO_BOOTSTRAP: 'false' },
  });
  ({ addonId } = await s.installAndWait());
  await s.settle();
});
afterAll(async () => {
  await s?.close();
});

describe('webhook delivery health', () => {
  it('records every webhook delivered, then reports one Clockify disabled and starts a reconciliation', async () => {
    const deps = s.worker!.worker.deps;
    const first = await runWebhookHealth(deps);
    expect(first).toMatchObject({ checked: 1, failed: 0, newlyUndelivered: [] });
    const healthy = await getInstallation(db(), key());
    expect(healthy?.webhook_health).toMatchObject({ webhooks: 20, undelivered: [] });
    expect(healthy?.webhooks_checked_at).not.toBeNull();
    // Not due again until its interval has passed.
    expect(await runWebhookHealth(deps)).toMatchObject({ checked: 0 });

    s.sim.setWebhookDelivery('NEW_TAG', false);
    await due();
    const second = await runWebhookHealth(deps);
    expect(second.newlyUndelivered).toEqual([{ ...key(), events: ['NEW_TAG'] }]);
    const row = await getInstallation(db(), key());
    expect(row?.webhook_health?.undelivered).toEqual([
      expect.objectContaining({ event: 'NEW_TAG', deliveryEnabled: false, enabled: true, planEnabled: true }),
    ]);
    // The webhook's token comes with Clockify's answer; it is never kept.
    expect(JSON.stringify(row?.webhook_health)).not.toContain(s.sim.installation().webhookTokens.NEW_TAG!);
    const run = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED']);
    expect(run.trigger).toBe('reconcile');
    const metrics = (await deps.metrics.render()).body;
    expect(metrics).toMatch(/installations_with_undelivered_webhooks\{[^}]*\} 1/);

    // Still disabled at the next check: no second reconciliation. Re-enabled: healthy again.
    await due();
    expect((await runWebhookHealth(deps)).newlyUndelivered).toEqual([]);
    s.sim.setWebhookDelivery('NEW_TAG', true);
    await due();
    await runWebhookHealth(deps);
    await waitFor(async () => (await getInstallation(db(), key()))?.webhook_health?.undelivered.length === 0, {
      message: 'healthy again',
    });
    expect((await deps.metrics.render()).body).toMatch(/installations_with_undelivered_webhooks\{[^}]*\} 0/);
  });
});
