import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix, testRedisUrl, uniquePrefix } from '@cap/testing';
import { admitWebhook } from '../src/admission.js';
import { LAST_TURN } from '../src/fairness.js';
import { gateKey } from '../src/gates.js';

let redis: Redis;
let prefix: string;
let queue: Queue;

beforeAll(() => {
  redis = new Redis(testRedisUrl());
});
afterEach(async () => {
  await queue?.close();
  await deleteRedisPrefix(testRedisUrl(), prefix);
});
afterAll(async () => {
  await redis.quit();
});

function freshQueue(): Queue {
  prefix = uniquePrefix('fair');
  queue = new Queue('webhooks', { connection: redis, prefix });
  return queue;
}

/** Takes a turn (and a content gate of its own) and queues a job at it, as the webhook route does. */
async function deliver(workspaceId: string, maxAhead?: number, contentKey: string = randomUUID()) {
  const jobId = randomUUID();
  const admission = await admitWebhook(redis, queue, {
    workspaceId,
    ...(maxAhead !== undefined ? { maxAhead } : {}),
    gate: gateKey(prefix, contentKey),
    gateKind: 'content',
    holder: jobId,
    contentKey,
    windowMs: 60_000,
  });
  if (admission.outcome === 'refused') return { accepted: false, ahead: admission.ahead } as const;
  if (admission.outcome !== 'dup')
    await queue.add('webhook.process', { workspaceId }, { jobId, priority: admission.turn });
  return { accepted: true, turn: admission.turn, ahead: admission.ahead } as const;
}

/** Workspaces of the queued jobs in the order BullMQ serves them. */
async function servingOrder(): Promise<string[]> {
  const jobs = await queue.getPrioritized(0, -1);
  return jobs.map((j) => (j.data as { workspaceId: string }).workspaceId);
}

describe('fair turns between workspaces', () => {
  it("puts a quiet workspace's delivery at the head of the queue, not behind a flood", async () => {
    freshQueue();
    const turns: number[] = [];
    for (let i = 0; i < 50; i++) {
      const fair = await deliver('ws-a');
      expect(fair.accepted).toBe(true);
      if (fair.accepted) turns.push(fair.turn);
    }
    // Within a workspace turns only grow: its deliveries are served in the order they came.
    expect(turns).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await deliver('ws-b')).toEqual({ accepted: true, turn: 1, ahead: 0 });
    expect(await deliver('ws-c')).toEqual({ accepted: true, turn: 1, ahead: 0 });
    // B's second delivery takes its next turn: after A's second, before A's third.
    expect(await deliver('ws-b')).toEqual({ accepted: true, turn: 2, ahead: 1 });
    const order = await servingOrder();
    expect(order.slice(0, 6)).toEqual(['ws-a', 'ws-b', 'ws-c', 'ws-a', 'ws-b', 'ws-a']);
    expect(order).toHaveLength(53);
  });

  it('starts a workspace that comes back at the turn being served, not where it stopped', async () => {
    freshQueue();
    for (let i = 0; i < 20; i++) await deliver('ws-a');
    for (let i = 0; i < 3; i++) await deliver('ws-b');
    // The workers take A's first ten and all of B's: the head is now A's eleventh (turn 11).
    for (let i = 0; i < 13; i++) {
      const [job] = await queue.getPrioritized(0, 0);
      await job!.remove();
    }
    expect(await deliver('ws-b')).toEqual({ accepted: true, turn: 11, ahead: 0 });
  });

  it('begins a new round of turns once nothing waits, so turns stay small', async () => {
    freshQueue();
    for (let i = 0; i < 5; i++) await deliver('ws-a');
    await queue.obliterate({ force: true });
    expect(await deliver('ws-a')).toEqual({ accepted: true, turn: 1, ahead: 0 });
  });

  it('refuses, while shedding, a workspace too far ahead of its turn and records nothing for it', async () => {
    freshQueue();
    for (let i = 0; i < 10; i++) await deliver('ws-a');
    expect(await deliver('ws-a', 5)).toEqual({ accepted: false, ahead: 10 });
    expect(await deliver('ws-b', 5)).toEqual({ accepted: true, turn: 1, ahead: 0 });
    // The refusal took no turn: without the limit A gets the turn it would have had.
    expect(await deliver('ws-a')).toMatchObject({ accepted: true, turn: 11 });

    // Shedding on a backlog that is all delayed (nothing prioritized): the round is kept, so the
    // flooding workspace is still recognised.
    const waiting = await queue.getPrioritized(0, -1);
    for (const job of waiting) await job.remove();
    expect(await deliver('ws-a', 5)).toEqual({ accepted: false, ahead: 11 });
    expect(await deliver('ws-c', 5)).toMatchObject({ accepted: true, ahead: 0 });
  });

  it('takes the turn and the gate in one call: a refused delivery takes no gate, so its retry is no duplicate', async () => {
    freshQueue();
    for (let i = 0; i < 10; i++) await deliver('ws-a');
    const content = randomUUID();
    expect(await deliver('ws-a', 5, content)).toEqual({ accepted: false, ahead: 10 });
    expect(await redis.exists(gateKey(prefix, content))).toBe(0);
    // The retry, once the workspace is no longer shed, takes the gate and is queued …
    expect(await deliver('ws-a', undefined, content)).toMatchObject({ accepted: true, turn: 11 });
    expect(await redis.exists(gateKey(prefix, content))).toBe(1);
    // … and the same content again is a duplicate: it is not queued.
    const queued = await queue.getPrioritizedCount();
    await deliver('ws-a', undefined, content);
    expect(await queue.getPrioritizedCount()).toBe(queued);
  });

  it('never goes past the last priority BullMQ accepts', async () => {
    freshQueue();
    await deliver('ws-a');
    await redis.set(
      `${prefix}:fair:webhooks:ws:ws-a`,
      `${(await redis.hget(`${prefix}:fair:webhooks:state`, 'epoch'))!}:${LAST_TURN}`,
    );
    const fair = await deliver('ws-a');
    expect(fair).toMatchObject({ accepted: true, turn: LAST_TURN });
  });
});
