import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@cap/testing';
import { workerEnv } from '../src/index.js';
import { startTestWorker, type TestWorker } from './helpers.js';

// The documented defaults (the test helpers turn schedules off unless asked).
const DEFAULTS = workerEnv.parse({});
const SCHEDULES = { RETENTION_CRON: DEFAULTS.RETENTION_CRON, RECONCILE_CRON: DEFAULTS.RECONCILE_CRON };

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
      ['reconcile', '17 3 * * *', 'UTC', 'maintenance.reconcile'],
      ['retention', '7 * * * *', 'UTC', 'maintenance.retention'],
    ]);
    // Another worker with reconciliation off removes that schedule for everyone.
    const off = await startTestWorker({
      databaseUrl: db.url,
      prefix: w.prefix,
      env: { ...SCHEDULES, RECONCILE_CRON: 'off' },
    });
    workers.push(off);
    expect((await maintenance.getJobSchedulers()).map((s) => s.key)).toEqual(['retention']);
  });

  it('does not schedule anything in a pool that does not consume the maintenance queue', async () => {
    const w = await startTestWorker({ databaseUrl: db.url, env: { ...SCHEDULES, WORKER_QUEUES: 'webhooks' } });
    workers.push(w);
    expect(await w.worker.deps.queues.maintenance.getJobSchedulers()).toEqual([]);
  });
});
