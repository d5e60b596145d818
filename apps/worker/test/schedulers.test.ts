import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@cap/testing';
import { workerEnv } from '../src/index.js';
import { runReconcile } from '../src/maintenance/jobs.js';
import { installationOffsetMs as reconcileOffsetMs } from '../src/runtime/spread.js';
import { insertBareInstallation, startTestWorker, type TestWorker } from './helpers.js';

// The documented defaults (the test helpers turn schedules off unless asked).
const DEFAULTS = workerEnv.parse({});
const SCHEDULES = {
  RETENTION_CRON: DEFAULTS.RETENTION_CRON,
  RECONCILE_CRON: DEFAULTS.RECONCILE_CRON,
  WEBHOOK_HEALTH_CRON: DEFAULTS.WEBHOOK_HEALTH_CRON,
  DEAD_LETTER_SWEEP_CRON: DEFAULTS.DEAD_LETTER_SWEEP_CRON,
};

let db: TestDatabase;
const workers: TestWorker[] = [];
beforeAll(async () => {
  db = await createTestDatabase('sched');
});
afterAll(async () => {
  for (const w of workers) await w.close();
  await db?.drop();
});

describe('maintenance schedules', () => {
  it('registers daily reconciliation and hourly retention (UTC) by default, and removes a schedule turned off', async () => {
    const w = await startTestWorker({ databaseUrl: db.url, env: SCHEDULES });
    workers.push(w);
    const maintenance = w.worker.deps.queues.maintenance;
    const schedulers = await maintenance.getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.pattern, s.tz, s.name]).sort()).toEqual([
      ['dead-letter-sweep', '* * * * *', 'UTC', 'maintenance.dead-letter-sweep'],
      ['reconcile', '17 3 * * *', 'UTC', 'maintenance.reconcile'],
      ['retention', '7 * * * *', 'UTC', 'maintenance.retention'],
      ['webhook-health', '*/5 * * * *', 'UTC', 'maintenance.webhook-health'],
    ]);
    // Another worker with reconciliation off removes that schedule for everyone.
    const off = await startTestWorker({
      databaseUrl: db.url,
      prefix: w.prefix,
      env: { ...SCHEDULES, RECONCILE_CRON: 'off' },
    });
    workers.push(off);
    expect((await maintenance.getJobSchedulers()).map((s) => s.key).sort()).toEqual([
      'dead-letter-sweep',
      'retention',
      'webhook-health',
    ]);
  });

  it('does not schedule anything in a pool that does not consume the maintenance queue', async () => {
    const w = await startTestWorker({ databaseUrl: db.url, env: { ...SCHEDULES, WORKER_QUEUES: 'webhooks' } });
    workers.push(w);
    expect(await w.worker.deps.queues.maintenance.getJobSchedulers()).toEqual([]);
  });
});

describe('reconciliation spread', () => {
  it('spreads the workspaces’ bootstraps over the period at stable offsets, once per day', async () => {
    const w = await startTestWorker({ databaseUrl: db.url, env: { RECONCILE_SPREAD_HOURS: '24' } });
    workers.push(w);
    const deps = w.worker.deps;
    for (let i = 0; i < 20; i++) {
      await insertBareInstallation(w.database.db, `ws-spread-${i}`, 'addon-spread');
    }
    expect(await runReconcile(deps)).toBe(20);
    expect(await runReconcile(deps)).toBe(20);
    const jobs = await deps.queues.bootstrap.getJobs(['delayed', 'waiting']);
    // A second run the same day adds nothing: one job per installation and day.
    expect(jobs).toHaveLength(20);
    const delays = jobs.map((j) => j.opts.delay ?? 0);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(24 * 3_600_000);
    // Spread, not bunched: the 20 workspaces fall into more than 10 of the day's 24 hours.
    expect(new Set(delays.map((d) => Math.floor(d / 3_600_000))).size).toBeGreaterThan(10);
    const key = { workspaceId: 'ws-spread-3', addonId: 'addon-spread' };
    expect(reconcileOffsetMs(key, 86_400_000)).toBe(reconcileOffsetMs(key, 86_400_000));
    expect(reconcileOffsetMs(key, 0)).toBe(0);
  });
});
