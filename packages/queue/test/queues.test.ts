import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix, testRedisUrl, uniquePrefix, waitFor } from '@cap/testing';
import {
  closeQueues,
  createProducerConnection,
  createQueues,
  DEFAULT_JOB_OPTIONS,
  enqueue,
  InvalidPayloadError,
  JOB_QUEUE,
  JOBS,
  QUEUES,
  queueFor,
  type JobName,
  type Queues,
} from '../src/index.js';

const url = testRedisUrl();
const prefixes: string[] = [];
let connection: Redis;
let admin: Redis;
const opened: Queues[] = [];

function queues(policy?: Parameters<typeof createQueues>[2]): { queues: Queues; prefix: string } {
  const prefix = uniquePrefix('queue-q');
  prefixes.push(prefix);
  const q = createQueues(connection, prefix, policy);
  opened.push(q);
  return { queues: q, prefix };
}

beforeAll(async () => {
  connection = createProducerConnection({ url, name: 'queue-package-test' });
  admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  // No offline queue: commands are refused until the connection is ready.
  await waitFor(() => connection.status === 'ready', { message: 'the producer connection to be ready' });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((q) => closeQueues(q)));
});

afterAll(async () => {
  await Promise.all(prefixes.map((p) => deleteRedisPrefix(url, p)));
  connection?.disconnect();
  admin?.disconnect();
});

describe('createQueues', () => {
  it('creates one queue per name, under the given prefix, with the per-queue defaults', () => {
    const { queues: q, prefix } = queues();
    expect(Object.keys(q).sort()).toEqual(Object.keys(QUEUES).sort());
    for (const [key, name] of Object.entries(QUEUES) as Array<[keyof Queues, string]>) {
      expect(q[key].name).toBe(name);
      expect(q[key].opts.prefix).toBe(prefix);
      expect(q[key].qualifiedName).toBe(`${prefix}:${name}`);
      expect(q[key].defaultJobOptions).toEqual(DEFAULT_JOB_OPTIONS[name as keyof typeof DEFAULT_JOB_OPTIONS]);
    }
  });

  it('applies webhookAttempts and webhookBackoffMs to the webhooks queue only', () => {
    const { queues: q } = queues({ webhookAttempts: 3, webhookBackoffMs: 250 });
    expect(q.webhooks.defaultJobOptions).toEqual({
      ...DEFAULT_JOB_OPTIONS.webhooks,
      attempts: 3,
      backoff: { type: 'exponential', delay: 250, jitter: 0.5 },
    });
    expect(q.lifecycle.defaultJobOptions).toEqual(DEFAULT_JOB_OPTIONS.lifecycle);
    expect(q.bootstrap.defaultJobOptions).toEqual(DEFAULT_JOB_OPTIONS.bootstrap);
    expect(q.maintenance.defaultJobOptions).toEqual(DEFAULT_JOB_OPTIONS.maintenance);
  });

  it('queueFor returns the queue that carries each job', () => {
    const { queues: q } = queues();
    for (const job of Object.values(JOBS) as JobName[]) expect(queueFor(q, job).name).toBe(JOB_QUEUE[job]);
  });
});

describe('enqueue', () => {
  it('stores a validated job under the prefix, in its queue, with the queue defaults and a random id', async () => {
    const { queues: q, prefix } = queues({ webhookAttempts: 4 });
    const payload = { v: 1 as const, workspaceId: 'ws-1', addonId: 'addon-1', trigger: 'manual' as const };
    const id1 = await enqueue(q, JOBS.bootstrapStart, payload);
    const id2 = await enqueue(q, JOBS.bootstrapStart, payload);
    expect(id1).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id2).not.toBe(id1);

    const job = await q.bootstrap.getJob(id1);
    expect(job?.name).toBe('bootstrap.start');
    expect(job?.data).toEqual(payload);
    expect(job?.opts.attempts).toBe(DEFAULT_JOB_OPTIONS.bootstrap.attempts);
    expect(await admin.exists(`${prefix}:bootstrap:${id1}`)).toBe(1);
    expect(await q.lifecycle.getJob(id1)).toBeUndefined();
  });

  it('uses the given jobId and options', async () => {
    const { queues: q } = queues();
    const id = await enqueue(q, JOBS.retention, { v: 1 }, { jobId: 'retention-fixed', attempts: 2 });
    expect(id).toBe('retention-fixed');
    const job = await q.maintenance.getJob(id);
    expect(job?.name).toBe('maintenance.retention');
    expect(job?.opts.attempts).toBe(2);
    // An explicit `jobId: undefined` (e.g. from a spread of optional options) still gets a random id.
    const random = await enqueue(q, JOBS.retention, { v: 1 }, { jobId: undefined, attempts: 2 });
    expect(random).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses an invalid payload before anything reaches Redis', async () => {
    const { queues: q, prefix } = queues();
    await expect(
      enqueue(q, JOBS.bootstrapStart, { v: 2, workspaceId: 'ws-1', addonId: 'a', trigger: 'manual' } as never),
    ).rejects.toThrow(InvalidPayloadError);
    const counts = await q.bootstrap.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await admin.exists(`${prefix}:bootstrap:id`)).toBe(0);
  });
});
