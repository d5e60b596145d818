import {
  failUnfinishedBootstrapResources,
  getBootstrapResources,
  listActiveBootstrapRuns,
  type BootstrapRunStatus,
} from '@cap/db';
import { JOBS, enqueue } from '@cap/queue';
import type { WorkerDeps } from '../deps.js';
import { PARENT_LISTING_JOBS, RESOURCES, isResourceName } from './resources.js';

/**
 * What the bootstrap's jobs share about a run: the ids and enqueueing of its resource jobs, the
 * count of ended runs, and the check that ends runs no job will move again. Not a job: the start
 * and resource jobs and the maintenance job use it, and import no job file.
 */

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
