import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredAddon } from '@cap/addon';
import { addon as exampleAddon, mirrorEntity } from '@cap/workspace-mirror';
import { startOwnRedis, waitFor, type OwnRedis } from '@cap/testing';
import { startStack, type Stack } from '../stack.js';

let redis: OwnRedis;
let s: Stack;
let runs = 0;
let stallRedisAfterHandler = true;

// NEW_TAG's handler stalls every Redis write just before it returns: its transaction commits,
// but the worker cannot acknowledge the job — the window in which a crash leaves a committed
// delivery whose job BullMQ will run again.
const addon: RegisteredAddon = {
  ...exampleAddon,
  handlers: {
    ...exampleAddon.handlers,
    NEW_TAG: async (payload, ctx) => {
      mirrorEntity(payload, ctx);
      runs++;
      if (stallRedisAfterHandler) {
        stallRedisAfterHandler = false;
        await redis.admin.client('PAUSE', 3000, 'WRITE');
      }
    },
  },
};

const FAST_STALL = { WORKER_LOCK_DURATION_MS: '1500', WORKER_STALLED_INTERVAL_MS: '500', AUTO_BOOTSTRAP: 'false' };

beforeAll(async () => {
  redis = await startOwnRedis();
  s = await startStack({
    redisUrl: redis.url,
    addon,
    workerEnv: FAST_STALL,
    sizes: { users: 2, projects: 1, tags: 1, clients: 1, entries: 2 },
  });
  await s.installAndWait();
});
afterAll(async () => {
  await s?.close();
  await redis?.close();
});

describe('a worker killed after the handler transaction committed', () => {
  it('leaves a job BullMQ runs again, and the handler does not run again', async () => {
    const body = { ...s.sim.buildWebhook('NEW_TAG'), id: '7'.repeat(24) };
    expect((await s.sim.sendWebhook('NEW_TAG', body)).status).toBe(200);
    const db = s.ingress.context.database.db;
    const row = () =>
      db
        .selectFrom('webhook_events')
        .selectAll()
        .where('entity_id', '=', body.id as string)
        .executeTakeFirst();
    await waitFor(async () => (await row())?.status === 'done', { message: 'the committed delivery' });
    // The worker dies now, with the job still active in Redis (its acknowledgement is stalled).
    await s.worker!.worker.registry.abort();
    await s.worker!.close().catch(() => undefined);
    await waitFor(async () => (await s.ingress.context.queues.webhooks.getActiveCount()) === 1, {
      message: 'the abandoned job',
    });

    // A replacement finds the stalled job once its lock expired and runs it again…
    await s.startWorker({ env: FAST_STALL });
    const job = await waitFor(
      async () => {
        const done = await s.ingress.context.queues.webhooks.getJobs(['completed']);
        return done.find((j) => String(j.data.body).includes(body.id as string));
      },
      { timeoutMs: 20_000, message: 'the job to complete on the new worker' },
    );
    // …and the durable delivery row makes that run a no-op.
    expect(job.returnvalue).toBe('duplicate');
    expect(runs).toBe(1);
    expect((await row())?.attempts).toBe(1);
  }, 60_000);
});
