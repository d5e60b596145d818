import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEntity, getInstallation } from '@cap/db';
import { JOBS, enqueue } from '@cap/queue';
import { signLifecycleToken } from '@cap/simulator';
import { waitFor } from '@cap/testing';
import { countingAddon } from './counting-addon.js';
import { startStack, type Stack } from './stack.js';

/**
 * Replays and look-alikes: a lifecycle call sent again with the same token and bytes, a delivery
 * signed with a token the worker refuses racing the genuine one, and jobs whose tokens nobody
 * verified reaching a worker that requires verification.
 */

const counting = countingAddon();
let s: Stack;
let addonId: string;

const db = () => s.ingress.context.database.db;
const key = () => ({ workspaceId: s.workspaceId, addonId });

async function replay(call: { type: string; sentBody: string; lifecycleToken: string }): Promise<Response> {
  const path = call.type.toLowerCase().replace(/_/g, '-');
  return fetch(`${s.ingressUrl}/lifecycle/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-addon-lifecycle-token': call.lifecycleToken },
    body: call.sentBody,
  });
}

async function receipts(): Promise<{ type: string; outcome: string }[]> {
  return db()
    .selectFrom('lifecycle_receipts')
    .select(['type', 'outcome'])
    .where('workspace_id', '=', s.workspaceId)
    .orderBy('seq')
    .execute();
}

beforeAll(async () => {
  s = await startStack({
    sizes: { users: 2, projects: 1, tasksPerProject: 1, tags: 1, clients: 1, entries: 2 },
    addon: counting.addon,
    // A production worker: NODE_ENV=production (which refuses REQUIRE_SIGNATURE_VERIFICATION=false).
    workerEnv: { AUTO_BOOTSTRAP: 'false', NODE_ENV: 'production' },
  });
  ({ addonId } = await s.installAndWait());
});
afterAll(async () => {
  await s?.close();
});

describe('lifecycle replays', () => {
  it('an old DELETED replayed after a reinstall is answered 200 and does not uninstall', async () => {
    const uninstall = await s.sim.uninstall();
    expect(uninstall.status).toBe(200);
    await waitFor(async () => (await getInstallation(db(), key()))?.status === 'DELETED', { message: 'uninstalled' });
    await s.installAndWait();
    const reinstalled = await getInstallation(db(), key());

    const again = await replay(uninstall);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: true });
    await waitFor(
      async () =>
        (await receipts()).filter((r) => r.type === 'DELETED').length === 1 &&
        s.worker!.logs.join('').includes('replay ignored'),
      { message: 'the replay decided by the worker' },
    );
    expect(await getInstallation(db(), key())).toMatchObject({
      status: 'ACTIVE',
      auth_token_enc: reinstalled!.auth_token_enc,
      last_seq: reinstalled!.last_seq,
    });
  });

  it('a replayed STATUS_CHANGED is ignored; a new call with the same body is applied', async () => {
    const inactive = await s.sim.setStatus('INACTIVE');
    await waitFor(async () => (await getInstallation(db(), key()))?.status === 'INACTIVE', { message: 'inactive' });
    await s.sim.setStatus('ACTIVE');
    await waitFor(async () => (await getInstallation(db(), key()))?.status === 'ACTIVE', { message: 'active' });
    // The captured INACTIVE call again: the same token and bytes are a replay.
    expect((await replay(inactive)).status).toBe(200);
    await s.settle();
    expect(await getInstallation(db(), key())).toMatchObject({ status: 'ACTIVE' });
    // Clockify's own second INACTIVE carries a new token: a real change, applied.
    await s.sim.setStatus('INACTIVE');
    await waitFor(async () => (await getInstallation(db(), key()))?.status === 'INACTIVE', { message: 'inactive' });
    await s.sim.setStatus('ACTIVE');
    await waitFor(async () => (await getInstallation(db(), key()))?.status === 'ACTIVE', { message: 'active' });
  });
});

describe('deliveries and their tokens', () => {
  it('a delivery signed with a refused token sent first never takes the genuine delivery’s place', async () => {
    const inst = s.sim.installation();
    const body = { ...s.sim.buildWebhook('NEW_TAG'), id: 'f'.repeat(24), name: 'Genuine' };
    // Genuine and valid, of this installation, but not the token stored for NEW_TAG.
    const lookalike = await signLifecycleToken(s.sim.keys, { ...inst, withWorkspace: true });
    const forged = await s.sim.sendWebhook('NEW_TAG', body, { token: lookalike });
    expect(forged.body).toEqual({ received: true });
    const genuine = await s.sim.sendWebhook('NEW_TAG', body);
    expect(genuine.body).toEqual({ received: true });
    await waitFor(() => counting.count('NEW_TAG', body.id) === 1, { message: 'the genuine delivery processed' });
    await s.settle();
    const rows = await db()
      .selectFrom('webhook_events')
      .select(['status', 'token_check'])
      .where('entity_id', '=', body.id)
      .orderBy('received_at')
      .execute();
    expect(rows).toEqual([
      { status: 'ignored', token_check: 'mismatch' },
      { status: 'done', token_check: 'matched' },
    ]);
    expect(
      (await getEntity(db(), { workspaceId: s.workspaceId, entityType: 'tag', entityId: body.id }))?.data,
    ).toMatchObject({
      name: 'Genuine',
    });
  });

  it('a production worker refuses jobs whose tokens were not verified', async () => {
    const before = await getInstallation(db(), key());
    const tagId = 'e'.repeat(24);
    const raw = JSON.stringify({ ...s.sim.buildWebhook('NEW_TAG'), id: tagId, name: 'Unverified' });
    const now = Date.now();
    await enqueue(s.ingress.context.queues, JOBS.webhookProcess, {
      v: 1,
      event: 'NEW_TAG',
      workspaceId: s.workspaceId,
      addonId,
      deliveryKey: 'c'.repeat(64),
      windowStart: now - (now % 300_000),
      windowSeconds: 300,
      receivedAt: now,
      tokenHash: 'd'.repeat(64),
      verified: false,
      body: raw,
    });
    await enqueue(s.ingress.context.queues, JOBS.lifecycleStatusChanged, {
      v: 1,
      type: 'STATUS_CHANGED',
      workspaceId: s.workspaceId,
      addonId,
      seq: Number.MAX_SAFE_INTEGER - 1,
      receivedAt: now,
      verified: false,
      receipt: randomUUID().replace(/-/g, '').padEnd(64, '0'),
      body: { workspaceId: s.workspaceId, addonId, status: 'INACTIVE' },
    });
    await s.settle();
    expect(await getInstallation(db(), key())).toMatchObject({ status: 'ACTIVE', status_seq: before!.status_seq });
    const row = await db()
      .selectFrom('webhook_events')
      .select(['status', 'token_check'])
      .where('entity_id', '=', tagId)
      .executeTakeFirst();
    expect(row).toEqual({ status: 'ignored', token_check: 'unverified' });
    expect(counting.count('NEW_TAG', tagId)).toBe(0);
    expect(s.worker!.logs.join('')).toContain('lifecycle job carries a token whose signature was not verified');
  });
});
