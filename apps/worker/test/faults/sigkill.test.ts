import { describe, expect, it } from 'vitest';
import { getBootstrapResources } from '@cap/db';
import {
  expectEntityRowsUnique,
  requestsOutsideCommittedPages,
  useBootstrapFaultStack,
  waitForRunningRun,
} from './bootstrap-faults.js';

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

    await s.expectMirrorEqual();
    await expectEntityRowsUnique(s);

    expect(s.sim.api!.stats.snapshot().rateLimited).toBe(0);
    // The pages in flight at the kill: at most one per concurrently running resource job.
    const { lost } = await requestsOutsideCommittedPages(s, run.id);
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThanOrEqual(4);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);
});
