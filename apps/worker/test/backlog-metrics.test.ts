import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS, enqueue } from '@cap/queue';
import { createTestDatabase, type TestDatabase } from '@cap/testing';
import { startTestWorker, type TestWorker } from './helpers.js';

let db: TestDatabase;
let w: TestWorker | undefined;
beforeAll(async () => {
  db = await createTestDatabase('backlog');
});
afterAll(async () => {
  await w?.close();
  await db?.drop();
});

describe("a worker's backlog metrics", () => {
  it('exports the depth and the wait of the queues it consumes, and only those, for its autoscaler', async () => {
    // Consumes the maintenance queue only, with no scheduler: a bootstrap job stays waiting.
    w = await startTestWorker({ databaseUrl: db.url, env: { WORKER_QUEUES: 'maintenance' } });
    await enqueue(w.worker.deps.queues, JOBS.bootstrapStart, {
      v: 1,
      workspaceId: 'ws-backlog',
      addonId: 'addon-backlog',
      trigger: 'manual',
    });
    const body = await (await fetch(`http://127.0.0.1:${w.worker.opsPort}/metrics`)).text();
    const lines = body.split('\n').filter((l) => /^queue_(jobs|oldest_waiting_seconds)\{/.test(l));
    expect(lines.some((l) => l.startsWith('queue_jobs{') && l.includes('queue="maintenance"'))).toBe(true);
    expect(lines.some((l) => l.startsWith('queue_oldest_waiting_seconds{') && l.includes('queue="maintenance"'))).toBe(
      true,
    );
    // The bootstrap queue is another pool's: its backlog is not this worker's to report.
    expect(lines.filter((l) => l.includes('queue="bootstrap"'))).toEqual([]);
  });
});
