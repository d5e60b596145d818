import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cap/testing';
import { startStack, type Stack } from './stack.js';

/**
 * An INSTALLED whose commit succeeded but whose follow-ups failed (a Redis blip on the bootstrap
 * enqueue, a worker that died) is retried by BullMQ: the retry finds the call applied and does the
 * follow-ups it missed, once; it does not take itself for a replay.
 */

let s: Stack;
beforeAll(async () => {
  s = await startStack({ sizes: { users: 2, projects: 1, tasksPerProject: 1, tags: 1, clients: 1, entries: 2 } });
});
afterAll(async () => {
  await s?.close();
});

describe('lifecycle follow-ups', () => {
  it('INSTALLED retried after its commit starts exactly one bootstrap', async () => {
    const queue = s.worker!.worker.deps.queues.bootstrap;
    const add = queue.add.bind(queue);
    let failures = 0;
    queue.add = ((...args: Parameters<typeof add>) => {
      if (failures === 0) {
        failures++;
        return Promise.reject(new Error('Redis blip while starting the bootstrap'));
      }
      return add(...args);
    }) as typeof add;
    try {
      await s.installAndWait();
      const run = await s.waitForRun(['COMPLETED']);
      expect(run.trigger).toBe('install');
    } finally {
      queue.add = add;
    }
    expect(failures).toBe(1);
    await s.settle();
    const runs = await s.ingress.context.database.db
      .selectFrom('bootstrap_runs')
      .select('id')
      .where('workspace_id', '=', s.workspaceId)
      .execute();
    expect(runs).toHaveLength(1);
    const installed = (await s.ingress.context.queues.lifecycle.getJobs(['completed'])).find(
      (j) => j.name === 'lifecycle.installed',
    );
    expect(installed?.attemptsMade).toBe(2);
    expect(installed?.returnvalue).toBe('applied');
    expect(s.worker!.logs.join('')).toContain('follow-ups did not finish; doing them now');
    await waitFor(
      async () =>
        (
          await s.ingress.context.database.db
            .selectFrom('lifecycle_receipts')
            .select('followups_done_at')
            .where('workspace_id', '=', s.workspaceId)
            .executeTakeFirst()
        )?.followups_done_at != null,
      { message: 'the follow-ups marked done' },
    );
  });
});
