import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@cap/testing';
import {
  applyDeleted,
  applyInstalled,
  applySettingsUpdated,
  applyStatusChanged,
  claimDelivery,
  completeDelivery,
  createBootstrapRun,
  finalizeBootstrapRunIfDone,
  finishBootstrapResource,
  getEntity,
  getInstallation,
  getWebhookToken,
  ensureWebhookEventPartition,
  installationsDueForPurge,
  listEntities,
  migrateToLatest,
  openDatabase,
  processedInPreviousWindow,
  purgeInstallation,
  recordLifecycleReceipt,
  recordDeadLetter,
  recordDeliveryFailure,
  storedTokenHashes,
  recordDeliveryOutcome,
  removeEntitiesNotSeen,
  tombstoneEntity,
  upsertEntitiesFromBootstrap,
  upsertEntityFromWebhook,
  getDelivery,
  sql,
  type DatabaseHandle,
  type DeliveryRef,
  type InstalledInput,
} from '../src/index.js';

let testDb: TestDatabase;
let h: DatabaseHandle;

beforeAll(async () => {
  testDb = await createTestDatabase('repos');
  h = await openDatabase({ url: testDb.url, dataDir: '/unused' });
  await migrateToLatest(h.db);
});
afterAll(async () => {
  await h?.close();
  await testDb?.drop();
});

let n = 0;
const key = () => ({ workspaceId: `ws${++n}`, addonId: 'addon-1' });

function installed(k: { workspaceId: string; addonId: string }, seq: number, token = 'enc:v1:k:a:b:c'): InstalledInput {
  return {
    ...k,
    seq,
    apiUrl: 'https://api.clockify.me/api',
    backendUrl: null,
    reportsUrl: null,
    addonUserId: 'u1',
    installedBy: 'u0',
    authTokenEnc: token,
    authTokenHash: `installation-hash-${k.workspaceId}-${k.addonId}`,
    webhooks: [{ event: 'NEW_TAG', path: '/webhooks/new-tag', tokenEnc: 'enc:v1:k:w:x:y', tokenHash: 'h1' }],
  };
}

describe('installations: compare-and-set on the lifecycle sequence', () => {
  it('applies INSTALLED once and ignores an older one', async () => {
    const k = key();
    expect(await h.db.transaction().execute((tx) => applyInstalled(tx, installed(k, 10)))).toBe(true);
    expect(await h.db.transaction().execute((tx) => applyInstalled(tx, installed(k, 9, 'enc:v1:old:a:b:c')))).toBe(
      false,
    );
    const row = await getInstallation(h.db, k);
    expect(row).toMatchObject({ status: 'ACTIVE', last_seq: 10, auth_token_enc: 'enc:v1:k:a:b:c' });
    expect(await getWebhookToken(h.db, { ...k, event: 'NEW_TAG' })).toMatchObject({ token_hash: 'h1' });
  });

  it('DELETED erases tokens at once; a late, older INSTALLED cannot bring it back; a newer one reinstalls', async () => {
    const k = key();
    await h.db.transaction().execute((tx) => applyInstalled(tx, installed(k, 1)));
    const purgeAfter = new Date(Date.now() + 30 * 86_400_000);
    expect(await h.db.transaction().execute((tx) => applyDeleted(tx, { ...k, seq: 3, purgeAfter }))).toBe(true);
    let row = await getInstallation(h.db, k);
    expect(row).toMatchObject({ status: 'DELETED', auth_token_enc: null });
    expect(row?.purge_after?.getTime()).toBe(purgeAfter.getTime());
    expect(await getWebhookToken(h.db, { ...k, event: 'NEW_TAG' })).toBeUndefined();
    expect(await h.db.transaction().execute((tx) => applyInstalled(tx, installed(k, 2)))).toBe(false);
    expect(await h.db.transaction().execute((tx) => applyInstalled(tx, installed(k, 4)))).toBe(true);
    row = await getInstallation(h.db, k);
    expect(row).toMatchObject({ status: 'ACTIVE', purge_after: null, deleted_at: null });
  });

  it('a DELETED that overtakes its INSTALLED leaves the installation deleted', async () => {
    const k = key();
    await h.db.transaction().execute((tx) => applyDeleted(tx, { ...k, seq: 6, purgeAfter: new Date() }));
    expect(await h.db.transaction().execute((tx) => applyInstalled(tx, installed(k, 5)))).toBe(false);
    expect((await getInstallation(h.db, k))?.status).toBe('DELETED');
  });

  it('STATUS_CHANGED and SETTINGS_UPDATED wait for their INSTALLED and never go backwards', async () => {
    const k = key();
    // Reordered: the status change (seq 8) is processed before the INSTALLED it follows (seq 7).
    expect(await h.db.transaction().execute((tx) => applyStatusChanged(tx, { ...k, seq: 8, status: 'INACTIVE' }))).toBe(
      'not_installed',
    );
    await h.db.transaction().execute((tx) => applyInstalled(tx, installed(k, 7)));
    expect(await h.db.transaction().execute((tx) => applyStatusChanged(tx, { ...k, seq: 8, status: 'INACTIVE' }))).toBe(
      'applied',
    );
    expect(await h.db.transaction().execute((tx) => applyStatusChanged(tx, { ...k, seq: 8, status: 'ACTIVE' }))).toBe(
      'stale',
    );
    expect(
      await h.db
        .transaction()
        .execute((tx) => applySettingsUpdated(tx, { ...k, seq: 9, settings: [{ id: 's', value: 1 }] })),
    ).toBe('applied');
    expect(await h.db.transaction().execute((tx) => applySettingsUpdated(tx, { ...k, seq: 6, settings: [] }))).toBe(
      'stale',
    );
    expect(await getInstallation(h.db, k)).toMatchObject({ status: 'INACTIVE', settings: [{ id: 's', value: 1 }] });
    // A retried INSTALLED with a newer sequence keeps the newer status and settings.
    await h.db.transaction().execute((tx) => applyInstalled(tx, installed(k, 10)));
    expect(await getInstallation(h.db, k)).toMatchObject({ status: 'ACTIVE', last_seq: 10, settings: [] });
  });

  it('purges only a still-deleted installation whose date passed, and keeps a bare marker', async () => {
    const k = key();
    await h.db.transaction().execute((tx) => applyInstalled(tx, installed(k, 1)));
    await upsertEntityFromWebhook(
      h.db,
      { workspaceId: k.workspaceId, entityType: 'tag', entityId: 't1' },
      { id: 't1' },
      'NEW_TAG',
    );
    const due = new Date(Date.now() + 1000);
    await h.db.transaction().execute((tx) => applyDeleted(tx, { ...k, seq: 2, purgeAfter: due }));
    expect(await h.db.transaction().execute((tx) => purgeInstallation(tx, k, new Date()))).toBeUndefined();
    const later = new Date(Date.now() + 5000);
    expect((await installationsDueForPurge(h.db, later)).map((i) => i.workspace_id)).toContain(k.workspaceId);
    expect(await h.db.transaction().execute((tx) => purgeInstallation(tx, k, later))).toMatchObject({ entities: 1 });
    expect(await listEntities(h.db, k.workspaceId)).toEqual([]);
    expect(await getInstallation(h.db, k)).toMatchObject({
      status: 'DELETED',
      api_url: null,
      purge_after: null,
      last_seq: 2,
    });
  });
});

describe('installations: two add-on ids in one workspace', () => {
  it('the purge of an old installation keeps the mirror of a live one and its own rows', async () => {
    const ws = `ws-shared-${++n}`;
    const old = { workspaceId: ws, addonId: 'addon-old' };
    const live = { workspaceId: ws, addonId: 'addon-new' };
    await h.db.transaction().execute((tx) => applyInstalled(tx, installed(old, 1)));
    await upsertEntityFromWebhook(
      h.db,
      { workspaceId: ws, entityType: 'tag', entityId: 't1' },
      { id: 't1' },
      'NEW_TAG',
    );
    const due = new Date(Date.now() + 1000);
    await h.db.transaction().execute((tx) => applyDeleted(tx, { ...old, seq: 2, purgeAfter: due }));
    // Reinstalled under a new add-on id: it writes its own mirror rows and deliveries.
    await h.db.transaction().execute((tx) => applyInstalled(tx, installed(live, 3)));
    await upsertEntityFromWebhook(
      h.db,
      { workspaceId: ws, entityType: 'tag', entityId: 't2' },
      { id: 't2' },
      'NEW_TAG',
    );
    const windowStart = new Date('2026-11-28T10:00:00Z');
    await ensureWebhookEventPartition(h.db, windowStart);
    for (const [i, addonId] of [old.addonId, live.addonId].entries()) {
      await recordDeliveryOutcome(
        h.db,
        {
          deliveryKey: `${ws}-${i}`.padEnd(64, '0'),
          windowStart,
          workspaceId: ws,
          addonId,
          event: 'NEW_TAG',
          receivedAt: windowStart,
          entityId: null,
          jobId: null,
        },
        'ignored',
        { reason: 'test' },
      );
      await recordDeadLetter(h.db, {
        queue: 'webhooks',
        jobName: 'webhook.process',
        jobId: `${ws}-job-${i}`,
        workspaceId: ws,
        payload: { workspaceId: ws, addonId },
        error: 'boom',
        attempts: 8,
      });
    }

    const counts = await h.db.transaction().execute((tx) => purgeInstallation(tx, old, new Date(Date.now() + 5000)));
    expect(counts).toMatchObject({ entities: 0, webhookEvents: 1, deadLetters: 1, workspaceShared: true });
    expect((await listEntities(h.db, ws)).map((e) => e.entity_id).sort()).toEqual(['t1', 't2']);
    const events = await h.db.selectFrom('webhook_events').select('addon_id').where('workspace_id', '=', ws).execute();
    expect(events).toEqual([{ addon_id: live.addonId }]);
    const letters = await h.db.selectFrom('dead_letters').select('payload').where('workspace_id', '=', ws).execute();
    expect(letters.map((l) => (l.payload as { addonId: string }).addonId)).toEqual([live.addonId]);
    expect(await getInstallation(h.db, live)).toMatchObject({ status: 'ACTIVE' });
  });

  it('stored token hashes follow install and uninstall', async () => {
    const k = key();
    await h.db.transaction().execute((tx) => applyInstalled(tx, installed(k, 1)));
    expect(await storedTokenHashes(h.db, k)).toEqual({
      installation: `installation-hash-${k.workspaceId}-${k.addonId}`,
      webhooks: ['h1'],
    });
    await h.db.transaction().execute((tx) => applyDeleted(tx, { ...k, seq: 2, purgeAfter: new Date() }));
    expect(await storedTokenHashes(h.db, k)).toEqual({ installation: null, webhooks: [] });
  });

  it('a lifecycle receipt is recorded once; the same call again returns the first', async () => {
    const k = key();
    const receipt = `r-${k.workspaceId}`.padEnd(64, '0');
    const record = (seq: number) =>
      h.db
        .transaction()
        .execute((tx) => recordLifecycleReceipt(tx, { ...k, receipt, type: 'DELETED', seq, outcome: 'applied' }));
    expect(await record(5)).toBeUndefined();
    expect(await record(9)).toMatchObject({ receipt, seq: 5, outcome: 'applied', type: 'DELETED' });
  });
});

describe('webhook_events: durable dedupe', () => {
  const windowStart = new Date('2026-11-28T10:00:00Z');
  const ref = (k: string, over: Partial<DeliveryRef> = {}): DeliveryRef => ({
    deliveryKey: k.padEnd(64, '0'),
    windowStart,
    workspaceId: 'w',
    addonId: 'a',
    event: 'NEW_TAG',
    receivedAt: new Date('2026-11-28T10:01:00Z'),
    entityId: 't',
    jobId: 'j1',
    ...over,
  });
  beforeEach(async () => {
    await ensureWebhookEventPartition(h.db, windowStart);
    await ensureWebhookEventPartition(h.db, new Date(windowStart.getTime() - 300_000));
  });

  it('claims a new delivery, re-claims an unfinished one, never a finished one', async () => {
    const r = ref('a1');
    expect(await h.db.transaction().execute((tx) => claimDelivery(tx, r))).toEqual({ claimed: true, attempts: 1 });
    await recordDeliveryFailure(h.db, r, 'boom');
    expect((await getDelivery(h.db, r.deliveryKey, windowStart))?.status).toBe('failed');
    expect(await h.db.transaction().execute((tx) => claimDelivery(tx, { ...r, jobId: 'j2' }))).toEqual({
      claimed: true,
      attempts: 2,
    });
    await h.db.transaction().execute(async (tx) => {
      await claimDelivery(tx, r);
      await completeDelivery(tx, r, 'matched');
    });
    expect(await h.db.transaction().execute((tx) => claimDelivery(tx, r))).toEqual({ claimed: false, status: 'done' });
    // A late failure report never overwrites done.
    await recordDeliveryFailure(h.db, r, 'late');
    await recordDeliveryOutcome(h.db, r, 'ignored');
    expect(await getDelivery(h.db, r.deliveryKey, windowStart)).toMatchObject({
      status: 'done',
      error: null,
      token_check: 'matched',
    });
  });

  it('a rolled-back handler transaction leaves the delivery claimable', async () => {
    const r = ref('a2');
    await expect(
      h.db.transaction().execute(async (tx) => {
        await claimDelivery(tx, r);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await getDelivery(h.db, r.deliveryKey, windowStart)).toBeUndefined();
  });

  it('catches the same content done in the previous window less than a window ago', async () => {
    const previous = ref('a3', {
      windowStart: new Date(windowStart.getTime() - 300_000),
      receivedAt: new Date('2026-11-28T09:59:30Z'),
    });
    await h.db.transaction().execute(async (tx) => {
      await claimDelivery(tx, previous);
      await completeDelivery(tx, previous, 'matched');
    });
    expect(
      await processedInPreviousWindow(h.db, ref('a3', { receivedAt: new Date('2026-11-28T10:01:00Z') }), 300),
    ).toBe(true);
    expect(
      await processedInPreviousWindow(h.db, ref('a3', { receivedAt: new Date('2026-11-28T10:04:31Z') }), 300),
    ).toBe(false);
  });
});

describe('workspace_entities', () => {
  const ws = 'ent-ws';
  const k = (id: string) => ({ workspaceId: ws, entityType: 'tag', entityId: id });

  it('tombstones win over late updates', async () => {
    await upsertEntityFromWebhook(h.db, k('t1'), { id: 't1', name: 'A' }, 'NEW_TAG');
    await tombstoneEntity(h.db, k('t1'), { id: 't1' }, 'TAG_DELETED');
    expect(await upsertEntityFromWebhook(h.db, k('t1'), { id: 't1', name: 'B' }, 'TAG_UPDATED')).toBe(false);
    expect(await getEntity(h.db, k('t1'))).toMatchObject({ deleted: true, last_event: 'TAG_DELETED' });
    // A delete that arrives before the entity was ever seen still blocks a late NEW.
    await tombstoneEntity(h.db, k('t2'), { id: 't2' }, 'TAG_DELETED');
    expect(await upsertEntityFromWebhook(h.db, k('t2'), { id: 't2' }, 'NEW_TAG')).toBe(false);
  });

  it('a bootstrap replaces, never duplicates, and never deletes what a webhook wrote meanwhile', async () => {
    const w = 'boot-ws';
    const e = (id: string) => ({ entityId: id, data: { id, name: id } });
    const run1 = '00000000-0000-4000-8000-000000000001';
    const run2 = '00000000-0000-4000-8000-000000000002';
    const t0 = (await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(h.db)).rows[0]!.now;
    await upsertEntitiesFromBootstrap(h.db, {
      workspaceId: w,
      entityType: 'tag',
      runId: run1,
      fetchedAt: t0,
      entities: [e('a'), e('b'), e('c')],
    });
    expect((await listEntities(h.db, w, 'tag')).map((r) => r.entity_id)).toEqual(['a', 'b', 'c']);

    // Second run: c is gone upstream; d is created by a webhook while the run is going.
    const start2 = (await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(h.db)).rows[0]!.now;
    const fetched2 = (await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(h.db)).rows[0]!.now;
    await upsertEntityFromWebhook(h.db, { workspaceId: w, entityType: 'tag', entityId: 'd' }, { id: 'd' }, 'NEW_TAG');
    await upsertEntityFromWebhook(
      h.db,
      { workspaceId: w, entityType: 'tag', entityId: 'b' },
      { id: 'b', name: 'renamed' },
      'TAG_UPDATED',
    );
    await upsertEntitiesFromBootstrap(h.db, {
      workspaceId: w,
      entityType: 'tag',
      runId: run2,
      fetchedAt: fetched2,
      entities: [e('a'), e('b'), e('a')],
    });
    const removed = await removeEntitiesNotSeen(h.db, {
      workspaceId: w,
      entityType: 'tag',
      runId: run2,
      resourceStartedAt: start2,
    });
    expect(removed).toBe(1);
    const rows = await listEntities(h.db, w, 'tag');
    expect(rows.map((r) => r.entity_id)).toEqual(['a', 'b', 'd']);
    // b was renamed by a webhook after the page was fetched: the bootstrap kept the newer data.
    expect(rows.find((r) => r.entity_id === 'b')?.data).toEqual({ id: 'b', name: 'renamed' });
  });
});

describe('bootstrap runs', () => {
  it('keeps one active run per workspace and closes it PARTIAL when a resource failed', async () => {
    const k = key();
    const run = await h.db
      .transaction()
      .execute((tx) => createBootstrapRun(tx, { ...k, trigger: 'install', jobId: 'j', resources: ['users', 'tags'] }));
    expect(run).toBeDefined();
    expect(
      await h.db
        .transaction()
        .execute((tx) => createBootstrapRun(tx, { ...k, trigger: 'manual', jobId: 'j2', resources: [] })),
    ).toBeUndefined();
    await finishBootstrapResource(h.db, { runId: run!.id, resource: 'users', status: 'COMPLETED' });
    expect(await h.db.transaction().execute((tx) => finalizeBootstrapRunIfDone(tx, run!.id))).toBeUndefined();
    await finishBootstrapResource(h.db, {
      runId: run!.id,
      resource: 'tags',
      status: 'FAILED',
      error: 'needs TAG_READ',
      missingScope: 'TAG_READ',
    });
    const results = await Promise.all(
      [1, 2, 3].map(() => h.db.transaction().execute((tx) => finalizeBootstrapRunIfDone(tx, run!.id))),
    );
    expect(results.filter(Boolean)).toEqual(['PARTIAL']);
  });
});
