import { afterAll, beforeAll, expect } from 'vitest';
import { getBootstrapResources, type BootstrapResource, type BootstrapRun } from '@cap/db';
import { startOwnRedis, waitFor, type AppProcess, type OwnRedis } from '@cap/testing';
import { startStack, type Stack } from '../stack.js';

/**
 * The set-up the bootstrap fault tests share: a stack without a worker on a redis-server of the
 * file's own (killed workers leave nothing behind on the shared one), a mock API slowed by
 * `latencyMs` so a bootstrap is still running when a worker is stopped, and worker processes
 * (the built dist) that hand a dead worker's jobs on quickly.
 */
export function useBootstrapFaultStack(opts: {
  readonly sizes: Record<string, number>;
  readonly latencyMs: number;
  readonly workerEnv?: Record<string, string>;
}): { readonly stack: () => Stack; readonly worker: () => AppProcess } {
  let s: Stack | undefined;
  let redis: OwnRedis | undefined;
  beforeAll(async () => {
    redis = await startOwnRedis();
    s = await startStack({ noWorker: true, redisUrl: redis.url, sizes: opts.sizes });
    s.sim.api!.faults.set('*', { latencyMs: opts.latencyMs });
  });
  afterAll(async () => {
    await s?.close();
    await redis?.close();
  });
  const stack = (): Stack => {
    if (!s) throw new Error('the fault stack is not started yet');
    return s;
  };
  return {
    stack,
    worker: () =>
      stack().spawnWorker({
        WORKER_PORT: '0',
        WORKER_LOCK_DURATION_MS: '2000',
        WORKER_STALLED_INTERVAL_MS: '1000',
        ...opts.workerEnv,
      }),
  };
}

/** Waits until the stack's latest run is RUNNING and `ready` says its resources went far enough. */
export function waitForRunningRun(
  s: Stack,
  ready: (resources: BootstrapResource[]) => boolean,
  message: string,
): Promise<BootstrapRun> {
  return waitFor(
    async () => {
      const r = await s.latestRun();
      if (!r || r.status !== 'RUNNING') return undefined;
      return ready(await getBootstrapResources(s.ingress.context.database.db, r.id)) ? r : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 20, message },
  );
}

/** Asserts no entity of the stack's workspace has two mirror rows. */
export async function expectEntityRowsUnique(s: Stack): Promise<void> {
  const rows = await s.ingress.context.database.db
    .selectFrom('workspace_entities')
    .select(['entity_type', 'entity_id'])
    .where('workspace_id', '=', s.workspaceId)
    .execute();
  expect(new Set(rows.map((r) => `${r.entity_type}/${r.entity_id}`)).size).toBe(rows.length);
}

/**
 * Requests the mock answered for the workspace that no committed page of the run counts (the
 * pages in flight when a worker died), with the run's resources.
 */
export async function requestsOutsideCommittedPages(
  s: Stack,
  runId: string,
): Promise<{ lost: number; resources: BootstrapResource[] }> {
  const resources = await getBootstrapResources(s.ingress.context.database.db, runId);
  const counted = resources.reduce((n, x) => n + x.requests, 0);
  const stats = s.sim.api!.stats.snapshot();
  // The read of the installation's settings that follows INSTALLED is no page of the run.
  const settingsReads = stats.byOperation.addonGetSettings ?? 0;
  return { lost: stats.byWorkspace[s.workspaceId]!.total - settingsReads - counted, resources };
}
