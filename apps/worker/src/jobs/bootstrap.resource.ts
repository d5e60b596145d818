import { DelayedError, type Job } from 'bullmq';
import { ClockifyPermissionError, RateLimitDeferredError, RateLimitedError, type ClockifyClient } from '@cap/clockify';
import {
  ACTIVE_RUN_STATUSES,
  finalizeBootstrapRunIfDone,
  finishBootstrapResource,
  getBootstrapResource,
  getBootstrapResources,
  getBootstrapRun,
  getInstallation,
  markResourceRunning,
  pauseBootstrap,
  removeEntitiesNotSeen,
  saveBootstrapPage,
  sql,
  upsertEntitiesFromBootstrap,
  type BootstrapResource,
} from '@cap/db';
import { JOBS, enqueue, parsePayload } from '@cap/queue';
import {
  RESOURCES,
  dependentsOf,
  isResourceName,
  timeWindow,
  type Fetched,
  type ResourceName,
  type ResourceSpec,
  type TimeWindow,
} from '../bootstrap/resources.js';
import { createInstallationClient } from '../clockify.js';
import type { WorkerDeps } from '../deps.js';
import { countRun, resourceJobId } from './bootstrap.start.js';

/** Where a resource listing resumes after a restart: the next page (and parent) to fetch. */
interface Cursor {
  page: number;
  /** Position in the ordered parent list (per-parent resources). */
  parent?: number;
  window?: TimeWindow;
  startedAt?: string;
}

class RunCancelled extends Error {}

/**
 * Copies one resource page by page. Each page's rows and the cursor commit in one transaction, so
 * a killed worker costs the page in flight; a re-run resumes from the cursor. Long limiter waits
 * re-schedule the job (moveToDelayed + DelayedError) instead of holding a worker slot.
 */
export async function processBootstrapResource(deps: WorkerDeps, job: Job, token: string | undefined): Promise<string> {
  const p = parsePayload(JOBS.bootstrapResource, job.data);
  if (!isResourceName(p.resource)) throw new Error(`unknown bootstrap resource ${p.resource}`);
  const spec = RESOURCES[p.resource];
  const key = { workspaceId: p.workspaceId, addonId: p.addonId };
  const log = deps.logger.child({ ...key, runId: p.runId, resource: p.resource, jobId: job.id });

  const run = await getBootstrapRun(deps.db, p.runId);
  if (!run || !ACTIVE_RUN_STATUSES.includes(run.status)) {
    log.info({ status: run?.status }, 'bootstrap run is no longer active; resource job stops');
    return 'cancelled';
  }
  const row = await getBootstrapResource(deps.db, p.runId, p.resource);
  if (!row) throw new Error(`bootstrap run ${p.runId} has no resource ${p.resource}`);
  if (row.status === 'COMPLETED' || row.status === 'FAILED') {
    // A retry after the finishing transaction committed: make sure dependents were enqueued.
    await afterResourceFinished(deps, p.runId, key, p.resource, row.status);
    return row.status.toLowerCase();
  }

  const installation = await getInstallation(deps.db, key);
  if (!installation || installation.status !== 'ACTIVE' || !installation.auth_token_enc) {
    await finishResource(deps, p.runId, key, p.resource, 'FAILED', { error: 'installation is no longer active' });
    return 'failed';
  }
  const api = createInstallationClient(deps, installation);
  await markResourceRunning(deps.db, p.runId, p.resource);

  try {
    await copyResource(deps, job, api, spec, row, p.runId, key.workspaceId);
  } catch (err) {
    if (err instanceof RunCancelled) {
      log.info('bootstrap run was cancelled; resource job stops');
      return 'cancelled';
    }
    if (err instanceof RateLimitDeferredError || err instanceof RateLimitedError) {
      const waitMs = err instanceof RateLimitDeferredError ? err.retryInMs : err.retryAfterMs;
      const until = new Date(Date.now() + waitMs);
      if (waitMs >= deps.config.BOOTSTRAP_PAUSE_AFTER_MS) {
        await pauseBootstrap(deps.db, {
          runId: p.runId,
          resource: p.resource,
          until,
          reason: `Clockify rate limit: paused until ${until.toISOString()}`,
        });
        log.warn({ until }, 'rate limit quota exhausted; bootstrap paused');
      }
      await job.moveToDelayed(until.getTime(), token);
      throw new DelayedError();
    }
    if (err instanceof ClockifyPermissionError) {
      // The other resources go on; the run ends PARTIAL with the missing scope named.
      const missingScope = err.missingScope ?? spec.scope;
      await finishResource(deps, p.runId, key, p.resource, 'FAILED', {
        error: `Clockify refused the listing (${err.status}): the add-on needs ${missingScope}`,
        missingScope,
      });
      log.warn({ missingScope, status: err.status }, 'bootstrap resource failed: missing permission');
      return 'failed';
    }
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade + 1 >= attempts) {
      await finishResource(deps, p.runId, key, p.resource, 'FAILED', { error: (err as Error).message });
    }
    throw err;
  }
  await finishResource(deps, p.runId, key, p.resource, 'COMPLETED', {});
  log.info('bootstrap resource completed');
  return 'completed';
}

async function copyResource(
  deps: WorkerDeps,
  job: Job,
  api: ClockifyClient,
  spec: ResourceSpec,
  row: BootstrapResource,
  runId: string,
  workspaceId: string,
): Promise<void> {
  const saved = (row.cursor ?? {}) as Partial<Cursor>;
  const cursor: Cursor = {
    page: saved.page ?? 1,
    ...(saved.parent !== undefined ? { parent: saved.parent } : {}),
    window: saved.window ?? timeWindow(deps.now(), deps.config.BOOTSTRAP_TIME_ENTRY_DAYS),
  };
  const pageSize = deps.config.BOOTSTRAP_PAGE_SIZE;
  const maxPages = deps.config.BOOTSTRAP_MAX_PAGES;
  let progress = { pages: row.pages, items: row.items };

  const commit = async (items: readonly Record<string, unknown>[], fetchedAt: Date, next: Cursor, requests: number) => {
    await deps.db.transaction().execute(async (tx) => {
      const current = await tx
        .selectFrom('bootstrap_runs')
        .select('status')
        .where('id', '=', runId)
        .forShare()
        .executeTakeFirst();
      if (!current || !ACTIVE_RUN_STATUSES.includes(current.status)) throw new RunCancelled();
      await upsertEntitiesFromBootstrap(tx, {
        workspaceId,
        entityType: spec.entityType,
        runId,
        fetchedAt,
        entities: items.flatMap((item) =>
          typeof item.id === 'string' && item.id ? [{ entityId: item.id, data: item }] : [],
        ),
      });
      await saveBootstrapPage(tx, {
        runId,
        resource: spec.name,
        cursor: { ...next },
        items: items.length,
        requests,
        pages: 1,
      });
    });
    progress = { pages: progress.pages + 1, items: progress.items + items.length };
    await job.updateProgress({ resource: spec.name, ...progress }).catch(() => undefined);
  };
  const dbNow = async () => (await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(deps.db)).rows[0]!.now;

  if (spec.kind === 'whole') {
    const fetchedAt = await dbNow();
    const items = await spec.fetch(api);
    await commit(items, fetchedAt, { ...cursor, page: 2 }, 1);
    return;
  }
  if (spec.kind === 'paged') {
    await walkPages(spec.pages(api, cursor.page, pageSize, maxPages), dbNow, (page, fetchedAt) =>
      commit(page.items, fetchedAt, { ...cursor, page: page.page + 1 }, 1),
    );
    return;
  }
  // Per parent: the parents this run saw, in a stable order, so a restart finds its place.
  const parents = await deps.db
    .selectFrom('workspace_entities')
    .select('entity_id')
    .where('workspace_id', '=', workspaceId)
    .where('entity_type', '=', spec.parentEntityType)
    .where('seen_run_id', '=', runId)
    .where('deleted', '=', false)
    .orderBy('entity_id')
    .execute();
  for (let index = cursor.parent ?? 0; index < parents.length; index++) {
    const parentId = parents[index]!.entity_id;
    const startPage = index === (cursor.parent ?? 0) ? cursor.page : 1;
    await walkPages(
      spec.pages(api, parentId, startPage, pageSize, maxPages, cursor.window!),
      dbNow,
      (page, fetchedAt) =>
        commit(
          page.items,
          fetchedAt,
          page.lastPage ? { ...cursor, parent: index + 1, page: 1 } : { ...cursor, parent: index, page: page.page + 1 },
          1,
        ),
    );
  }
}

/** Drives a page generator, taking the database time before each request for the removal rule. */
async function walkPages(
  pages: AsyncGenerator<Fetched>,
  dbNow: () => Promise<Date>,
  onPage: (page: Fetched, fetchedAt: Date) => Promise<void>,
): Promise<void> {
  for (;;) {
    const fetchedAt = await dbNow();
    const next = await pages.next();
    if (next.done) return;
    await onPage(next.value, fetchedAt);
    if (next.value.lastPage) return;
  }
}

async function finishResource(
  deps: WorkerDeps,
  runId: string,
  key: { workspaceId: string; addonId: string },
  resource: ResourceName,
  status: 'COMPLETED' | 'FAILED',
  detail: { error?: string; missingScope?: string },
): Promise<void> {
  const spec = RESOURCES[resource];
  await deps.db
    .transaction()
    .execute(async (tx) => {
      if (status === 'COMPLETED') {
        const row = await getBootstrapResource(tx, runId, resource);
        const cursor = (row?.cursor ?? {}) as Partial<Cursor>;
        await removeEntitiesNotSeen(tx, {
          workspaceId: key.workspaceId,
          entityType: spec.entityType,
          runId,
          resourceStartedAt: row?.started_at ?? new Date(0),
          ...(spec.kind === 'per-parent' && spec.windowed && cursor.window ? { timeWindow: cursor.window } : {}),
        });
      }
      await finishBootstrapResource(tx, { runId, resource, status, ...detail });
      if (status === 'FAILED') {
        // Resources that list per entity of this one cannot run without it.
        const names = (await getBootstrapResources(tx, runId)).map((r) => r.resource);
        for (const dependent of dependentsOf(resource, names)) {
          await finishBootstrapResource(tx, {
            runId,
            resource: dependent,
            status: 'FAILED',
            error: `depends on ${resource}, which failed`,
          });
        }
      }
      return finalizeBootstrapRunIfDone(tx, runId);
    })
    .then((closed) => countRun(deps, closed));
  await afterResourceFinished(deps, runId, key, resource, status);
}

async function afterResourceFinished(
  deps: WorkerDeps,
  runId: string,
  key: { workspaceId: string; addonId: string },
  resource: ResourceName,
  status: 'COMPLETED' | 'FAILED',
): Promise<void> {
  countRun(deps, await deps.db.transaction().execute((tx) => finalizeBootstrapRunIfDone(tx, runId)));
  if (status !== 'COMPLETED') return;
  const rows = await getBootstrapResources(deps.db, runId);
  for (const dependent of dependentsOf(
    resource,
    rows.map((r) => r.resource),
  )) {
    if (rows.find((r) => r.resource === dependent)?.status !== 'PENDING') continue;
    await enqueue(
      deps.queues,
      JOBS.bootstrapResource,
      { v: 1, runId, ...key, resource: dependent },
      { jobId: resourceJobId(runId, dependent) },
    );
  }
}
