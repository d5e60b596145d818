import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '@cap/observability';
import { deleteRedisPrefix, testRedisUrl, uniquePrefix } from '@cap/testing';
import { registerQueueGauges } from '../src/index.js';

const prefix = uniquePrefix('queue-gauges');
let redis: Redis;
let webhooks: Queue;
let bootstrap: Queue;

beforeAll(() => {
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  webhooks = new Queue('webhooks', { connection: redis, prefix });
  bootstrap = new Queue('bootstrap', { connection: redis, prefix });
});
afterAll(async () => {
  await webhooks?.close();
  await bootstrap?.close();
  await deleteRedisPrefix(testRedisUrl(), prefix);
  redis?.disconnect();
});

/** The value of the sample of `name` carrying every one of `labels` (`k="v",…`), or undefined. */
async function sample(metrics: Metrics, name: string, labels: string): Promise<number | undefined> {
  const { body } = await metrics.render();
  const wanted = labels.split(',');
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('registerQueueGauges', () => {
  it('exports each queue’s jobs by state and how long the job next in line has waited', async () => {
    let now = Date.now();
    const metrics = new Metrics({ app: 'test', defaultMetrics: false });
    registerQueueGauges(metrics, redis, [webhooks, bootstrap], () => now);

    expect(await sample(metrics, 'queue_oldest_waiting_seconds', 'app="test",queue="webhooks"')).toBe(0);
    const t = Date.now();
    // Explicit creation times, so the heads are told apart by their age.
    await webhooks.add('webhook.process', { n: 1 }, { priority: 3, timestamp: t - 20_000 });
    await webhooks.add('webhook.process', { n: 2 }, { priority: 1, timestamp: t - 1_000 });
    await bootstrap.add('bootstrap.start', { n: 3 }, { timestamp: t - 10_000 });
    await bootstrap.add('bootstrap.start', { n: 4 }, { timestamp: t - 5_000 });
    await bootstrap.add('bootstrap.start', { n: 5 }, { delay: 60_000 });

    now = t + 42_000;
    expect(await sample(metrics, 'queue_jobs', 'app="test",queue="webhooks",state="waiting"')).toBe(2);
    expect(await sample(metrics, 'queue_jobs', 'app="test",queue="bootstrap",state="waiting"')).toBe(2);
    expect(await sample(metrics, 'queue_jobs', 'app="test",queue="bootstrap",state="delayed"')).toBe(1);
    // The head of the FIFO list is its first job (52 s); the head of the prioritized set is the
    // lowest priority, served next (43 s), though an older one waits behind it.
    expect(await sample(metrics, 'queue_oldest_waiting_seconds', 'app="test",queue="bootstrap"')).toBe(52);
    expect(await sample(metrics, 'queue_oldest_waiting_seconds', 'app="test",queue="webhooks"')).toBe(43);
  });
});
