import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBootstrapRun, getBootstrapResource } from '@cap/db';
import { JOBS } from '@cap/queue';
import { processBootstrapResource } from '../src/bootstrap/resource.js';
import { startStack, type Stack } from './stack.js';

let s: Stack;
let addonId: string;
beforeAll(async () => {
  s = await startStack({
    workerEnv: { AUTO_BOOTSTRAP: 'false' },
    sizes: { users: 2, projects: 1, tags: 3, clients: 1, entries: 2 },
  });
  ({ addonId } = await s.installAndWait());
});
afterAll(async () => {
  await s?.close();
});

/** A bootstrap.resource job on its last attempt, as BullMQ hands it to the processor. */
function lastAttempt(runId: string): Job {
  return {
    id: `job-${runId}`,
    name: JOBS.bootstrapResource,
    data: { v: 1, runId, workspaceId: s.workspaceId, addonId, resource: 'tags' },
    opts: { attempts: 3 },
    attemptsMade: 2,
    updateProgress: () => Promise.resolve(),
  } as unknown as Job;
}

/** A new run of the tags resource alone (the add-on is installed, no bootstrap ran). */
async function newRun(): Promise<string> {
  const { db } = s.worker!.worker.deps;
  const input = { workspaceId: s.workspaceId, addonId, trigger: 'manual' as const, jobId: null, resources: ['tags'] };
  const run = await db.transaction().execute((tx) => createBootstrapRun(tx, input));
  return run!.id;
}

describe('a bootstrap resource job whose last attempt meets an infrastructure error', () => {
  it('keeps its resource open, so the job that waits out the outage still copies it', async () => {
    const deps = s.worker!.worker.deps;
    const db = deps.db;
    const runId = await newRun();

    // Redis (the rate limiter's) is away at that moment: an infrastructure error, no attempt spent.
    const acquire = deps.limiter.acquire.bind(deps.limiter);
    deps.limiter.acquire = () =>
      Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }));
    try {
      await expect(processBootstrapResource(deps, lastAttempt(runId), 'token')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      deps.limiter.acquire = acquire;
    }
    expect((await getBootstrapResource(db, runId, 'tags'))?.status).toBe('RUNNING');

    // The same job once Redis is back: the resource is copied, not found FAILED.
    expect(await processBootstrapResource(deps, lastAttempt(runId), 'token')).toBe('completed');
    expect((await getBootstrapResource(db, runId, 'tags'))?.status).toBe('COMPLETED');

    // A job error of its own on the last attempt still fails the resource.
    const second = await newRun();
    deps.limiter.acquire = () => Promise.reject(new Error('something the job itself got wrong'));
    try {
      await expect(processBootstrapResource(deps, lastAttempt(second), 'token')).rejects.toThrow(/itself/);
    } finally {
      deps.limiter.acquire = acquire;
    }
    expect((await getBootstrapResource(db, second, 'tags'))?.status).toBe('FAILED');
  });
});
