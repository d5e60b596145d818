import { afterEach, describe, expect, it } from 'vitest';
import { getEntity, getInstallation, listEntities } from '@cap/db';
import { JOBS } from '@cap/queue';
import { waitFor } from '@cap/testing';
import { MIRROR_TIME_ENTRIES_SETTING } from '@cap/workspace-mirror';
import { purgeJobId } from '../src/lifecycle/apply.js';
import { startTestWorker, type TestWorker } from './helpers.js';
import { startStack, type Stack } from './stack.js';

const SIZES = { users: 2, projects: 2, tasksPerProject: 1, tags: 2, clients: 1, entries: 6 };
let s: Stack | undefined;
const extra: TestWorker[] = [];
afterEach(async () => {
  for (const w of extra.splice(0)) await w.close();
  await s?.close();
  s = undefined;
});

const status = async (stack: Stack, entityId: string) =>
  (
    await stack.ingress.context.database.db
      .selectFrom('webhook_events')
      .select('status')
      .where('entity_id', '=', entityId)
      .executeTakeFirst()
  )?.status;

describe('lifecycle', () => {
  it('stores every webhook token by event for relative and full paths, with and without workspace claims', async () => {
    s = await startStack({ sizes: SIZES, workerEnv: { AUTO_BOOTSTRAP: 'false' } });
    const result = await s.sim.install({
      ingressUrl: s.ingressUrl,
      workspaceId: s.workspaceId,
      pathStyle: 'relative',
      lifecycleClaims: 'without-workspace',
    });
    expect(result.status).toBe(200);
    const key = { workspaceId: s.workspaceId, addonId: result.installation.addonId };
    await waitFor(async () => (await getInstallation(s!.ingress.context.database.db, key))?.status === 'ACTIVE', {
      message: 'installed',
    });
    const hooks = await s.ingress.context.database.db
      .selectFrom('installation_webhooks')
      .selectAll()
      .where('workspace_id', '=', s.workspaceId)
      .execute();
    expect(hooks.map((h) => h.event).sort()).toEqual([...s.ingress.context.addon.events].sort());
    expect(hooks.every((h) => h.token_enc.startsWith('enc:v2:'))).toBe(true);
    const installation = await getInstallation(s.ingress.context.database.db, key);
    expect(installation?.api_url).toBe(s.sim.url);
    expect(installation?.auth_token_enc).toMatch(/^enc:v2:/);

    // A reinstall with full-URL paths replaces the tokens.
    const before = new Set(hooks.map((h) => h.token_hash));
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId, pathStyle: 'full' });
    await waitFor(
      async () => {
        const rows = await s!.ingress.context.database.db
          .selectFrom('installation_webhooks')
          .select('token_hash')
          .where('workspace_id', '=', s!.workspaceId)
          .execute();
        return rows.length === 20 && rows.every((r) => !before.has(r.token_hash));
      },
      { message: 'tokens replaced' },
    );
  });

  it('stores settings as Clockify sends them and handlers see them', async () => {
    s = await startStack({ sizes: SIZES, workerEnv: { AUTO_BOOTSTRAP: 'false' } });
    const result = await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    const key = { workspaceId: s.workspaceId, addonId: result.installation.addonId };
    await s.sim.updateSettings({ [MIRROR_TIME_ENTRIES_SETTING]: false });
    await waitFor(
      async () => {
        const settings = (await getInstallation(s!.ingress.context.database.db, key))?.settings as {
          id: string;
          value: unknown;
        }[];
        return settings?.find((x) => x.id === MIRROR_TIME_ENTRIES_SETTING)?.value === false;
      },
      { message: 'settings stored' },
    );
    const { change } = await s.sim.mutate.startTimer(s.workspaceId, {
      userId: s.sim.store.listUsers(s.workspaceId)[0]!.id,
      description: 'not mirrored',
    });
    const entryId = (change.entity as { id: string }).id;
    await waitFor(async () => (await status(s!, entryId)) === 'done', { message: 'delivery done' });
    expect(
      await getEntity(s.ingress.context.database.db, {
        workspaceId: s.workspaceId,
        entityType: 'time_entry',
        entityId: entryId,
      }),
    ).toBeUndefined();
  });

  it('holds a webhook that arrives before its INSTALLED is applied, then processes it', async () => {
    // Only webhooks are consumed at first: INSTALLED stays queued.
    s = await startStack({ sizes: SIZES, workerEnv: { AUTO_BOOTSTRAP: 'false', WORKER_QUEUES: 'webhooks' } });
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    const body = { ...s.sim.buildWebhook('NEW_TAG'), id: '1'.repeat(24) };
    expect((await s.sim.sendWebhook('NEW_TAG', body)).status).toBe(200);
    await waitFor(async () => (await s!.ingress.context.queues.webhooks.getDelayedCount()) === 1, {
      message: 'the webhook waits',
    });
    const held = (await s.ingress.context.queues.webhooks.getDelayed())[0]!;
    expect(held.attemptsMade).toBe(0);
    expect(await status(s, body.id as string)).toBeUndefined();

    extra.push(
      await startTestWorker({
        databaseUrl: s.testDb.url,
        prefix: s.prefix,
        encryptionKey: s.encryptionKey,
        env: { WORKER_QUEUES: 'lifecycle', AUTO_BOOTSTRAP: 'false' },
      }),
    );
    await waitFor(async () => (await status(s!, body.id as string)) === 'done', {
      message: 'processed after INSTALLED',
      timeoutMs: 15_000,
    });
    expect((await listEntities(s.ingress.context.database.db, s.workspaceId, 'tag')).map((e) => e.entity_id)).toContain(
      body.id,
    );
  });

  it('records a webhook whose installation never comes as orphaned', async () => {
    s = await startStack({
      sizes: SIZES,
      workerEnv: { AUTO_BOOTSTRAP: 'false', WORKER_QUEUES: 'webhooks', WEBHOOK_ORPHAN_AFTER_MS: '1500' },
    });
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    const body = { ...s.sim.buildWebhook('NEW_TAG'), id: '2'.repeat(24) };
    await s.sim.sendWebhook('NEW_TAG', body);
    await waitFor(async () => (await status(s!, body.id as string)) === 'orphaned', {
      message: 'orphaned',
      timeoutMs: 15_000,
    });
  });

  it('fails a STATUS_CHANGED whose INSTALLED never comes into the dead letters instead of dropping it', async () => {
    s = await startStack({ sizes: SIZES, noWorker: true });
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    await s.sim.setStatus('INACTIVE', { workspaceId: s.workspaceId });
    // The INSTALLED is lost (e.g. removed by an operator): only the STATUS_CHANGED is left.
    const lifecycle = s.ingress.context.queues.lifecycle;
    const waiting = await lifecycle.getWaiting();
    const installed = waiting.find((j) => (j.data as { type?: string }).type === 'INSTALLED');
    expect(installed).toBeDefined();
    await installed!.remove();
    await s.startWorker({ env: { AUTO_BOOTSTRAP: 'false', WEBHOOK_ORPHAN_AFTER_MS: '1500' } });
    const db = s.ingress.context.database.db;
    const letter = await waitFor(
      async () => db.selectFrom('dead_letters').selectAll().where('queue', '=', 'lifecycle').executeTakeFirst(),
      { timeoutMs: 15_000, message: 'a lifecycle dead letter' },
    );
    expect(letter.error).toMatch(/STATUS_CHANGED .*no installation appeared within 1500 ms/);
    expect(letter.workspace_id).toBe(s.workspaceId);
    expect(await lifecycle.getFailedCount()).toBe(1);
    expect(
      await getInstallation(db, { workspaceId: s.workspaceId, addonId: s.sim.installation().addonId }),
    ).toBeUndefined();
  });

  it('schedules the purge at uninstall, a reinstall cancels it, and when it comes due it purges the workspace', async () => {
    let offsetMs = 0;
    s = await startStack({
      sizes: SIZES,
      workerEnv: { AUTO_BOOTSTRAP: 'false', DATA_RETENTION_DAYS_AFTER_UNINSTALL: '30' },
      now: () => new Date(Date.now() + offsetMs),
    });
    const { addonId } = await s.installAndWait();
    const key = { workspaceId: s.workspaceId, addonId };
    const db = s.ingress.context.database.db;
    const maintenance = s.ingress.context.queues.maintenance;
    const jobId = purgeJobId(s.workspaceId, addonId);
    const tag = { ...s.sim.buildWebhook('NEW_TAG'), id: '7'.repeat(24) };
    await s.sim.sendWebhook('NEW_TAG', tag);
    await waitFor(async () => (await status(s!, tag.id as string)) === 'done', { message: 'a mirrored tag' });

    await s.sim.uninstall();
    const first = await waitFor(async () => maintenance.getJob(jobId), { message: 'the purge job' });
    expect(first.name).toBe(JOBS.purgeInstallation);
    expect(await first.isDelayed()).toBe(true);
    const dueInDays = (first.timestamp + first.opts.delay! - Date.now()) / 86_400_000;
    expect(dueInDays).toBeGreaterThan(29.9);
    expect(dueInDays).toBeLessThanOrEqual(30);

    // A reinstall cancels the purge; a purge job that still runs (e.g. added before the
    // reinstall won) finds the installation ACTIVE and leaves everything.
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    await waitFor(async () => (await getInstallation(db, key))?.status === 'ACTIVE', { message: 'reinstalled' });
    expect(await maintenance.getJob(jobId)).toBeUndefined();
    offsetMs = 31 * 86_400_000;
    await maintenance.add(JOBS.purgeInstallation, { v: 1, ...key, seq: 1 }, { jobId: 'stray-purge' });
    await waitFor(async () => (await maintenance.getJob('stray-purge'))?.returnvalue === 'skipped', {
      message: 'the stray purge skipped',
    });
    expect(await listEntities(db, s.workspaceId, 'tag')).not.toEqual([]);

    // Uninstalled for good: when the job comes due (the clock past the date), the data goes.
    offsetMs = 0;
    await s.sim.uninstall();
    const second = await waitFor(async () => maintenance.getJob(jobId), { message: 'the purge job again' });
    offsetMs = 31 * 86_400_000;
    await second.promote();
    await waitFor(async () => (await maintenance.getJob(jobId))?.returnvalue === 'purged', {
      message: 'the purge',
    });
    expect(await listEntities(db, s.workspaceId, undefined, { includeDeleted: true })).toEqual([]);
    expect(await getInstallation(db, key)).toMatchObject({ status: 'DELETED', api_url: null, auth_token_enc: null });
  });
});
