import { describe, expect, it } from 'vitest';
import { MIRROR_ACCOUNT_STATUSES } from '@cap/simulator';
import {
  expectEntityRowsUnique,
  requestsOutsideCommittedPages,
  useBootstrapFaultStack,
  waitForRunningRun,
} from './bootstrap-faults.js';

// Time entries are copied by several jobs at once, each taking users from one shared cursor.
// A worker killed while they run must lose no user and copy none twice.
const PAGE_SIZE = 10;
const fault = useBootstrapFaultStack({
  sizes: { users: 12, projects: 4, tasksPerProject: 2, tags: 5, clients: 3, entries: 1200 },
  latencyMs: 15,
  workerEnv: { BOOTSTRAP_PAGE_SIZE: String(PAGE_SIZE) },
});
const worker = fault.worker;

describe('a worker SIGKILLed while several jobs copy the time entries', () => {
  it('is replaced; every user is copied once: rows equal the mock, no duplicates, no 429, at most a page per job lost', async () => {
    const s = fault.stack();
    const first = worker();
    await first.waitForLine(/"msg":"worker ready"/);
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    // Several jobs on users at once, some pages of them committed.
    const run = await waitForRunningRun(
      s,
      (resources) => {
        const te = resources.find((x) => x.resource === 'time-entries');
        const active = Object.keys((te?.cursor as { active?: object } | null)?.active ?? {});
        return !!te && te.pages >= 10 && active.length >= 2;
      },
      'time entries copied by several jobs',
    );
    first.kill('SIGKILL');
    expect(await first.exited).toBe(137);

    const second = worker();
    await second.waitForLine(/"msg":"worker ready"/);
    const done = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED'], 120_000);
    expect(done.id).toBe(run.id);
    expect(done.status).toBe('COMPLETED');

    await s.expectMirrorEqual();
    await expectEntityRowsUnique(s);

    const { lost, resources } = await requestsOutsideCommittedPages(s, run.id);
    const te = resources.find((x) => x.resource === 'time-entries')!;
    expect(te.status).toBe('COMPLETED');
    expect((te.cursor as { active: object }).active).toEqual({});
    // Every user's entries were committed exactly once: the committed pages are exactly the
    // pages the listing needs (a user copied twice would add pages; one skipped would miss some).
    const window = (te.cursor as { window: { start: string; end: string } }).window;
    const users = s.sim.store.listUsers(s.workspaceId, { status: 'ALL', accountStatuses: MIRROR_ACCOUNT_STATUSES });
    const neededPages = users.reduce((n, u) => {
      const entries = s.sim.store.listTimeEntries(s.workspaceId, u.id, window).length;
      return n + Math.max(1, Math.ceil(entries / PAGE_SIZE));
    }, 0);
    expect(te.pages).toBe(neededPages);
    expect(s.sim.api!.stats.snapshot().rateLimited).toBe(0);
    // At most the page in flight of each job the killed worker was running
    // (WORKER_CONCURRENCY_BOOTSTRAP, 4 by default).
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThanOrEqual(4);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);
});
