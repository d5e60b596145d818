import { describe, expect, it } from 'vitest';
import { JOBS, JOB_QUEUE, QUEUE_NAMES } from '@cap/queue';
import { CATALOG } from './catalog.js';
import { defineQueue, jobSpecOf } from './runtime/catalog.js';

describe('the job catalog', () => {
  it('has one module per queue, and every job name exactly once, in the queue that carries it', () => {
    expect(CATALOG.map((q) => q.queue).sort()).toEqual([...QUEUE_NAMES].sort());
    const declared = CATALOG.flatMap((q) => Object.keys(q.jobs).map((name) => [name, q.queue]));
    expect(declared.map(([name]) => name).sort()).toEqual(Object.values(JOBS).sort());
    for (const [name, queue] of declared) expect(JOB_QUEUE[name as keyof typeof JOB_QUEUE]).toBe(queue);
  });

  it('says what follows a bootstrap job that failed for good, and nothing for the others', () => {
    const withFollowUp = CATALOG.flatMap((q) =>
      Object.entries(q.jobs).flatMap(([name, spec]) => (spec?.onExhausted ? [name] : [])),
    );
    expect(withFollowUp.sort()).toEqual([JOBS.bootstrapResource, JOBS.bootstrapStart].sort());
  });

  it('refuses a binding that is not exactly its contract, and finds no spec for an unknown name', () => {
    const noop = { process: () => Promise.resolve() };
    expect(() =>
      defineQueue({
        queue: 'webhooks',
        concurrency: () => 1,
        // @ts-expect-error -- the retention job is not the webhook queue's
        jobs: { [JOBS.webhookProcess]: noop, [JOBS.retention]: noop },
      }),
    ).toThrow(/declares jobs webhook.process but the worker binds maintenance.retention, webhook.process/);
    expect(() =>
      // @ts-expect-error -- the bootstrap queue also carries bootstrap.resource
      defineQueue({ queue: 'bootstrap', concurrency: () => 1, jobs: { [JOBS.bootstrapStart]: noop } }),
    ).toThrow(/declares jobs bootstrap.resource, bootstrap.start but the worker binds bootstrap.start$/);
    const webhooks = CATALOG.find((q) => q.queue === 'webhooks')!;
    expect(jobSpecOf(webhooks, JOBS.webhookProcess)).toBeDefined();
    expect(jobSpecOf(webhooks, 'toString')).toBeUndefined();
    expect(jobSpecOf(webhooks, 'webhook.unknown')).toBeUndefined();
  });
});
