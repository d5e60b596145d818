import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEntity, getInstallation, getWebhookToken, listDeadLetters, sql } from '@cap/db';
import { replayDeadLetter } from '@cap/operator-actions';
import { JOBS } from '@cap/queue';
import { waitFor } from '@cap/testing';
import { countingAddon } from './counting-addon.js';
import { startStack, type Stack } from './stack.js';

const counting = countingAddon();
let s: Stack;
let now = Date.now();
let offsetMs = 0;

const db = () => s.ingress.context.database.db;

async function deliveryStatus(event: string, entityId: string): Promise<string[]> {
  const rows = await db()
    .selectFrom('webhook_events')
    .select('status')
    .where('workspace_id', '=', s.workspaceId)
    .where('event', '=', event)
    .where('entity_id', '=', entityId)
    .orderBy('received_at')
    .execute();
  return rows.map((r) => r.status);
}

/** Waits until the worker applied the installation's status. */
async function waitForStatus(status: 'ACTIVE' | 'INACTIVE' | 'DELETED'): Promise<void> {
  const key = { workspaceId: s.workspaceId, addonId: s.sim.installation().addonId };
  await waitFor(async () => (await getInstallation(db(), key))?.status === status, { message: `status ${status}` });
}

beforeAll(async () => {
  s = await startStack({
    sizes: { users: 3, projects: 2, tasksPerProject: 1, tags: 3, clients: 2, entries: 10 },
    addon: counting.addon,
    ingressEnv: { WEBHOOK_DEDUPE_WINDOW_SECONDS: '2', WEBHOOK_JOB_ATTEMPTS: '3', WEBHOOK_JOB_BACKOFF_MS: '50' },
    workerEnv: { WEBHOOK_JOB_ATTEMPTS: '3', WEBHOOK_JOB_BACKOFF_MS: '50', AUTO_BOOTSTRAP: 'false' },
    now: () => new Date(Date.now() + offsetMs),
  });
  now = Date.now();
  await s.installAndWait({ pathStyle: 'full' });
});
afterAll(async () => {
  await s?.close();
});

describe('webhook processing', () => {
  it('runs the handler once for the same delivery inside the window, again after it', async () => {
    const body = { ...s.sim.buildWebhook('NEW_TAG'), id: 'a'.repeat(24), name: 'Dedupe' };
    const first = await s.sim.sendWebhook('NEW_TAG', body);
    const second = await s.sim.sendWebhook('NEW_TAG', body);
    expect(first.body).toEqual({ received: true });
    expect(second.body).toEqual({ received: true, duplicate: true });
    await waitFor(() => counting.count('NEW_TAG', body.id as string) === 1, { message: 'the handler ran' });
    await s.settle();
    expect(counting.count('NEW_TAG', body.id as string)).toBe(1);

    // After the window the same content is a new change (A→B→A): processed again.
    const gate = `${s.prefix}:gate:`;
    await waitFor(async () => (await s.ingress.context.redis.keys(`${gate}*`)).length === 0, {
      timeoutMs: 5000,
      message: 'the dedupe gate to expire',
    });
    const third = await s.sim.sendWebhook('NEW_TAG', body);
    expect(third.body).toEqual({ received: true });
    await waitFor(() => counting.count('NEW_TAG', body.id as string) === 2, { message: 'the handler ran again' });
    // The handler runs before its transaction commits: wait for the status, do not race it.
    await waitFor(async () => (await deliveryStatus('NEW_TAG', body.id as string)).join() === 'done,done', {
      message: 'both deliveries done',
    });
  });

  it('processes the same entity in two different bodies twice and mirrors the latest', async () => {
    const { change } = await s.sim.mutate.createTag(s.workspaceId, { name: 'Before' });
    const tagId = (change.entity as { id: string }).id;
    await s.sim.mutate.updateTag(s.workspaceId, tagId, { name: 'After' });
    await waitFor(() => counting.count('TAG_UPDATED', tagId) === 1 && counting.count('NEW_TAG', tagId) === 1, {
      message: 'both handlers',
    });
    // Handlers run before their transactions commit.
    await s.settle();
    const entity = await getEntity(db(), { workspaceId: s.workspaceId, entityType: 'tag', entityId: tagId });
    expect(entity?.data.name).toBe('After');

    // The same event for the same entity with another body inside the window: a second change.
    await s.sim.mutate.updateTag(s.workspaceId, tagId, { name: 'Later' });
    await waitFor(() => counting.count('TAG_UPDATED', tagId) === 2, { message: 'the second TAG_UPDATED' });
    await s.settle();
    expect(await deliveryStatus('TAG_UPDATED', tagId)).toEqual(['done', 'done']);
    const latest = await getEntity(db(), { workspaceId: s.workspaceId, entityType: 'tag', entityId: tagId });
    expect(latest?.data.name).toBe('Later');
  });

  it('gives handlers an API client bound to the installation, through the rate limiter', async () => {
    const { change } = await s.sim.mutate.createTag(s.workspaceId, { name: 'Looked up' });
    const tagId = (change.entity as { id: string }).id;
    const seen: unknown[] = [];
    counting.extra.set('TAG_UPDATED', async (_payload, ctx) => {
      const { data } = await ctx.api.request('GET', '/v1/workspaces/{workspaceId}/tags/{id}', {
        path: { id: tagId },
      });
      seen.push(data);
    });
    try {
      const before = s.sim.api!.stats.snapshot().byOperation.getTag ?? 0;
      await s.sim.mutate.updateTag(s.workspaceId, tagId, { name: 'Looked up again' });
      await waitFor(() => seen.length === 1, { message: 'the handler’s API call' });
      expect(seen[0]).toMatchObject({ id: tagId, name: 'Looked up again' });
      expect(s.sim.api!.stats.snapshot().byOperation.getTag).toBe(before + 1);
    } finally {
      counting.extra.delete('TAG_UPDATED');
    }
  });

  it('never runs a finished delivery again when its job is retried or replayed', async () => {
    const body = { ...s.sim.buildWebhook('NEW_CLIENT'), id: 'b'.repeat(24) };
    await s.sim.sendWebhook('NEW_CLIENT', body);
    await waitFor(() => counting.count('NEW_CLIENT', body.id as string) === 1, { message: 'the handler ran' });
    // The same job payload again, as after a worker died between commit and acknowledging.
    const job = await waitFor(
      async () =>
        (await s.ingress.context.queues.webhooks.getJobs(['completed'])).find((j) =>
          String(j.data.body).includes(body.id as string),
        ),
      { message: 'the delivery completed' },
    );
    await s.ingress.context.queues.webhooks.add(JOBS.webhookProcess, job.data, { jobId: 'rerun-after-commit' });
    await waitFor(async () => (await s.ingress.context.queues.webhooks.getJob('rerun-after-commit'))?.finishedOn, {
      message: 'the rerun finished',
    });
    expect(await (await s.ingress.context.queues.webhooks.getJob('rerun-after-commit'))!.returnvalue).toBe('duplicate');
    expect(counting.count('NEW_CLIENT', body.id as string)).toBe(1);
  });

  it('retries a failing handler, dead-letters it, and a replay succeeds once the cause is gone', async () => {
    counting.failing.add('NEW_PROJECT');
    const body = { ...s.sim.buildWebhook('NEW_PROJECT'), id: 'c'.repeat(24) };
    await s.sim.sendWebhook('NEW_PROJECT', body);
    const letter = await waitFor(
      async () =>
        (await listDeadLetters(db(), { workspaceId: s.workspaceId })).find((l) => l.job_name === JOBS.webhookProcess),
      { message: 'a dead letter', timeoutMs: 20_000 },
    );
    expect(counting.attempts).toEqual([1, 2, 3]);
    expect(await deliveryStatus('NEW_PROJECT', body.id as string)).toEqual(['failed']);
    expect(JSON.stringify(letter.payload)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    // The job also stays in BullMQ's failed set.
    expect((await s.ingress.context.queues.webhooks.getJobs(['failed'])).map((j) => j.id)).toContain(letter.job_id);

    counting.failing.delete('NEW_PROJECT');
    const replay = await replayDeadLetter({ db: db(), queues: s.ingress.context.queues }, letter.id);
    expect(replay.jobId).not.toBe(letter.job_id);
    await waitFor(() => counting.count('NEW_PROJECT', body.id as string) === 1, { message: 'the replayed handler' });
    expect(await deliveryStatus('NEW_PROJECT', body.id as string)).toEqual(['done']);
  });

  it('skips deliveries while the add-on is INACTIVE and rejects a token that is not the stored one', async () => {
    await s.sim.setStatus('INACTIVE');
    await waitForStatus('INACTIVE');
    const skipped = { ...s.sim.buildWebhook('NEW_TAG'), id: 'd'.repeat(24) };
    await s.sim.sendWebhook('NEW_TAG', skipped);
    await waitFor(async () => (await deliveryStatus('NEW_TAG', skipped.id as string))[0] === 'skipped', {
      message: 'skipped',
    });
    await s.sim.setStatus('ACTIVE');
    await waitForStatus('ACTIVE');
    // A valid Clockify token of another webhook of this installation: verified, but not the one stored for NEW_TAG.
    const other = s.sim.installation().webhookTokens.TAG_DELETED!;
    const wrong = { ...s.sim.buildWebhook('NEW_TAG'), id: 'e'.repeat(24) };
    const res = await s.sim.sendWebhook('NEW_TAG', wrong, { token: other });
    expect(res.status).toBe(200);
    await waitFor(async () => (await deliveryStatus('NEW_TAG', wrong.id as string))[0] === 'ignored', {
      message: 'ignored',
    });
    const row = await db()
      .selectFrom('webhook_events')
      .select(['token_check'])
      .where('entity_id', '=', wrong.id as string)
      .executeTakeFirst();
    expect(row?.token_check).toBe('mismatch');
    expect(counting.count('NEW_TAG', wrong.id as string)).toBe(0);
  });

  it('after DELETED: tokens gone at once, later webhooks ignored, data purged after retention unless reinstalled', async () => {
    const addonId = s.sim.installation().addonId;
    const key = { workspaceId: s.workspaceId, addonId };
    await s.sim.uninstall();
    await waitFor(async () => (await getInstallation(db(), key))?.status === 'DELETED', { message: 'deleted' });
    const deleted = await getInstallation(db(), key);
    expect(deleted?.auth_token_enc).toBeNull();
    expect(await getWebhookToken(db(), { ...key, event: 'NEW_TAG' })).toBeUndefined();

    const late = { ...s.sim.buildWebhook('NEW_TAG'), id: 'f'.repeat(24) };
    expect((await s.sim.sendWebhook('NEW_TAG', late, { force: true })).status).toBe(200);
    await waitFor(async () => (await deliveryStatus('NEW_TAG', late.id as string))[0] === 'ignored', {
      message: 'ignored',
    });

    // Reinstalled before the date: retention at a clock past it keeps everything.
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    await waitFor(async () => (await getInstallation(db(), key))?.status === 'ACTIVE', { message: 'reinstalled' });
    offsetMs = 31 * 86_400_000;
    await s.ingress.context.queues.maintenance.add(JOBS.retention, { v: 1 }, { jobId: 'retention-1' });
    await waitFor(async () => (await s.ingress.context.queues.maintenance.getJob('retention-1'))?.finishedOn, {
      message: 'retention ran',
    });
    expect((await getInstallation(db(), key))?.status).toBe('ACTIVE');
    const before = await db()
      .selectFrom('workspace_entities')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('workspace_id', '=', s.workspaceId)
      .executeTakeFirstOrThrow();
    expect(before.n).toBeGreaterThan(0);

    // A forwarding rule of the installation (its secret encrypted) goes with the purge.
    await db()
      .insertInto('forwarding_rules')
      .values({
        workspace_id: s.workspaceId,
        addon_id: addonId,
        name: 'to be purged',
        events: JSON.stringify(['NEW_TAG']),
        filter: null,
        transform: null,
        destination_url: 'https://hooks.example.com/x',
        headers_enc: null,
        secret_enc: 'enc:v2:k:iv:body:tag',
      })
      .execute();

    // Uninstalled for good: at a clock past the retention date, retention purges the workspace.
    offsetMs = 0;
    await s.sim.uninstall();
    await waitFor(async () => (await getInstallation(db(), key))?.status === 'DELETED', { message: 'deleted again' });
    offsetMs = 31 * 86_400_000;
    await s.ingress.context.queues.maintenance.add(JOBS.retention, { v: 1 }, { jobId: 'retention-2' });
    const job = await waitFor(
      async () => {
        const j = await s.ingress.context.queues.maintenance.getJob('retention-2');
        return j?.finishedOn ? j : undefined;
      },
      { message: 'retention ran' },
    );
    expect(
      (job.returnvalue as { installationsPurged: { workspaceId: string }[] }).installationsPurged.map(
        (p) => p.workspaceId,
      ),
    ).toEqual([s.workspaceId]);
    const after = await db()
      .selectFrom('workspace_entities')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('workspace_id', '=', s.workspaceId)
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(0);
    expect(await getInstallation(db(), key)).toMatchObject({ status: 'DELETED', api_url: null, auth_token_enc: null });
    expect(
      await db().selectFrom('forwarding_rules').select('id').where('workspace_id', '=', s.workspaceId).execute(),
    ).toEqual([]);
    offsetMs = 0;
    void now;
  });
});
