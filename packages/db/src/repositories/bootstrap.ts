import { sql, type Kysely, type Transaction } from 'kysely';
import type {
  BootstrapResource,
  BootstrapRun,
  BootstrapRunStatus,
  BootstrapTrigger,
  Database,
} from '../tables/index.js';
import type { InstallationKey } from './installations.js';

type Db = Kysely<Database> | Transaction<Database>;

export const ACTIVE_RUN_STATUSES: readonly BootstrapRunStatus[] = ['PENDING', 'RUNNING', 'PAUSED'];

/**
 * Creates a run with one PENDING row per resource, unless the workspace already has an active
 * run (at most one, enforced by a partial unique index). Returns the new run, or undefined.
 */
export async function createBootstrapRun(
  tx: Transaction<Database>,
  input: InstallationKey & { trigger: BootstrapTrigger; jobId: string | null; resources: readonly string[] },
): Promise<BootstrapRun | undefined> {
  const run = await tx
    .insertInto('bootstrap_runs')
    .values({
      workspace_id: input.workspaceId,
      addon_id: input.addonId,
      status: 'RUNNING',
      trigger: input.trigger,
      job_id: input.jobId,
      error: null,
      started_at: sql<Date>`now()`,
    })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'addon_id']).where('status', 'in', ['PENDING', 'RUNNING', 'PAUSED']).doNothing(),
    )
    .returningAll()
    .executeTakeFirst();
  if (!run) return undefined;
  if (input.resources.length > 0) {
    await tx
      .insertInto('bootstrap_resources')
      .values(
        input.resources.map((resource) => ({
          run_id: run.id,
          resource,
          status: 'PENDING' as const,
          error: null,
          missing_scope: null,
        })),
      )
      .execute();
  }
  return run;
}

export async function getActiveBootstrapRun(db: Db, key: InstallationKey): Promise<BootstrapRun | undefined> {
  return db
    .selectFrom('bootstrap_runs')
    .selectAll()
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .where('status', 'in', ACTIVE_RUN_STATUSES)
    .executeTakeFirst();
}

/** Every run still PENDING, RUNNING or PAUSED (for the stranded-run check). */
export async function listActiveBootstrapRuns(db: Db): Promise<BootstrapRun[]> {
  return db.selectFrom('bootstrap_runs').selectAll().where('status', 'in', ACTIVE_RUN_STATUSES).execute();
}

/**
 * Locks the run against a concurrent status change for the rest of `tx` (FOR SHARE) and says
 * whether it is still active: a page is committed only into a run that is.
 */
export async function lockRunIfActive(tx: Transaction<Database>, runId: string): Promise<boolean> {
  const current = await tx
    .selectFrom('bootstrap_runs')
    .select('status')
    .where('id', '=', runId)
    .forShare()
    .executeTakeFirst();
  return !!current && ACTIVE_RUN_STATUSES.includes(current.status);
}

/** The database's clock now (`clock_timestamp()`): the time a listing was fetched, on the rows' clock. */
export async function databaseNow(db: Db): Promise<Date> {
  return (await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(db)).rows[0]!.now;
}

export async function getBootstrapRun(db: Db, runId: string): Promise<BootstrapRun | undefined> {
  return db.selectFrom('bootstrap_runs').selectAll().where('id', '=', runId).executeTakeFirst();
}

export async function listBootstrapRuns(db: Db, key: InstallationKey, limit = 10): Promise<BootstrapRun[]> {
  return db
    .selectFrom('bootstrap_runs')
    .selectAll()
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .orderBy('created_at', 'desc')
    .limit(Math.min(limit, 100))
    .execute();
}

export async function getBootstrapResources(db: Db, runId: string): Promise<BootstrapResource[]> {
  return db.selectFrom('bootstrap_resources').selectAll().where('run_id', '=', runId).orderBy('resource').execute();
}

export async function getBootstrapResource(
  db: Db,
  runId: string,
  resource: string,
): Promise<BootstrapResource | undefined> {
  return db
    .selectFrom('bootstrap_resources')
    .selectAll()
    .where('run_id', '=', runId)
    .where('resource', '=', resource)
    .executeTakeFirst();
}

/** Fails every active run of an installation (uninstall); resource jobs stop at their next page. */
export async function cancelActiveBootstrapRuns(db: Db, key: InstallationKey, reason: string): Promise<number> {
  const result = await db
    .updateTable('bootstrap_runs')
    .set({ status: 'FAILED', error: reason, finished_at: sql`now()`, updated_at: sql`now()`, paused_until: null })
    .where('workspace_id', '=', key.workspaceId)
    .where('addon_id', '=', key.addonId)
    .where('status', 'in', ACTIVE_RUN_STATUSES)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function markResourceRunning(db: Db, runId: string, resource: string): Promise<void> {
  await db
    .updateTable('bootstrap_resources')
    .set({ status: 'RUNNING', started_at: sql`coalesce(started_at, now())`, updated_at: sql`now()` })
    .where('run_id', '=', runId)
    .where('resource', '=', resource)
    .where('status', 'in', ['PENDING', 'PAUSED', 'RUNNING'])
    .execute();
  await db
    .updateTable('bootstrap_runs')
    .set({ status: 'RUNNING', paused_until: null, updated_at: sql`now()` })
    .where('id', '=', runId)
    .where('status', 'in', ['PENDING', 'PAUSED'])
    .execute();
}

/** Saves a committed page: the cursor to resume from and the counters. */
export async function saveBootstrapPage(
  tx: Transaction<Database>,
  input: {
    runId: string;
    resource: string;
    cursor: Record<string, unknown>;
    items: number;
    requests: number;
    pages: number;
  },
): Promise<void> {
  await tx
    .updateTable('bootstrap_resources')
    .set({
      cursor: JSON.stringify(input.cursor),
      items: sql`items + ${input.items}`,
      requests: sql`requests + ${input.requests}`,
      pages: sql`pages + ${input.pages}`,
      updated_at: sql`now()`,
    })
    .where('run_id', '=', input.runId)
    .where('resource', '=', input.resource)
    .execute();
}

export async function finishBootstrapResource(
  db: Db,
  input: { runId: string; resource: string; status: 'COMPLETED' | 'FAILED'; error?: string; missingScope?: string },
): Promise<void> {
  await db
    .updateTable('bootstrap_resources')
    .set({
      status: input.status,
      error: input.error?.slice(0, 2000) ?? null,
      missing_scope: input.missingScope ?? null,
      finished_at: sql`now()`,
      updated_at: sql`now()`,
    })
    .where('run_id', '=', input.runId)
    .where('resource', '=', input.resource)
    .where('status', 'not in', ['COMPLETED', 'FAILED'])
    .execute();
}

/**
 * Ends an active run whose jobs cannot close it any more (a job failed for good before it could
 * close its resource): every resource not finished yet is FAILED with `error`, then the run
 * closes as PARTIAL or FAILED. Returns the run's final status, or undefined when it had already
 * ended.
 */
export async function failUnfinishedBootstrapResources(
  tx: Transaction<Database>,
  input: { runId: string; error: string; resources?: readonly string[] },
): Promise<BootstrapRunStatus | undefined> {
  let q = tx
    .updateTable('bootstrap_resources')
    .set({ status: 'FAILED', error: input.error.slice(0, 2000), finished_at: sql`now()`, updated_at: sql`now()` })
    .where('run_id', '=', input.runId)
    .where('status', 'not in', ['COMPLETED', 'FAILED']);
  if (input.resources) {
    if (input.resources.length === 0) return finalizeBootstrapRunIfDone(tx, input.runId);
    q = q.where('resource', 'in', input.resources);
  }
  await q.execute();
  return finalizeBootstrapRunIfDone(tx, input.runId);
}

/** Marks the run and a resource PAUSED until the quota comes back. */
export async function pauseBootstrap(
  db: Db,
  input: { runId: string; resource: string; until: Date; reason: string },
): Promise<void> {
  await db
    .updateTable('bootstrap_runs')
    .set({ status: 'PAUSED', paused_until: input.until, error: input.reason, updated_at: sql`now()` })
    .where('id', '=', input.runId)
    .where('status', 'in', ['RUNNING', 'PENDING', 'PAUSED'])
    .execute();
  await db
    .updateTable('bootstrap_resources')
    .set({ status: 'PAUSED', updated_at: sql`now()` })
    .where('run_id', '=', input.runId)
    .where('resource', '=', input.resource)
    .where('status', 'in', ['RUNNING', 'PENDING'])
    .execute();
}

/**
 * When every resource is finished, closes the run: COMPLETED, or PARTIAL when some resource
 * failed. Serialised on the run row, so two resources finishing at once close it once.
 */
export async function finalizeBootstrapRunIfDone(
  tx: Transaction<Database>,
  runId: string,
): Promise<BootstrapRunStatus | undefined> {
  const run = await tx
    .selectFrom('bootstrap_runs')
    .select('status')
    .where('id', '=', runId)
    .forUpdate()
    .executeTakeFirst();
  if (!run || !ACTIVE_RUN_STATUSES.includes(run.status)) return undefined;
  const resources = await tx.selectFrom('bootstrap_resources').select(['status']).where('run_id', '=', runId).execute();
  if (resources.some((r) => r.status !== 'COMPLETED' && r.status !== 'FAILED')) return undefined;
  const failed = resources.filter((r) => r.status === 'FAILED').length;
  const status: BootstrapRunStatus = failed === 0 ? 'COMPLETED' : failed === resources.length ? 'FAILED' : 'PARTIAL';
  await tx
    .updateTable('bootstrap_runs')
    .set({
      status,
      finished_at: sql`now()`,
      updated_at: sql`now()`,
      paused_until: null,
      error: failed > 0 ? `${failed} of ${resources.length} resources failed` : null,
    })
    .where('id', '=', runId)
    .execute();
  return status;
}

export interface BootstrapProgress {
  readonly run: BootstrapRun;
  readonly resources: BootstrapResource[];
  readonly totals: { resources: number; finished: number; pages: number; items: number; requests: number };
}

export async function bootstrapProgress(db: Db, runId: string): Promise<BootstrapProgress | undefined> {
  const run = await getBootstrapRun(db, runId);
  if (!run) return undefined;
  const resources = await getBootstrapResources(db, runId);
  return {
    run,
    resources,
    totals: {
      resources: resources.length,
      finished: resources.filter((r) => r.status === 'COMPLETED' || r.status === 'FAILED').length,
      pages: resources.reduce((n, r) => n + r.pages, 0),
      items: resources.reduce((n, r) => n + r.items, 0),
      requests: resources.reduce((n, r) => n + r.requests, 0),
    },
  };
}

/** Retention: drops finished runs (and their resource rows) that ended before `cutoff`. */
export async function deleteFinishedBootstrapRunsBefore(db: Db, cutoff: Date): Promise<number> {
  const result = await db
    .deleteFrom('bootstrap_runs')
    .where('status', 'not in', ACTIVE_RUN_STATUSES)
    .where('finished_at', '<', cutoff)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
