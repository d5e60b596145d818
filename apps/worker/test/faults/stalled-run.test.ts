import { describe, expect, it } from 'vitest';
import { getBootstrapResources } from '@cap/db';
import { requestBootstrap } from '@cap/operator-actions';
import { waitFor } from '@cap/testing';
import { useBootstrapFaultStack } from './bootstrap-faults.js';

// Jobs that stall more often than WORKER_MAX_STALLED_COUNT are failed by BullMQ without their
// processor running again, so nothing in the processor can close their resources. The run must
// still end (else every later bootstrap and reconciliation of the workspace would join it).
// Every listing hangs, so every root resource job is mid-request when its worker dies.
const fault = useBootstrapFaultStack({
  sizes: { users: 4, projects: 4, tasksPerProject: 2, tags: 5, clients: 3, entries: 40 },
  latencyMs: 60_000,
  workerEnv: {
    WORKER_MAX_STALLED_COUNT: '1',
    // Every root resource job active at once in each worker.
    WORKER_CONCURRENCY_BOOTSTRAP: '50',
    CLOCKIFY_API_TIMEOUT_MS: '120000',
  },
});
const worker = fault.worker;

/** Root resource jobs active again after `stalls` stalls each (taken by the current worker). */
async function waitForActiveAfterStalls(stalls: number): Promise<number> {
  const q = fault.stack().ingress.context.queues.bootstrap;
  return waitFor(
    async () => {
      // Every root resource job must be queued and taken: none waiting, delayed or prioritized,
      // and no start job still adding them (a busy host can catch it between two adds).
      const counts = await q.getJobCounts('waiting', 'delayed', 'prioritized');
      const active = await q.getJobs(['active']);
      const resourceJobs = active.filter((j) => j.name === 'bootstrap.resource');
      return (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0) === 0 &&
        resourceJobs.length === active.length &&
        resourceJobs.length > 0 &&
        resourceJobs.every((j) => j.stalledCounter >= stalls && j.processedOn !== undefined)
        ? resourceJobs.length
        : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: `resource jobs active after ${stalls} stall(s)` },
  );
}

describe('bootstrap jobs that stall too often', () => {
  it('fail their resources and end the run; the next bootstrap starts a new run and completes', async () => {
    const s = fault.stack();
    const db = s.ingress.context.database.db;
    const first = worker();
    await first.waitForLine(/"msg":"worker ready"/);
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    const run = await s.waitForRun(['RUNNING'], 30_000);
    const jobs = await waitForActiveAfterStalls(0);
    first.kill('SIGKILL');
    await first.exited;

    // The second worker takes the stalled jobs back (first stall, still allowed) and dies too.
    const second = worker();
    await second.waitForLine(/"msg":"worker ready"/);
    expect(await waitForActiveAfterStalls(1)).toBe(jobs);
    second.kill('SIGKILL');
    await second.exited;

    // The third finds them stalled a second time: BullMQ fails them for good.
    const third = worker();
    await third.waitForLine(/"msg":"worker ready"/);
    const ended = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED'], 30_000);
    expect(ended.id).toBe(run.id);
    expect(ended.status).toBe('FAILED');
    const resources = await getBootstrapResources(db, run.id);
    expect(resources.every((r) => r.status === 'FAILED')).toBe(true);
    expect(resources.filter((r) => /failed for good: .*stalled/i.test(r.error ?? '')).length).toBe(jobs);
    expect(resources.filter((r) => /depends on/.test(r.error ?? '')).length).toBe(resources.length - jobs);
    const deadLetters = await db.selectFrom('dead_letters').select(['job_name', 'error']).execute();
    expect(deadLetters.filter((d) => d.job_name === 'bootstrap.resource')).toHaveLength(jobs);

    // With the API answering again, a new bootstrap is not joined to the dead run.
    s.sim.api!.faults.clear();
    const requested = await requestBootstrap({ db, queues: s.ingress.context.queues }, s.workspaceId);
    expect(requested.jobId).toBeTruthy();
    const next = await waitFor(
      async () => {
        const r = await s.latestRun();
        return r && r.id !== run.id && r.status === 'COMPLETED' ? r : undefined;
      },
      { timeoutMs: 60_000, message: 'a new bootstrap run to complete' },
    );
    expect(next.trigger).toBe('manual');
    await s.expectMirrorEqual();
    // A listing of the dead run that started under the fault's 60 s latency can still be in
    // flight, and a graceful stop waits for it (SHUTDOWN_TIMEOUT_MS, then exit 1): stop once idle.
    await waitFor(async () => (await s.ingress.context.queues.bootstrap.getActiveCount()) === 0, {
      timeoutMs: 70_000,
      intervalMs: 200,
      message: 'no bootstrap job in flight',
    });
    third.kill('SIGTERM');
    expect(await third.exited, third.output.slice(-30).join('\n')).toBe(0);
  }, 180_000);
});
