import { afterEach, describe, expect, it } from 'vitest';
import { MIRROR_TIME_ENTRIES_SETTING } from '@cap/workspace-mirror';
import { getBootstrapResources, getInstallation, listBootstrapRuns, listEntities } from '@cap/db';
import { requestBootstrap } from '@cap/operator-actions';
import { OPERATIONS_USED } from '@cap/clockify';
import { JOBS } from '@cap/queue';
import { OperationIndex } from '@cap/simulator';
import { waitFor } from '@cap/testing';
import { startStack, type Stack } from './stack.js';

const SIZES = { users: 6, projects: 8, tasksPerProject: 3, tags: 12, clients: 4, entries: 150 };

let s: Stack | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function resources(stack: Stack, runId: string) {
  return Object.fromEntries(
    (await getBootstrapResources(stack.ingress.context.database.db, runId)).map((r) => [r.resource, r]),
  );
}

describe('bootstrap', () => {
  it('copies the workspace after install; the mirror equals the simulator data; no 429 from our own traffic', async () => {
    s = await startStack({ sizes: SIZES });
    expect((await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId })).status).toBe(200);
    const run = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED']);
    const rows = await resources(s, run.id);
    expect(run.status, JSON.stringify(Object.values(rows).map((r) => [r.resource, r.status, r.error]))).toBe(
      'COMPLETED',
    );
    expect(Object.keys(rows).sort()).toEqual(
      [
        'clients',
        'custom-fields',
        'projects',
        'tags',
        'tasks',
        'time-entries',
        'user-groups',
        'users',
        'workspace',
      ].sort(),
    );
    const diff = await s.expectMirrorEqual();
    expect(diff.counts.task).toBe(24);
    expect(diff.counts.time_entry).toBeGreaterThan(0);
    const stats = s.sim.api!.stats.snapshot();
    expect(stats.rateLimited).toBe(0);
    expect(stats.byStatus['400'] ?? 0).toBe(0);
    // The requests counted by the run are the requests the mock answered, besides the one read
    // of the installation's settings that follows INSTALLED.
    const counted = Object.values(rows).reduce((n, r) => n + r.requests, 0);
    expect(stats.byOperation.addonGetSettings).toBe(1);
    expect(stats.byWorkspace[s.workspaceId]!.total).toBe(counted + 1);
    // The operations a bootstrap calls are exactly those OPERATIONS_USED declares (and a test
    // checks against the official spec): nothing called that is not checked, nothing declared unused.
    const spec = OperationIndex.official().operations;
    const declared = OPERATIONS_USED.filter((u) => u.purpose === 'bootstrap').map(
      (u) => spec.find((o) => o.method === u.method && o.path === u.path)?.operationId ?? `${u.method} ${u.path}`,
    );
    expect(Object.keys(stats.byOperation).sort()).toEqual([...declared, 'addonGetSettings'].sort());
  });

  it('fails a listing Clockify refuses with the scope named, finishes the others: PARTIAL', async () => {
    s = await startStack({ sizes: SIZES });
    s.sim.api!.faults.set('getTags', { forbid: true });
    s.sim.api!.faults.set('getClients', { failNext: 2, failStatus: 503 });
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    const run = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED']);
    expect(run.status).toBe('PARTIAL');
    const rows = await resources(s, run.id);
    expect(rows.tags).toMatchObject({ status: 'FAILED', missing_scope: 'TAG_READ' });
    expect(rows.tags!.error).toContain('TAG_READ');
    // The 5xx on clients was retried.
    expect(rows.clients!.status).toBe('COMPLETED');
    for (const r of ['workspace', 'users', 'user-groups', 'projects', 'tasks', 'custom-fields', 'time-entries']) {
      expect(rows[r]!.status, r).toBe('COMPLETED');
    }
    expect(run.error).toBe('1 of 9 resources failed');
  });

  it('shows a run PAUSED while the quota is exhausted and resumes it', { timeout: 90_000 }, async () => {
    s = await startStack({
      sizes: SIZES,
      workerEnv: { BOOTSTRAP_PAUSE_AFTER_MS: '1000', BOOTSTRAP_LIMITER_MAX_WAIT_MS: '500' },
    });
    s.sim.api!.faults.set('getProjects', { failNext: 1, failStatus: 429, retryAfterSeconds: 3 });
    expect((await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId })).status).toBe(200);
    // The pause shows on the paused resource until its job runs again (~3 s); the run's own
    // PAUSED can last only until any other resource's job starts, which a busy host can make
    // too short for a poll to see.
    const stack = s!;
    const paused = await waitFor(
      async () => {
        const r = await stack.latestRun();
        if (!r) return undefined;
        const resources = await getBootstrapResources(stack.ingress.context.database.db, r.id);
        const resource = resources.find((x) => x.status === 'PAUSED');
        return r.status === 'PAUSED' || resource ? { run: r, resource } : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50, message: 'the run or one of its resources PAUSED' },
    );
    expect(paused.run.error).toMatch(/rate limit/);
    if (paused.run.status === 'PAUSED') expect(paused.run.paused_until).not.toBeNull();
    else expect(paused.resource).toBeDefined();
    const run = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED'], 60_000);
    expect(run.status).toBe('COMPLETED');
    expect(run.paused_until).toBeNull();
    const diff = await s.mirrorDiff();
    expect(diff.equal).toBe(true);
  });

  it('holds the configured rate across jobs, and re-schedules a long limiter wait instead of holding its slot', async () => {
    s = await startStack({
      sizes: { users: 3, projects: 4, tasksPerProject: 1, tags: 3, clients: 2, entries: 12 },
      workerEnv: {
        CLOCKIFY_RATE_LIMIT_RPS: '8',
        BOOTSTRAP_LIMITER_MAX_WAIT_MS: '50',
        WORKER_CONCURRENCY_BOOTSTRAP: '1',
        BOOTSTRAP_PAGE_SIZE: '2',
      },
    });
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    // With one slot, a job seen delayed while the run goes on let go of its slot to wait.
    let sawDelayed = false;
    const run = await waitFor(
      async () => {
        if (!sawDelayed && (await s!.ingress.context.queues.bootstrap.getDelayedCount()) > 0) sawDelayed = true;
        const r = await s!.latestRun();
        return r && ['COMPLETED', 'PARTIAL', 'FAILED'].includes(r.status) ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 10, message: 'the bootstrap at 8 requests per second' },
    );
    expect(run.status).toBe('COMPLETED');
    expect(sawDelayed).toBe(true);
    const ws = s.sim.api!.stats.snapshot().byWorkspace[s.workspaceId]!;
    expect(ws.total).toBeGreaterThan(16);
    // At most 8 requests in any 1 s window (7.6/s: the rate less the limiter's headroom), plus
    // one for a request that leaves late on a busy machine; nowhere near the mock's 50.
    expect(ws.peakPerWindow).toBeLessThanOrEqual(9);
    expect(ws.rateLimited).toBe(0);
    expect((await s.mirrorDiff()).equal).toBe(true);
  });

  it('keeps one active run per workspace: a second request joins it', async () => {
    s = await startStack({ sizes: SIZES, workerEnv: { AUTO_BOOTSTRAP: 'false' } });
    s.sim.api!.faults.set('*', { latencyMs: 30 });
    const install = await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    const key = { workspaceId: s.workspaceId, addonId: install.installation.addonId };
    const deps = { db: s.ingress.context.database.db, queues: s.ingress.context.queues };
    await waitFor(
      async () =>
        (await s!.ingress.context.database.db.selectFrom('installations').select('status').executeTakeFirst())
          ?.status === 'ACTIVE',
      {
        message: 'installed',
      },
    );
    const a = await requestBootstrap(deps, s.workspaceId);
    const b = await requestBootstrap(deps, s.workspaceId);
    const jobs = await Promise.all(
      [a.jobId, b.jobId].map((id) =>
        waitFor(
          async () => {
            const j = await s!.ingress.context.queues.bootstrap.getJob(id);
            return j?.finishedOn ? j : undefined;
          },
          { message: 'start jobs' },
        ),
      ),
    );
    expect(jobs.map((j) => (j.returnvalue as { status: string }).status).sort()).toEqual(['joined', 'started']);
    s.sim.api!.faults.clear();
    await s.waitForRun(['COMPLETED']);
    expect(await listBootstrapRuns(deps.db, key)).toHaveLength(1);
  });

  it('leaves time entries out of the run when the installation turned them off in the settings', async () => {
    s = await startStack({ sizes: SIZES, workerEnv: { AUTO_BOOTSTRAP: 'false' } });
    const result = await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    const db = s.ingress.context.database.db;
    const key = { workspaceId: s.workspaceId, addonId: result.installation.addonId };
    await s.sim.updateSettings({ [MIRROR_TIME_ENTRIES_SETTING]: false });
    await waitFor(
      async () =>
        ((await getInstallation(db, key))?.settings as { id: string; value: unknown }[] | null)?.find(
          (x) => x.id === MIRROR_TIME_ENTRIES_SETTING,
        )?.value === false,
      { message: 'settings stored' },
    );
    await requestBootstrap({ db, queues: s.ingress.context.queues }, s.workspaceId);
    const run = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED']);
    expect(run.status).toBe('COMPLETED');
    const names = Object.keys(await resources(s, run.id));
    expect(names).not.toContain('time-entries');
    expect(names).toContain('users');
    expect(await listEntities(db, s.workspaceId, 'time_entry')).toEqual([]);
    expect((await listEntities(db, s.workspaceId, 'project')).length).toBe(
      s.sim.store.listProjects(s.workspaceId).length,
    );
  });

  it('an uninstall cancels the running bootstrap: its jobs stop and call the API no more', async () => {
    s = await startStack({ sizes: { ...SIZES, entries: 600 }, workerEnv: { BOOTSTRAP_PAGE_SIZE: '5' } });
    s.sim.api!.faults.set('*', { latencyMs: 50 });
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    const db = s.ingress.context.database.db;
    const running = await waitFor(
      async () => {
        const r = await s!.latestRun();
        if (r?.status !== 'RUNNING') return undefined;
        const pages = (await getBootstrapResources(db, r.id)).reduce((n, x) => n + x.pages, 0);
        return pages >= 3 ? r : undefined;
      },
      { intervalMs: 20, message: 'a bootstrap under way' },
    );
    await s.sim.uninstall();
    const ended = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED']);
    expect(ended.id).toBe(running.id);
    expect(ended.status).toBe('FAILED');
    expect(ended.error).toBe('cancelled: the add-on was uninstalled');
    // Every job of the run stops (the page in flight at most), and nothing calls the API after.
    // (Not settle(): the purge the uninstall scheduled waits, delayed, for 30 days.)
    const bootstrapQueue = s.ingress.context.queues.bootstrap;
    const drained = async () => {
      const c = await bootstrapQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(c).every((n) => n === 0);
    };
    await waitFor(drained, { message: 'the bootstrap jobs to stop' });
    const requests = s.sim.api!.stats.snapshot().total;
    const pages = (await getBootstrapResources(db, running.id)).reduce((n, x) => n + x.pages, 0);
    expect(pages).toBeLessThan(600 / 5);
    const bootstrapJobs = await bootstrapQueue.getJobs(['completed', 'failed']);
    expect(bootstrapJobs.filter((j) => j.failedReason)).toEqual([]);
    expect(bootstrapJobs.some((j) => j.returnvalue === 'cancelled')).toBe(true);
    expect(await drained()).toBe(true);
    expect(s.sim.api!.stats.snapshot().total).toBe(requests);
  });

  it('after random changes with their webhooks, changes webhooks missed and one reconciliation, the mirror equals the data', async () => {
    s = await startStack({ sizes: SIZES });
    await s.sim.install({ ingressUrl: s.ingressUrl, workspaceId: s.workspaceId });
    await s.waitForRun(['COMPLETED']);
    const ws = s.workspaceId;
    const burst = await s.sim.burst({ count: 60, rate: 200, duplicates: 0.2, reorder: true, seed: 'reconcile' });
    expect(burst.sent).toBeGreaterThan(60);
    await s.settle();
    // Changes Clockify never told us about (lost webhooks): only reconciliation can see them.
    // The random changes may have deleted every tag or project (the store's data is seeded per
    // run): make one first, silently too, so there is always one to delete and one to rename.
    const tag = s.sim.store.listTags(ws)[0] ?? s.sim.store.createTag(ws, { name: 'Made silently' }).entity;
    s.sim.store.deleteTag(ws, tag.id);
    s.sim.store.createClient(ws, { name: 'Created while webhooks were down' });
    const project = s.sim.store.listProjects(ws)[0] ?? s.sim.store.createProject(ws, { name: 'Made silently' }).entity;
    s.sim.store.updateProject(ws, project.id, { name: 'Renamed silently' });
    expect((await s.mirrorDiff()).equal).toBe(false);

    await s.ingress.context.queues.maintenance.add(JOBS.reconcile, { v: 1 }, { jobId: 'reconcile-now' });
    await waitFor(
      async () => {
        const runs = await s!.ingress.context.database.db
          .selectFrom('bootstrap_runs')
          .select(['trigger', 'status'])
          .execute();
        return runs.some((r) => r.trigger === 'reconcile' && r.status === 'COMPLETED');
      },
      { timeoutMs: 60_000, message: 'the reconciliation run' },
    );
    await s.expectMirrorEqual();
    expect(s.sim.api!.stats.snapshot().rateLimited).toBe(0);
  });
});
