import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ensureWebhookEventPartition,
  getEntity,
  migrateToLatest,
  openDatabase,
  sql,
  upsertEntityFromWebhook,
  type DatabaseHandle,
  type DeliveryRef,
  type FirstClaimInput,
} from '@cap/db';
import { Metrics, createLogger } from '@cap/observability';
import { settingsView, type HandlerContext } from '@cap/addon';
import { createTestDatabase, type TestDatabase } from '@cap/testing';
import { DeliveryGroups, type GroupOutcome, type GroupedDelivery } from '../src/webhooks/delivery-groups.js';

const ADDON = 'addon-groups';
const VERSION = { lastSeq: 1, statusSeq: 1, settingsSeq: 1 };
let testDb: TestDatabase;
let handle: DatabaseHandle;
let metrics: Metrics;
let workspace = 0;
let workspaceId = '';

const db = () => handle.db;

beforeAll(async () => {
  testDb = await createTestDatabase('groups');
  handle = await openDatabase({ url: testDb.url, dataDir: '/unused', poolMax: 6 });
  await migrateToLatest(handle.db);
  await ensureWebhookEventPartition(handle.db, new Date());
  // A constraint checked only at COMMIT, to make a whole group fail there.
  await sql`CREATE TABLE group_parent (id int PRIMARY KEY)`.execute(handle.db);
  await sql`CREATE TABLE group_child (id int REFERENCES group_parent DEFERRABLE INITIALLY DEFERRED)`.execute(handle.db);
});
afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

beforeEach(async () => {
  // Every test writes into a workspace of its own.
  workspaceId = `ws-groups-${++workspace}`;
  await sql`INSERT INTO installations (workspace_id, addon_id, status, last_seq, status_seq, settings_seq)
    VALUES (${workspaceId}, ${ADDON}, 'ACTIVE', 1, 1, 1)`.execute(db());
  metrics = new Metrics({ app: 'test', defaultMetrics: false });
});

function groups(opts: { maxSize: number; maxParallel: number }): DeliveryGroups {
  return new DeliveryGroups(db(), { ...opts, logger: silent, metrics });
}

function claimOf(n: number, opts: { key?: string; version?: typeof VERSION } = {}): FirstClaimInput {
  const now = Date.now();
  const ref: DeliveryRef = {
    deliveryKey: opts.key ?? `${workspaceId}-delivery-${n}`,
    windowStart: new Date(now - (now % 300_000)),
    workspaceId,
    addonId: ADDON,
    event: 'NEW_TAG',
    receivedAt: new Date(now),
    entityId: `tag-${n}`,
    jobId: `job-${n}`,
  };
  return { ref, addonId: ADDON, version: opts.version ?? VERSION, tokenCheck: 'matched', windowSeconds: 300 };
}

const silent = createLogger({ name: 'test', level: 'silent' });

/** The call of a handler that does `fn` with its context. */
function handled(fn: (ctx: HandlerContext) => Promise<void> | void): GroupedDelivery['invocation'] {
  return {
    handler: (_body, ctx) => fn(ctx),
    event: 'NEW_TAG',
    body: {},
    workspaceId,
    addonId: ADDON,
    bodyKind: 'full',
    deliveryKey: 'k'.repeat(64),
    attempt: 1,
    receivedAt: new Date(),
    settings: settingsView([]),
    api: () => {
      throw new Error('no Clockify API in this test');
    },
    logger: () => silent,
  };
}

/** A handler that mirrors tag `n` (through `ctx.mirror`, as handlers do) and counts its runs. */
function mirrorTag(n: number, runs: Map<number, number>, data: Record<string, unknown> = { id: `tag-${n}` }) {
  return handled((ctx) => {
    runs.set(n, (runs.get(n) ?? 0) + 1);
    ctx.mirror.created('tag', `tag-${n}`, data);
  });
}

/** The same, written at once through the transaction instead. */
function mirrorTagNow(n: number, runs: Map<number, number>) {
  return handled(async (ctx) => {
    runs.set(n, (runs.get(n) ?? 0) + 1);
    await upsertEntityFromWebhook(
      ctx.tx,
      { workspaceId, entityType: 'tag', entityId: `tag-${n}` },
      { id: `tag-${n}` },
      'NEW_TAG',
    );
  });
}

async function doneRows(): Promise<number> {
  const row = await db()
    .selectFrom('webhook_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('status', '=', 'done')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function entityCount(): Promise<number> {
  const row = await db()
    .selectFrom('workspace_entities')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function groupSizes(): Promise<{ groups: number; deliveries: number }> {
  const values = (await metrics.registry.getSingleMetric('webhook_commit_group_size')!.get()).values as {
    metricName?: string;
    value: number;
  }[];
  const count = values.find((v) => v.metricName === 'webhook_commit_group_size_count')?.value ?? 0;
  const sum = values.find((v) => v.metricName === 'webhook_commit_group_size_sum')?.value ?? 0;
  return { groups: count, deliveries: sum };
}

async function rollbacks(reason: string): Promise<number> {
  const values = (await metrics.registry.getSingleMetric('webhook_commit_group_rollbacks_total')!.get()).values;
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('DeliveryGroups (group commit of webhook deliveries)', () => {
  it('commits deliveries that wait together in fewer transactions, each claim with its effects', async () => {
    const g = groups({ maxSize: 16, maxParallel: 2 });
    const runs = new Map<number, number>();
    const outcomes = await Promise.all(
      // Half of the handlers write through ctx.mirror (applied with the group), half at once.
      Array.from({ length: 40 }, (_, n) =>
        g.commit({ claim: claimOf(n), invocation: n % 2 === 0 ? mirrorTag(n, runs) : mirrorTagNow(n, runs) }),
      ),
    );
    expect(outcomes).toEqual(Array<GroupOutcome>(40).fill('done'));
    expect(await doneRows()).toBe(40);
    expect(await entityCount()).toBe(40);
    expect([...runs.values()].every((r) => r === 1)).toBe(true);
    const sizes = await groupSizes();
    expect(sizes.deliveries).toBe(40);
    // Two groups start at once with the first two deliveries; the rest wait and share groups.
    expect(sizes.groups).toBeLessThanOrEqual(6);
    expect(g.pending).toBe(0);
  });

  it('never lets two groups in flight write the same entity, and commits its changes in order', async () => {
    const g = groups({ maxSize: 4, maxParallel: 2 });
    const order: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let sameEntityInFlight = 0;
    let maxSameEntityInFlight = 0;
    const slow = async (sameEntity: boolean, n: number) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (sameEntity) {
        sameEntityInFlight++;
        maxSameEntityInFlight = Math.max(maxSameEntityInFlight, sameEntityInFlight);
        order.push(n);
      }
      // A slow handler, so that groups overlap.
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (sameEntity) sameEntityInFlight--;
      inFlight--;
    };
    const outcomes = await Promise.all(
      Array.from({ length: 24 }, (_, n) => {
        // Every third delivery is about tag "shared"; the others each about a tag of their own.
        const sameEntity = n % 3 === 0;
        const claim = claimOf(n);
        return g.commit({
          claim: { ...claim, ref: { ...claim.ref, entityId: sameEntity ? 'shared' : `tag-${n}` } },
          invocation: handled(() => slow(sameEntity, n)),
        });
      }),
    );
    expect(outcomes).toEqual(Array<GroupOutcome>(24).fill('done'));
    expect(maxInFlight).toBeGreaterThanOrEqual(2); // groups did overlap
    expect(maxSameEntityInFlight).toBe(1);
    expect(order).toEqual([0, 3, 6, 9, 12, 15, 18, 21]);
  });

  it('a failing handler fails only its delivery; the others run again in the next group and commit once', async () => {
    const g = groups({ maxSize: 16, maxParallel: 1 });
    const runs = new Map<number, number>();
    const deliveries = Array.from({ length: 10 }, (_, n) =>
      g.commit({
        claim: claimOf(n),
        invocation:
          n === 4
            ? handled(() => {
                throw new Error('handler 4 fails on purpose');
              })
            : mirrorTag(n, runs),
      }),
    );
    const settled = await Promise.allSettled(deliveries);
    expect(settled[4]).toMatchObject({ status: 'rejected', reason: { message: 'handler 4 fails on purpose' } });
    for (const [n, s] of settled.entries()) if (n !== 4) expect(s).toEqual({ status: 'fulfilled', value: 'done' });
    expect(await doneRows()).toBe(9);
    expect(await entityCount()).toBe(9);
    expect(await rollbacks('handler')).toBeGreaterThanOrEqual(1);
    // Every delivery that shared the failed group ran a second time; none committed twice.
    expect([...runs.values()].some((r) => r === 2)).toBe(true);
    const rows = await db()
      .selectFrom('webhook_events')
      .select(['delivery_key', 'status'])
      .where('workspace_id', '=', workspaceId)
      .execute();
    expect(rows.map((r) => r.delivery_key)).not.toContain(`${workspaceId}-delivery-4`);
  });

  it('a group that fails at COMMIT hands every delivery back to run alone, and nothing of it stays', async () => {
    const g = groups({ maxSize: 16, maxParallel: 1 });
    const runs = new Map<number, number>();
    const blocker = g.commit({ claim: claimOf(100), invocation: mirrorTag(100, runs) });
    const outcomes = Promise.all(
      Array.from({ length: 6 }, (_, n) =>
        g.commit({
          claim: claimOf(n),
          invocation:
            n === 2
              ? handled(async (ctx) => {
                  await sql`INSERT INTO group_child (id) VALUES (999)`.execute(ctx.tx); // no parent: fails at COMMIT
                })
              : mirrorTag(n, runs),
        }),
      ),
    );
    expect(await blocker).toBe('done');
    expect(await outcomes).toEqual(Array<GroupOutcome>(6).fill('alone'));
    expect(await rollbacks('group')).toBe(1);
    expect(await doneRows()).toBe(1);
    expect(await entityCount()).toBe(1);
  });

  it('a group whose mirror writes fail hands every delivery back to run alone, and nothing of it stays', async () => {
    const g = groups({ maxSize: 16, maxParallel: 1 });
    const runs = new Map<number, number>();
    const blocker = g.commit({ claim: claimOf(100), invocation: mirrorTag(100, runs) });
    const outcomes = Promise.all(
      Array.from({ length: 5 }, (_, n) =>
        // Postgres refuses \u0000 in jsonb: the one statement for the group's writes fails.
        g.commit({ claim: claimOf(n), invocation: mirrorTag(n, runs, n === 3 ? { id: 'bad\u0000' } : undefined) }),
      ),
    );
    expect(await blocker).toBe('done');
    expect(await outcomes).toEqual(Array<GroupOutcome>(5).fill('alone'));
    expect(await rollbacks('group')).toBe(1);
    expect(await rollbacks('handler')).toBe(0);
    expect(await doneRows()).toBe(1);
    expect(await entityCount()).toBe(1);
  });

  it('treats a deadlock or serialization failure in a handler as the whole group’s', async () => {
    const g = groups({ maxSize: 16, maxParallel: 1 });
    const runs = new Map<number, number>();
    const blocker = g.commit({ claim: claimOf(100), invocation: mirrorTag(100, runs) });
    const outcomes = Promise.all([
      g.commit({ claim: claimOf(1), invocation: mirrorTag(1, runs) }),
      g.commit({
        claim: claimOf(2),
        invocation: handled(() => {
          throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
        }),
      }),
    ]);
    await blocker;
    expect(await outcomes).toEqual(['alone', 'alone']);
    expect(await rollbacks('group')).toBe(1);
    expect(await rollbacks('handler')).toBe(0);
  });

  it('leaves to the single path: the same delivery twice, a stale installation, a row that exists', async () => {
    const g = groups({ maxSize: 16, maxParallel: 1 });
    const runs = new Map<number, number>();
    const blocker = g.commit({ claim: claimOf(100), invocation: mirrorTag(100, runs) });
    const [first, twice, stale] = await Promise.all([
      g.commit({ claim: claimOf(1), invocation: mirrorTag(1, runs) }),
      g.commit({ claim: claimOf(1), invocation: mirrorTag(1, runs) }),
      g.commit({ claim: claimOf(2, { version: { ...VERSION, statusSeq: 2 } }), invocation: mirrorTag(2, runs) }),
    ]);
    await blocker;
    expect([first, twice, stale]).toEqual(['done', 'alone', 'alone']);
    expect(runs.get(1)).toBe(1);
    expect(runs.get(2)).toBeUndefined();
    expect(await getEntity(db(), { workspaceId, entityType: 'tag', entityId: 'tag-2' })).toBeUndefined();

    // A retry of a delivery whose row exists (done here) is not claimed by a group either.
    expect(await g.commit({ claim: claimOf(1), invocation: mirrorTag(1, runs) })).toBe('alone');
    expect(runs.get(1)).toBe(1);
  });
});
