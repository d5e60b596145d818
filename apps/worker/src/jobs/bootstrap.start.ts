import type { Job } from 'bullmq';
import { settingsView } from '@cap/addon';
import {
  createBootstrapRun,
  failUnfinishedBootstrapResources,
  finalizeBootstrapRunIfDone,
  getActiveBootstrapRun,
  getBootstrapResources,
  getInstallation,
  listActiveBootstrapRuns,
  type BootstrapRunStatus,
} from '@cap/db';
import { JOBS, enqueue, parsePayload } from '@cap/queue';
import { PARENT_LISTING_JOBS, RESOURCES, isResourceName, isRoot, resourcesFor } from '../bootstrap/resources.js';
import type { WorkerDeps } from '../deps.js';

/** The job id of a resource job: deterministic, so a retried start or parent enqueues it once. */
export function resourceJobId(runId: string, resource: string): string {
  return `bootstrap-${runId}-${resource}`;
}

/**
 * Enqueues the jobs of one resource: one, or PARENT_LISTING_JOBS for a per-parent listing. Their
 * ids are deterministic, so a retried start or parent enqueues each once.
 */
export async function enqueueResourceJobs(
  deps: WorkerDeps,
  runId: string,
  key: { workspaceId: string; addonId: string },
  resource: string,
): Promise<void> {
  for (const jobId of resourceJobIds(runId, resource)) {
    await enqueue(deps.queues, JOBS.bootstrapResource, { v: 1, runId, ...key, resource }, { jobId });
  }
}

/** Every job id a resource of a run may have (one, or one per parallel per-parent job). */
export function resourceJobIds(runId: string, resource: string): string[] {
  const jobs = isResourceName(resource) && RESOURCES[resource].kind === 'per-parent' ? PARENT_LISTING_JOBS : 1;
  const id = resourceJobId(runId, resource);
  return Array.from({ length: jobs }, (_, i) => (i === 0 ? id : `${id}-${i + 1}`));
}

/** Counts a run that just ended (`bootstrap_runs_total{status}`); no-op when nothing closed. */
export function countRun(deps: WorkerDeps, status: BootstrapRunStatus | undefined): void {
  if (!status) return;
  deps.metrics
    .counter('bootstrap_runs_total', 'Bootstrap runs that ended, by final status', ['status'])
    .inc({ status });
}

export type StartOutcome =
  | { status: 'started'; runId: string; resources: string[] }
  | { status: 'joined'; runId: string }
  | { status: 'skipped'; reason: string };

/**
 * Starts a bootstrap run: one row per resource and one job per root resource (dependent ones,
 * tasks and time entries, are enqueued when their parent list is complete). At most one active
 * run per workspace: a second request joins the active run.
 */
export async function processBootstrapStart(deps: WorkerDeps, job: Job): Promise<StartOutcome> {
  const p = parsePayload(JOBS.bootstrapStart, job.data);
  const key = { workspaceId: p.workspaceId, addonId: p.addonId };
  const log = deps.logger.child({ ...key, trigger: p.trigger, jobId: job.id });
  const installation = await getInstallation(deps.db, key);
  if (!installation || installation.status !== 'ACTIVE') {
    log.info({ status: installation?.status ?? 'missing' }, 'bootstrap skipped: installation not active');
    return { status: 'skipped', reason: `installation is ${installation?.status ?? 'missing'}` };
  }
  const include = deps.addon.bootstrap?.include;
  const context = { workspaceId: p.workspaceId, ...settingsView(installation.settings, deps.addon.settings) };
  const resources = resourcesFor(deps.addon.scopes, include ? (name) => include(name, context) : undefined);
  const created = await deps.db
    .transaction()
    .execute(async (tx) => {
      const run = await createBootstrapRun(tx, { ...key, trigger: p.trigger, jobId: job.id ?? null, resources });
      const closed = run ? await finalizeBootstrapRunIfDone(tx, run.id) : undefined;
      return { run, closed };
    })
    .then(({ run, closed }) => {
      countRun(deps, closed);
      return run;
    });
  let runId: string;
  if (created) {
    runId = created.id;
  } else {
    const active = await getActiveBootstrapRun(deps.db, key);
    if (!active) throw new Error('could not create a bootstrap run and none is active; retrying');
    if (active.job_id !== job.id) {
      log.info({ runId: active.id }, 'a bootstrap is already running for this workspace; joined it');
      return { status: 'joined', runId: active.id };
    }
    // A retry of the job that created the run (it died before enqueueing): resume it.
    runId = active.id;
  }
  const rows = await getBootstrapResources(deps.db, runId);
  const names = rows.map((r) => r.resource);
  for (const row of rows) {
    if (row.status !== 'PENDING' || !isRoot(row.resource as never, names)) continue;
    await enqueueResourceJobs(deps, runId, key, row.resource);
  }
  log.info({ runId, resources: names }, 'bootstrap started');
  return { status: 'started', runId, resources: names };
}

/**
 * A start job failed for good after it created its run (it died before enqueueing every root
 * resource, and every retry failed too): the run would stay active for ever and every later
 * bootstrap of the workspace would join it. Its unfinished resources fail and the run ends.
 */
export async function failRunOfExhaustedStart(deps: WorkerDeps, job: Job, error: Error): Promise<void> {
  let p;
  try {
    p = parsePayload(JOBS.bootstrapStart, job.data);
  } catch {
    return;
  }
  const key = { workspaceId: p.workspaceId, addonId: p.addonId };
  const active = await getActiveBootstrapRun(deps.db, key);
  if (!active || active.job_id !== job.id) return;
  const closed = await deps.db.transaction().execute((tx) =>
    failUnfinishedBootstrapResources(tx, {
      runId: active.id,
      error: `the start job failed for good: ${error.message}`,
    }),
  );
  countRun(deps, closed);
  deps.logger.warn({ ...key, runId: active.id }, 'bootstrap start job failed for good; run ended');
}

/** Job states in which a job will still run. */
const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** An active run with no progress for this long is checked for jobs left in the queue. */
export const STRANDED_AFTER_MS = 15 * 60_000;

/**
 * Ends active runs that no job will ever move again: no progress for STRANDED_AFTER_MS and none
 * of their jobs (the start job, the jobs of every unfinished resource) waiting, delayed or
 * running — e.g. the jobs were lost with Redis's data. Without this the run would stay active
 * for ever and every later bootstrap of the workspace would join it. Runs PAUSED until a time
 * still to come are left alone. Returns the ids of the runs it ended.
 */
export async function failStrandedRuns(deps: WorkerDeps): Promise<string[]> {
  const now = deps.now().getTime();
  const runs = await listActiveBootstrapRuns(deps.db);
  const ended: string[] = [];
  for (const run of runs) {
    if (run.status === 'PAUSED' && run.paused_until && run.paused_until.getTime() > now) continue;
    const resources = await getBootstrapResources(deps.db, run.id);
    const lastProgress = Math.max(run.updated_at.getTime(), ...resources.map((r) => r.updated_at.getTime()));
    if (now - lastProgress < STRANDED_AFTER_MS) continue;
    const ids = [
      ...(run.job_id ? [run.job_id] : []),
      ...resources
        .filter((r) => r.status !== 'COMPLETED' && r.status !== 'FAILED')
        .flatMap((r) => resourceJobIds(run.id, r.resource)),
    ];
    let live = false;
    for (const id of ids) {
      const job = await deps.queues.bootstrap.getJob(id);
      if (job && LIVE_STATES.has(await job.getState())) {
        live = true;
        break;
      }
    }
    if (live) continue;
    const closed = await deps.db.transaction().execute((tx) =>
      failUnfinishedBootstrapResources(tx, {
        runId: run.id,
        error: 'no job of this run is left in the queue (lost with Redis data?); a new bootstrap can start',
      }),
    );
    countRun(deps, closed);
    deps.logger.warn(
      { workspaceId: run.workspace_id, addonId: run.addon_id, runId: run.id },
      'bootstrap run had no job left in the queue; ended',
    );
    ended.push(run.id);
  }
  return ended;
}
