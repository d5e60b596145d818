import { describe, expect, it } from 'vitest';
import { requestsOutsideCommittedPages, useBootstrapFaultStack, waitForRunningRun } from './bootstrap-faults.js';

// A deploy stops workers with SIGTERM. A bootstrap job must not hold the shutdown until its whole
// listing is copied (the timer would cut it and BullMQ would count a stall): it hands itself back
// after the page it committed, and the next worker resumes from the cursor.
const fault = useBootstrapFaultStack({
  sizes: { users: 8, projects: 10, tasksPerProject: 3, tags: 20, clients: 6, entries: 3000 },
  latencyMs: 40,
  workerEnv: { BOOTSTRAP_PAGE_SIZE: '10', SHUTDOWN_TIMEOUT_MS: '20000' },
});
const worker = fault.worker;

describe('a worker stopped with SIGTERM mid-bootstrap', () => {
  it('exits 0 within seconds, its jobs go back to the queue unspent, and the next worker completes the run losing no request', async () => {
    const s = fault.stack();
    const first = worker();
    await first.waitForLine(/"msg":"worker ready"/);
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    const run = await waitForRunningRun(
      s,
      (resources) => (resources.find((x) => x.resource === 'time-entries')?.pages ?? 0) >= 5,
      'time entries being copied',
    );
    const stoppedAt = Date.now();
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    const firstOutput = first.output.join('\n');
    expect(firstOutput).toContain('handed back after its last committed page');
    expect(firstOutput).toContain('"msg":"shutdown complete"');

    const second = worker();
    await second.waitForLine(/"msg":"worker ready"/);
    const done = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED'], 120_000);
    expect(done.id).toBe(run.id);
    expect(done.status).toBe('COMPLETED');
    expect(second.output.join('\n')).not.toMatch(/job stalled/);
    await s.expectMirrorEqual();
    // Every request the mock answered is in a committed page: nothing was in flight at the stop.
    expect((await requestsOutsideCommittedPages(s, run.id)).lost).toBe(0);
    expect(s.sim.api!.stats.snapshot().rateLimited).toBe(0);
    // Handing back spent no attempt.
    const jobs = await s.ingress.context.queues.bootstrap.getJobs(['completed']);
    expect(jobs.filter((j) => j.name === 'bootstrap.resource').every((j) => j.attemptsMade <= 1)).toBe(true);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);
});
