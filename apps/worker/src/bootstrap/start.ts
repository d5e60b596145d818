import type { Job } from 'bullmq';
import { settingsView } from '@cap/addon';
import {
  createBootstrapRun,
  failUnfinishedBootstrapResources,
  finalizeBootstrapRunIfDone,
  getActiveBootstrapRun,
  getBootstrapResources,
  getInstallation,
} from '@cap/db';
import { JOBS, parsePayload } from '@cap/queue';
import { isRoot, resourcesFor } from './resources.js';
import type { WorkerDeps } from '../deps.js';
import { countRun, enqueueResourceJobs } from './runs.js';

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
