import { DelayedError, type Job } from 'bullmq';
import { ClockifyPermissionError, type ClockifyClient } from '@cap/clockify';
import {
  ACTIVE_RUN_STATUSES,
  claimParent,
  databaseNow,
  finalizeBootstrapRunIfDone,
  failUnfinishedBootstrapResources,
  finishBootstrapResource,
  getBootstrapResource,
  getBootstrapResources,
  getBootstrapRun,
  getInstallation,
  lockRunIfActive,
  markResourceRunning,
  pauseBootstrap,
  removeEntitiesNotSeen,
  saveBootstrapPage,
  saveParentPage,
  upsertEntitiesFromBootstrap,
  type BootstrapResource,
  type Database,
  type Transaction,
} from '@cap/db';
import { JOBS, parsePayload } from '@cap/queue';
import {
  RESOURCES,
  dependentsOf,
  isResourceName,
  timeWindow,
  type Fetched,
  type ResourceName,
  type ResourceSpec,
  type TimeWindow,
} from './resources.js';
import {
  InstallationUnusableError,
  createInstallationClient,
  rateLimitWaitMs,
  retryEarlyUnauthorized,
} from '../clockify.js';
import type { WorkerDeps } from '../deps.js';
import { isInfrastructureError } from '../runtime/infrastructure-errors.js';
import { countRun, enqueueResourceJobs } from './runs.js';

/**
 * Where a whole or paged listing resumes after a restart: the next page to fetch. Per-parent
 * listings keep a shared cursor of their own (ParentCursor); both have `window` at the top.
 */
interface Cursor {
  page: number;
  window?: TimeWindow;
  startedAt?: string;
}

class RunCancelled extends Error {}

/** The process is shutting down: the job goes back to the queue after the page it committed. */
class StoppingForShutdown extends Error {}

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
  await markResourceRunning(deps.db, p.runId, p.resource);

  let closes: boolean;
  try {
    const api = createInstallationClient(deps, installation);
    closes = await copyResource(deps, job, api, spec, row, p.runId, key.workspaceId);
  } catch (err) {
    if (err instanceof RunCancelled) {
      log.info('bootstrap run was cancelled; resource job stops');
      return 'cancelled';
    }
    if (err instanceof StoppingForShutdown) {
      // Back in the queue at once, without spending an attempt; any worker resumes from the cursor.
      log.info('worker shutting down; resource job handed back after its last committed page');
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    if (err instanceof InstallationUnusableError) {
      // No API URL or no token: retrying cannot help until the next INSTALLED.
      await finishResource(deps, p.runId, key, p.resource, 'FAILED', { error: err.message });
      log.warn({ err: err.message }, 'bootstrap resource failed: installation unusable');
      return 'failed';
    }
    const waitMs = rateLimitWaitMs(err);
    if (waitMs !== undefined) {
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
    await retryEarlyUnauthorized(deps, installation, err, job, token, log);
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
    // The last attempt fails the resource, unless a dependency is away (Postgres, Redis, a
    // deadlock): such a job waits without spending the attempt and must find its resource open.
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade + 1 >= attempts && !isInfrastructureError(err)) {
      await finishResource(deps, p.runId, key, p.resource, 'FAILED', { error: (err as Error).message });
    }
    throw err;
  }
  if (!closes) {
    // One of several jobs of a per-parent listing: the last one to finish closes the resource.
    log.debug('no parent left for this job; another one closes the resource');
    return 'copied';
  }
  await finishResource(deps, p.runId, key, p.resource, 'COMPLETED', {});
  log.info('bootstrap resource completed');
  return 'completed';
}

/**
 * Copies the listing; returns whether this job closes the resource (always, except for a job of a
 * per-parent listing that found nothing left while another one still copies).
 */
async function copyResource(
  deps: WorkerDeps,
  job: Job,
  api: ClockifyClient,
  spec: ResourceSpec,
  row: BootstrapResource,
  runId: string,
  workspaceId: string,
): Promise<boolean> {
  const saved = (row.cursor ?? {}) as Partial<Cursor>;
  const cursor: Cursor = {
    page: typeof saved.page === 'number' ? saved.page : 1,
    window: saved.window ?? timeWindow(deps.now(), deps.config.BOOTSTRAP_TIME_ENTRY_DAYS),
  };
  const pageSize = deps.config.BOOTSTRAP_PAGE_SIZE;
  const maxPages = deps.config.BOOTSTRAP_MAX_PAGES;
  let progress = { pages: row.pages, items: row.items };
  const pageWrites = deps.metrics.histogram(
    'bootstrap_page_write_seconds',
    'Time to commit one bootstrap page (its rows, the cursor and the counters in one transaction)',
    ['resource'],
  );

  /** Commits one page: its rows and, through `save`, the cursor and counters, in one transaction. */
  const commit = async (
    items: readonly Record<string, unknown>[],
    fetchedAt: Date,
    save: (tx: Transaction<Database>) => Promise<void>,
  ) => {
    const endWrite = pageWrites.startTimer({ resource: spec.name });
    await deps.db.transaction().execute(async (tx) => {
      if (!(await lockRunIfActive(tx, runId))) throw new RunCancelled();
      await upsertEntitiesFromBootstrap(tx, {
        workspaceId,
        entityType: spec.entityType,
        runId,
        fetchedAt,
        entities: items.flatMap((item) =>
          typeof item.id === 'string' && item.id ? [{ entityId: item.id, data: item }] : [],
        ),
      });
      await save(tx);
    });
    endWrite();
    progress = { pages: progress.pages + 1, items: progress.items + items.length };
    await job.updateProgress({ resource: spec.name, ...progress }).catch(() => undefined);
  };
  const saveCursor = (next: Cursor, items: number) => (tx: Transaction<Database>) =>
    saveBootstrapPage(tx, { runId, resource: spec.name, cursor: { ...next }, items, requests: 1, pages: 1 });
  const dbNow = () => databaseNow(deps.db);

  if (spec.kind === 'whole') {
    const fetchedAt = await dbNow();
    const items = await spec.fetch(api);
    await commit(items, fetchedAt, saveCursor({ ...cursor, page: 2 }, items.length));
    return true;
  }
  if (spec.kind === 'paged') {
    await walkPages(
      spec.pages(api, cursor.page, pageSize, maxPages),
      dbNow,
      (page, fetchedAt) =>
        commit(page.items, fetchedAt, saveCursor({ ...cursor, page: page.page + 1 }, page.items.length)),
      deps.stopping,
    );
    return true;
  }
  // Per parent: this job takes parents one at a time from the listing's shared cursor; the
  // listing's other jobs take the others (see PARENT_LISTING_JOBS).
  const jobId = job.id ?? `${runId}-${spec.name}`;
  for (;;) {
    if (deps.stopping?.aborted) throw new StoppingForShutdown();
    const claim = await claimParent(deps.db, {
      runId,
      resource: spec.name,
      jobId,
      workspaceId,
      parentEntityType: spec.parentEntityType,
      window: () => cursor.window!,
    });
    if (claim.kind === 'none') return false;
    if (claim.kind === 'finish') return true;
    const { parentId } = claim;
    await walkPages(
      spec.pages(api, parentId, claim.page, pageSize, maxPages, claim.window),
      dbNow,
      (page, fetchedAt) =>
        commit(page.items, fetchedAt, (tx) =>
          saveParentPage(tx, {
            runId,
            resource: spec.name,
            jobId,
            next: page.lastPage ? undefined : { parentId, page: page.page + 1 },
            items: page.items.length,
          }),
        ),
      deps.stopping,
    );
  }
}

/**
 * Drives a page generator, taking the database time before each request for the removal rule.
 * Once `stopping` fires it fetches no further page (the committed ones are in the cursor).
 */
async function walkPages(
  pages: AsyncGenerator<Fetched>,
  dbNow: () => Promise<Date>,
  onPage: (page: Fetched, fetchedAt: Date) => Promise<void>,
  stopping?: AbortSignal,
): Promise<void> {
  for (let first = true; ; first = false) {
    if (!first && stopping?.aborted) throw new StoppingForShutdown();
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
    await enqueueResourceJobs(deps, runId, key, dependent);
  }
}

/**
 * A resource job failed for good: attempts spent, stalled too often (BullMQ fails it without
 * calling the processor), or an error before the copy began. Its resource may never be closed by
 * anyone else, and an unclosed resource keeps the run active for ever, so every later bootstrap
 * and reconciliation of the workspace would join it. The resource fails (with the resources
 * listed per entity of it), the run ends PARTIAL or FAILED, and the next bootstrap can start.
 */
export async function failResourceOfExhaustedJob(deps: WorkerDeps, job: Job, error: Error): Promise<void> {
  let p;
  try {
    p = parsePayload(JOBS.bootstrapResource, job.data);
  } catch {
    return; // nothing in it names a run
  }
  const run = await getBootstrapRun(deps.db, p.runId);
  if (!run || !ACTIVE_RUN_STATUSES.includes(run.status)) return;
  const reason = `the job failed for good: ${error.message}`;
  const key = { workspaceId: p.workspaceId, addonId: p.addonId };
  if (isResourceName(p.resource)) {
    await finishResource(deps, p.runId, key, p.resource, 'FAILED', { error: reason });
  } else {
    const closed = await deps.db
      .transaction()
      .execute((tx) => failUnfinishedBootstrapResources(tx, { runId: p.runId, error: reason }));
    countRun(deps, closed);
  }
  deps.logger.warn(
    { ...key, runId: p.runId, resource: p.resource },
    'bootstrap resource job failed for good; resource failed',
  );
}
