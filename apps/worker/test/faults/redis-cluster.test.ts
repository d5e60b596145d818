import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRedis } from '@cap/app-process';
import { RateLimiter } from '@cap/clockify';
import { listEntities } from '@cap/db';
import { createProducerConnection } from '@cap/queue';
import { startOwnCluster, uniquePrefix, waitFor, type OwnCluster } from '@cap/testing';
import { startStack, type Stack } from '../stack.js';

/**
 * The platform on a real 3-node Redis Cluster (REDIS_URL=redis+cluster://…): the lifecycle
 * sequence (install), the limiter (the bootstrap's API calls), the webhook path (gates, fair
 * turns, BullMQ) and the worker, all with their keys in the hash-tagged prefix's slot.
 */
let cluster: OwnCluster;
let s: Stack | undefined;
beforeAll(async () => {
  cluster = await startOwnCluster(3);
});
afterAll(async () => {
  await s?.close();
  await cluster?.close();
});

describe('Redis Cluster', () => {
  it('refuses a BULLMQ_PREFIX that is not a hash tag, naming the fix', async () => {
    await expect(requireRedis(cluster.url, 5000, 'cap')).rejects.toThrow(
      /BULLMQ_PREFIX must start with a hash tag such as \{cap\}/,
    );
    await requireRedis(cluster.url, 5000, '{cap}');
  });

  it('runs install, bootstrap and webhooks end to end on the cluster', async () => {
    s = await startStack({
      redisUrl: cluster.url,
      prefix: `{${uniquePrefix('cluster')}}`,
      sizes: { users: 2, projects: 3, tags: 3, clients: 1, entries: 10 },
    });
    await s.installAndWait();
    const run = await s.waitForRun(['COMPLETED', 'PARTIAL', 'FAILED']);
    expect(run.status).toBe('COMPLETED');
    expect((await s.mirrorDiff()).equal).toBe(true);

    const body = { ...s.sim.buildWebhook('NEW_TAG'), id: 'c'.repeat(24), name: 'on the cluster' };
    expect((await s.sim.sendWebhook('NEW_TAG', body)).status).toBe(200);
    // The same delivery again is a duplicate the gates drop.
    expect((await s.sim.sendWebhook('NEW_TAG', body)).status).toBe(200);
    const db = s.ingress.context.database.db;
    const tag = await waitFor(
      async () => (await listEntities(db, s!.workspaceId, 'tag')).find((e) => e.entity_id === body.id),
      { message: 'the webhook applied' },
    );
    expect(tag.data).toMatchObject({ name: 'on the cluster' });

    // Every key the platform wrote is in the prefix's slot, on one node of the three.
    const perNode = await Promise.all(
      cluster.ports.map(async (port) => {
        const node = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
        try {
          let count = 0;
          let cursor = '0';
          do {
            const [next, keys] = await node.scan(cursor, 'MATCH', `${s!.prefix}*`, 'COUNT', 1000);
            cursor = next;
            count += keys.length;
          } while (cursor !== '0');
          return count;
        } finally {
          node.disconnect();
        }
      }),
    );
    expect(perNode.filter((n) => n > 0)).toHaveLength(1);
    expect(Math.max(...perNode)).toBeGreaterThan(10);
  });

  it('paces a workspace with the shared limiter', async () => {
    const redis = createProducerConnection({ url: cluster.url, name: 'cluster-limiter' });
    try {
      // A producer fails fast until it is ready (no offline queue), as the apps wait for at start.
      if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
      const limiter = new RateLimiter(redis, { prefix: `{${uniquePrefix('limit')}}`, rps: 5 });
      const grants = await Promise.all(
        Array.from({ length: 8 }, () => limiter.acquire('ws-cluster', { maxWaitMs: 0 })),
      );
      // Five requests a second: the rest of a burst of eight must wait.
      expect(grants.filter((g) => g.granted && g.waitMs === 0).length).toBeLessThanOrEqual(5);
      expect(grants.some((g) => !g.granted || g.waitMs > 0)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});
