import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIRROR_TIME_ENTRIES_SETTING } from '@cap/workspace-mirror';
import { getEntity, getInstallation } from '@cap/db';
import { waitFor } from '@cap/testing';
import { startStack, type Stack } from './stack.js';

// The worker keeps installations and their webhook token hashes in memory between webhooks.
// These changes happen while it holds them, and each must be seen by the next webhook.
let s: Stack;
const db = () => s.ingress.context.database.db;

async function delivery(entityId: string): Promise<{ status: string; token_check: string | null } | undefined> {
  return db()
    .selectFrom('webhook_events')
    .select(['status', 'token_check'])
    .where('workspace_id', '=', s.workspaceId)
    .where('entity_id', '=', entityId)
    .executeTakeFirst();
}

async function processed(entityId: string) {
  return waitFor(
    async () => {
      const row = await delivery(entityId);
      return row && row.status !== 'received' && row.status !== 'failed' ? row : undefined;
    },
    { message: `the delivery of ${entityId}` },
  );
}

beforeAll(async () => {
  s = await startStack({
    sizes: { users: 2, projects: 1, tasksPerProject: 1, tags: 2, clients: 1, entries: 4 },
    workerEnv: { AUTO_BOOTSTRAP: 'false' },
  });
  await s.installAndWait();
});
afterAll(async () => {
  await s?.close();
});

describe('webhooks after the installation changed under the worker', () => {
  it('accept the new token and refuse the old one after a reinstall', async () => {
    const warm = { ...s.sim.buildWebhook('NEW_TAG'), id: '1'.repeat(24) };
    expect((await s.sim.sendWebhook('NEW_TAG', warm)).status).toBe(200);
    expect(await processed(warm.id as string)).toEqual({ status: 'done', token_check: 'matched' });

    const oldToken = s.sim.installation().webhookTokens.NEW_TAG!;
    const before = await getInstallation(db(), { workspaceId: s.workspaceId, addonId: s.sim.installation().addonId });
    await s.installAndWait();
    await waitFor(
      async () =>
        (await getInstallation(db(), { workspaceId: s.workspaceId, addonId: s.sim.installation().addonId }))!.last_seq >
        before!.last_seq,
      { message: 'the reinstall applied' },
    );

    const fresh = { ...s.sim.buildWebhook('NEW_TAG'), id: '2'.repeat(24) };
    expect((await s.sim.sendWebhook('NEW_TAG', fresh)).status).toBe(200);
    expect(await processed(fresh.id as string)).toEqual({ status: 'done', token_check: 'matched' });

    const stale = { ...s.sim.buildWebhook('NEW_TAG'), id: '3'.repeat(24) };
    expect((await s.sim.sendWebhook('NEW_TAG', stale, { token: oldToken })).status).toBe(200);
    expect(await processed(stale.id as string)).toEqual({ status: 'ignored', token_check: 'mismatch' });
    expect(
      await getEntity(db(), { workspaceId: s.workspaceId, entityType: 'tag', entityId: stale.id as string }),
    ).toBeUndefined();
  });

  it('hand the handler the settings saved after the previous webhook', async () => {
    const first = { ...s.sim.buildWebhook('NEW_TIME_ENTRY'), id: '4'.repeat(24) };
    await s.sim.sendWebhook('NEW_TIME_ENTRY', first);
    await processed(first.id as string);
    const key = { workspaceId: s.workspaceId, entityType: 'time_entry' };
    expect(await getEntity(db(), { ...key, entityId: first.id as string })).toBeDefined();

    await s.sim.updateSettings({ [MIRROR_TIME_ENTRIES_SETTING]: false });
    await waitFor(
      async () => {
        const row = await getInstallation(db(), { workspaceId: s.workspaceId, addonId: s.sim.installation().addonId });
        return (row?.settings as { id: string; value: unknown }[]).some(
          (x) => x.id === MIRROR_TIME_ENTRIES_SETTING && x.value === false,
        );
      },
      { message: 'the settings saved' },
    );
    const second = { ...s.sim.buildWebhook('NEW_TIME_ENTRY'), id: '5'.repeat(24) };
    await s.sim.sendWebhook('NEW_TIME_ENTRY', second);
    expect((await processed(second.id as string)).status).toBe('done');
    // The example add-on mirrors no time entry once the setting is off.
    expect(await getEntity(db(), { ...key, entityId: second.id as string })).toBeUndefined();
  });
});
