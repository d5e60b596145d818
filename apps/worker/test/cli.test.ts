import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDeadLetter } from '@cap/db';
import { JOBS } from '@cap/queue';
import { startAppProcess, waitFor } from '@cap/testing';
import { distEntry } from '../../../test/dist.js';
import { startStack, type Stack } from './stack.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({
    sizes: { users: 3, projects: 4, tasksPerProject: 2, tags: 4, clients: 2, entries: 30 },
    workerEnv: { AUTO_BOOTSTRAP: 'false' },
  });
  await s.installAndWait();
});
afterAll(async () => {
  await s?.close();
});

async function cliWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string }> {
  const p = startAppProcess(distEntry('worker', 'cli/index.js'), s.workerProcessEnv(env), args);
  const code = await p.exited;
  return { code, out: p.output.join('\n') };
}
const cli = (...args: string[]) => cliWith({}, ...args);

describe('npm run cli', () => {
  it('prints usage and refuses unknown commands', async () => {
    expect((await cli('--help')).out).toContain('dead-letters replay <id>');
    const bad = await cli('frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('unknown command: frobnicate');
  });

  it('bootstrap <workspaceId> starts a run and follows it to the end', async () => {
    const run = await cli('bootstrap', s.workspaceId);
    expect(run.out).toContain('bootstrap requested');
    expect(run.out).toMatch(/bootstrap COMPLETED: \d+ items in \d+ requests/);
    expect(run.out).toMatch(/time-entries\s+COMPLETED/);
    expect(run.code).toBe(0);
    expect((await s.mirrorDiff()).equal).toBe(true);
    const unknown = await cli('bootstrap', 'f'.repeat(24));
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('has no installation');
  }, 60_000);

  it('dead-letters list and replay, one or all; a lifecycle letter is replayed from the failed set', async () => {
    const db = s.ingress.context.database.db;
    // A webhook that failed for good: its payload holds no token, so the row replays as it is.
    const body = { ...s.sim.buildWebhook('NEW_TAG'), id: '5'.repeat(24) };
    const queues = s.ingress.context.queues;
    await s.sim.sendWebhook('NEW_TAG', body);
    const done = await waitFor(
      async () =>
        (await queues.webhooks.getJobs(['completed'])).find((j) => String(j.data.body).includes(body.id as string)),
      {
        message: 'the webhook processed',
      },
    );
    const replayData = {
      ...done.data,
      body: JSON.stringify({ ...body, name: 'replayed' }),
      deliveryKey: 'ab'.repeat(32),
    };
    await recordDeadLetter(db, {
      queue: 'webhooks',
      jobName: JOBS.webhookProcess,
      jobId: 'dead-1',
      workspaceId: s.workspaceId,
      payload: replayData,
      error: 'boom',
      attempts: 8,
    });
    await recordDeadLetter(db, {
      queue: 'webhooks',
      jobName: JOBS.webhookProcess,
      jobId: 'dead-2',
      workspaceId: s.workspaceId,
      payload: { ...replayData, deliveryKey: 'cd'.repeat(32) },
      error: 'boom',
      attempts: 8,
    });
    // A lifecycle letter has its tokens removed; its payload comes back from the original job,
    // which BullMQ still holds (here it ran and completed; exhausted ones stay in the failed set).
    const lifecycleJob = (await queues.lifecycle.getJobs(['completed'])).find(
      (j) => j.name === JOBS.lifecycleInstalled,
    )!;
    await queues.lifecycle.add(JOBS.lifecycleInstalled, lifecycleJob.data, { jobId: 'failed-installed', attempts: 1 });
    await recordDeadLetter(db, {
      queue: 'lifecycle',
      jobName: JOBS.lifecycleInstalled,
      jobId: 'failed-installed',
      workspaceId: s.workspaceId,
      payload: { ...lifecycleJob.data, body: { ...lifecycleJob.data.body, authTokenEnc: '[removed]' } },
      error: 'boom',
      attempts: 10,
    });

    const list = await cli('dead-letters', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toContain('dead-1');
    expect(list.out).toContain('failed-installed');
    const json = JSON.parse((await cli('dead-letters', 'list', '--json')).out) as { id: number; job_id: string }[];
    const one = json.find((l) => l.job_id === 'dead-1')!;

    // The replayed job gets the configured retry policy, as the ingress gives new webhook jobs.
    const replayed = await cliWith(
      { WEBHOOK_JOB_ATTEMPTS: '3', WEBHOOK_JOB_BACKOFF_MS: '700' },
      'dead-letters',
      'replay',
      String(one.id),
    );
    expect(replayed.code).toBe(0);
    const replayedId = new RegExp(`dead letter ${one.id} replayed as job (\\S+) on queue webhooks`).exec(
      replayed.out,
    )?.[1];
    expect(replayedId).toBeDefined();
    const replayedJob = await queues.webhooks.getJob(replayedId!);
    expect(replayedJob?.opts.attempts).toBe(3);
    expect(replayedJob?.opts.backoff).toMatchObject({ type: 'exponential', delay: 700 });
    const again = await cli('dead-letters', 'replay', String(one.id));
    expect(again.code).toBe(1);
    expect(again.out).toContain('already replayed');

    const all = await cli('dead-letters', 'replay', '--all');
    expect(all.out).toContain('replayed 2, failed 0');
    expect(all.code).toBe(0);
    expect((await cli('dead-letters', 'list')).out).toContain('(none)');
    await s.settle();

    // When BullMQ no longer has the original job, a letter without its tokens cannot be replayed.
    await recordDeadLetter(db, {
      queue: 'lifecycle',
      jobName: JOBS.lifecycleInstalled,
      jobId: 'long-gone',
      workspaceId: s.workspaceId,
      payload: { ...lifecycleJob.data, body: { ...lifecycleJob.data.body, authTokenEnc: '[removed]' } },
      error: 'boom',
      attempts: 10,
    });
    const gone = JSON.parse((await cli('dead-letters', 'list', '--json')).out) as { id: number; job_id: string }[];
    const goneId = gone.find((l) => l.job_id === 'long-gone')!.id;
    const refused = await cli('dead-letters', 'replay', String(goneId));
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('is no longer in the failed set; ask Clockify to resend (reinstall) instead');
    expect((await cli('dead-letters', 'list')).out).toContain('long-gone');
  }, 60_000);

  it('queues: counts and the wait of the next job, pause and resume, drain only with --confirm', async () => {
    const queues = s.ingress.context.queues;
    const listed = await cli('queues', '--json');
    expect(listed.code).toBe(0);
    const backlogs = JSON.parse(listed.out.slice(listed.out.indexOf('['))) as {
      queue: string;
      counts: Record<string, number>;
      oldestWaitingSeconds: number;
      paused: boolean;
    }[];
    expect(backlogs.map((b) => b.queue).sort()).toEqual(['bootstrap', 'lifecycle', 'maintenance', 'webhooks']);
    for (const b of backlogs) expect(Object.keys(b.counts).sort()).toEqual(['active', 'delayed', 'failed', 'waiting']);
    expect((await cli('queues')).out).toMatch(/next waited \(s\)/);

    expect((await cli('queues', 'pause', 'maintenance')).out).toContain('queue maintenance paused');
    expect(await queues.maintenance.isPaused()).toBe(true);
    expect((await cli('queues')).out).toMatch(/maintenance.*yes/);
    expect((await cli('queues', 'resume', 'maintenance')).code).toBe(0);
    expect(await queues.maintenance.isPaused()).toBe(false);

    // A delayed bootstrap job, as a broken deploy might have queued.
    await queues.bootstrap.add(
      JOBS.bootstrapStart,
      { v: 1, workspaceId: s.workspaceId, addonId: 'a'.repeat(24), trigger: 'manual' },
      { delay: 3_600_000 },
    );
    const refused = await cli('queues', 'drain', 'bootstrap');
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('add --confirm');
    expect((await queues.bootstrap.getJobCounts('delayed')).delayed).toBe(1);
    const drained = await cli('queues', 'drain', 'bootstrap', '--confirm');
    expect(drained.out).toMatch(/queue bootstrap drained: 0 waiting and 1 delayed jobs deleted/);
    expect((await queues.bootstrap.getJobCounts('delayed')).delayed).toBe(0);
    const unknown = await cli('queues', 'pause', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('queues pause: no queue named nope: lifecycle, webhooks, bootstrap, maintenance');
  });

  it('installations list and show: status, tokens present, last lifecycle call, bootstrap, settings; never a token', async () => {
    const installation = s.sim.installation();
    const secrets = [installation.installationToken, ...Object.values(installation.webhookTokens)];
    const latestRun = await s.latestRun();

    const listed = await cli('installations', 'list', '--json');
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.out.slice(listed.out.indexOf('['))) as {
      workspaceId: string;
      status: string;
      hasToken: boolean;
      webhookTokens: number;
      lastLifecycle: { type: string } | null;
      bootstrap: { status: string } | null;
    }[];
    const row = rows.find((r) => r.workspaceId === s.workspaceId);
    expect(row).toMatchObject({ status: 'ACTIVE', hasToken: true, lastLifecycle: { type: 'INSTALLED' } });
    expect(row!.webhookTokens).toBe(Object.keys(installation.webhookTokens).length);
    expect(row!.bootstrap?.status ?? null).toBe(latestRun?.status ?? null);

    const text = await cli('installations', 'list');
    expect(text.out).toMatch(new RegExp(`${s.workspaceId}\\s+\\w+\\s+ACTIVE`));
    expect((await cli('installations', 'list', '--status', 'deleted')).out).not.toContain(s.workspaceId);
    const badStatus = await cli('installations', 'list', '--status', 'gone');
    expect(badStatus.code).toBe(2);
    expect(badStatus.out).toContain('--status must be ACTIVE, INACTIVE or DELETED');

    const shown = await cli('installations', 'show', s.workspaceId);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`workspace ${s.workspaceId}, add-on ${installation.addonId}: ACTIVE`);
    expect(shown.out).toContain('installation token: stored (encrypted)');
    expect(shown.out).toContain(`webhooks (${row!.webhookTokens}, a token stored for each)`);
    expect(shown.out).toMatch(/lifecycle: INSTALLED \w+ \d{4}-/);
    expect(shown.out).toContain('settings: ');
    const json = JSON.parse((await cli('installations', 'show', s.workspaceId, '--json')).out) as {
      webhooks: { event: string; path: string }[];
      lifecycle: { type: string }[];
    };
    expect(json.webhooks.map((w) => w.event).sort()).toEqual(Object.keys(installation.webhookTokens).sort());
    expect(json.lifecycle[0]?.type).toBe('INSTALLED');
    for (const out of [listed.out, text.out, shown.out]) for (const t of secrets) expect(out).not.toContain(t);

    const unknown = await cli('installations', 'show', 'f'.repeat(24));
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('has no installation');
  }, 60_000);
});
