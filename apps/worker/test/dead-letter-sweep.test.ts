import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDeadLetters } from '@cap/db';
import { waitFor } from '@cap/testing';
import { runDeadLetterSweep } from '../src/maintenance/dead-letters.js';
import { countingAddon } from './counting-addon.js';
import { startStack, type Stack } from './stack.js';

/**
 * A job that failed for good must end in `dead_letters` even when the worker could not write it
 * then (Postgres down, or the worker died between the failure and the write).
 */

const counting = countingAddon();
let s: Stack;
beforeAll(async () => {
  s = await startStack({
    sizes: { users: 2, projects: 1, tasksPerProject: 1, tags: 1, clients: 1, entries: 2 },
    addon: counting.addon,
    ingressEnv: { WEBHOOK_JOB_ATTEMPTS: '1' },
    workerEnv: { WEBHOOK_JOB_ATTEMPTS: '1', AUTO_BOOTSTRAP: 'false' },
  });
  await s.installAndWait();
});
afterAll(async () => {
  await s?.close();
});

describe('the dead-letter sweep', () => {
  it('records a failed job whose dead letter was lost, then removes it from Redis', async () => {
    counting.failing.add('NEW_TAG');
    const body = { ...s.sim.buildWebhook('NEW_TAG'), id: 'd'.repeat(24) };
    expect((await s.sim.sendWebhook('NEW_TAG', body)).status).toBe(200);
    const db = s.ingress.context.database.db;
    const letter = await waitFor(async () => (await listDeadLetters(db, { workspaceId: s.workspaceId }))[0], {
      message: 'the dead letter the worker wrote',
    });
    // As if the worker had died between the job's failure and this write.
    await db.deleteFrom('dead_letters').where('id', '=', letter.id).execute();
    const queue = s.ingress.context.queues.webhooks;
    expect(await queue.getFailedCount()).toBe(1);

    const deps = s.worker!.worker.deps;
    expect(await runDeadLetterSweep(deps)).toEqual({ recorded: 1, removed: 1 });
    const [again] = await listDeadLetters(db, { workspaceId: s.workspaceId });
    expect(again).toMatchObject({ queue: 'webhooks', job_id: letter.job_id, job_name: 'webhook.process' });
    expect(again!.error).toContain('failing on purpose');
    expect(await queue.getFailedCount()).toBe(0);
    const metrics = (await deps.metrics.render()).body;
    expect(metrics).toMatch(/dead_letters_open\{[^}]*\} 1/);
    expect(metrics).toMatch(/dead_letters_oldest_age_seconds\{[^}]*\} \d/);
    // Nothing left to do: a second sweep records and removes nothing.
    expect(await runDeadLetterSweep(deps)).toEqual({ recorded: 0, removed: 0 });
    counting.failing.delete('NEW_TAG');
  });
});
