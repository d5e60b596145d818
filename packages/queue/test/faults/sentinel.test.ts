import { Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisVars, defineEnv } from '@cap/config';
import { startOwnRedis, startOwnSentinel, uniquePrefix, waitFor, type OwnRedis, type OwnSentinel } from '@cap/testing';
import {
  JOBS,
  closeQueues,
  createProducerConnection,
  createQueues,
  createWorkerConnection,
  enqueue,
  redisTarget,
  waitForRedis,
} from '../../src/index.js';

let primary: OwnRedis;
let replica: OwnRedis;
let sentinel: OwnSentinel;
beforeAll(async () => {
  primary = await startOwnRedis({ appendonly: true });
  replica = await startOwnRedis({ appendonly: true, replicaOf: primary.port });
  await waitFor(async () => /master_link_status:up/.test(await replica.admin.info('replication')), {
    message: 'the replica in sync',
  });
  sentinel = await startOwnSentinel(primary.port, { downAfterMs: 1000 });
});
afterAll(async () => {
  await sentinel?.close();
  await replica?.close();
  await primary?.close();
});

describe('Redis through Sentinel (REDIS_URL=redis+sentinel://…)', () => {
  it('is a valid REDIS_URL, read as the sentinels and the primary’s name', () => {
    const env = defineEnv('test', redisVars);
    expect(env.parse({ REDIS_URL: sentinel.url }).REDIS_URL).toBe(sentinel.url);
    expect(() => env.parse({ REDIS_URL: 'redis+sentinel://nohost/' })).toThrow(/REDIS_URL/);
    expect(redisTarget('redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26380/main/2')).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
      name: 'main',
      password: 's3cret',
      sentinelPassword: 's3cret',
      db: 2,
    });
    expect(redisTarget('rediss://user:p%40ss@cache.example:6380/1')).toEqual({
      host: 'cache.example',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 1,
      tls: {},
    });
  });

  it('queues and processes jobs through the primary the sentinel names, and keeps doing so after a failover', async () => {
    await waitForRedis(sentinel.url, 5000);
    const prefix = uniquePrefix('sentinel');
    const producer = createProducerConnection({ url: sentinel.url, name: 'sentinel-producer' });
    producer.on('error', () => {});
    const queues = createQueues(producer, prefix);
    const done: string[] = [];
    const workerConnection = createWorkerConnection({ url: sentinel.url, name: 'sentinel-worker' });
    workerConnection.on('error', () => {});
    const worker = new Worker(
      'maintenance',
      async (job: Job) => {
        done.push(String(job.id));
      },
      { connection: workerConnection, prefix },
    );
    worker.on('error', () => {});
    try {
      const first = await enqueue(queues, JOBS.retention, { v: 1 });
      await waitFor(() => done.includes(first), { message: 'the job before the failover' });

      // The primary dies; the sentinel promotes the replica.
      await primary.stop();
      await waitFor(async () => (await sentinel.primary()) === `127.0.0.1:${replica.port}`, {
        timeoutMs: 30_000,
        message: 'the sentinel promoting the replica',
      });
      // The producer fails fast while it finds the new primary, then succeeds there.
      const second = await waitFor(
        async () => {
          try {
            return await enqueue(queues, JOBS.retention, { v: 1 });
          } catch {
            return undefined;
          }
        },
        { timeoutMs: 30_000, message: 'an enqueue on the new primary' },
      );
      await waitFor(() => done.includes(second), { timeoutMs: 30_000, message: 'the job after the failover' });
      expect(await replica.admin.info('replication')).toMatch(/role:master/);
    } finally {
      await worker.close();
      await closeQueues(queues);
      workerConnection.disconnect();
      producer.disconnect();
    }
  });
});
