import { describe, expect, it } from 'vitest';
import { getBootstrapResources } from '@cap/db';
import { useBootstrapFaultStack, waitForRunningRun } from './bootstrap-faults.js';

// Slow enough that the bootstrap is still running when the worker is killed.
const fault = useBootstrapFaultStack({
  sizes: { users: 10, projects: 20, tasksPerProject: 5, tags: 40, clients: 10, entries: 1500 },
  latencyMs: 15,
  workerEnv: { BOOTSTRAP_PAGE_SIZE: '10' },
});
const worker = fault.worker;

describe('a worker SIGKILLed mid-bootstrap', () => {
  it('is replaced and the bootstrap completes: rows equal the mock, no duplicates, no 429, at most the pages in flight lost', async () => {
    const s = fault.stack();
    const first = worker();
    await first.waitForLine(/"msg":"worker ready"/);
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    const db = s.ingress.context.database.db;
    // Kill once some pages are committed and the run is still going.
    const run = await waitForRunningRun(
      s,
      (resources) => resources.reduce((n, x) => n + x.pages, 0) >= 8,
      'a bootstrap in progress',
    );
    first.kill('SIGKILL');
    expect(await first.exited).toBe(137);
    const committedAtKill = (await getBootstrapResources(db, run.id)).reduce((n, x) => n + x.pages, 0);

    const second = worker();
    await second.waitForLine(/"msg":"worker ready"/);
    const done = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED'], 120_000);
    expect(done.id).toBe(run.id);
    expect(done.status).toBe('COMPLETED');
    expect(committedAtKill).toBeGreaterThan(0);

    const diff = await s.mirrorDiff();
    expect({ missing: diff.missing, extra: diff.extra, changed: diff.changed }).toEqual({
      missing: [],
      extra: [],
      changed: [],
    });
    const rows = await db
      .selectFrom('workspace_entities')
      .select(['entity_type', 'entity_id'])
      .where('workspace_id', '=', s.workspaceId)
      .execute();
    expect(new Set(rows.map((r) => `${r.entity_type}/${r.entity_id}`)).size).toBe(rows.length);

    const stats = s.sim.api!.stats.snapshot();
    expect(stats.rateLimited).toBe(0);
    const counted = (await getBootstrapResources(db, run.id)).reduce((n, x) => n + x.requests, 0);
    // Requests the mock answered but no committed page counts: the pages in flight at the kill,
    // at most one per concurrently running resource job.
    const lost = stats.byWorkspace[s.workspaceId]!.total - counted;
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThanOrEqual(4);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);
});
