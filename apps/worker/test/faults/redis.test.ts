import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnRedis, waitFor, type AppProcess, type OwnRedis } from '@cap/testing';
import { startStack, type Stack } from '../stack.js';
import { DeliveryLedger } from './deliveries.js';

let redis: OwnRedis;
let s: Stack;
let worker: AppProcess;
let readyUrl: string;

beforeAll(async () => {
  redis = await startOwnRedis({ appendonly: true });
  s = await startStack({
    noWorker: true,
    redisUrl: redis.url,
    sizes: { users: 2, projects: 2, tags: 2, clients: 1, entries: 4 },
  });
  worker = s.spawnWorker({ AUTO_BOOTSTRAP: 'false', WEBHOOK_JOB_BACKOFF_MS: '200' });
  const port = await worker.logField<number>(/worker ready/, 'port');
  readyUrl = `http://127.0.0.1:${port}/ready`;
  await s.installAndWait();
});
afterAll(async () => {
  await s?.close();
  await redis?.close();
});

describe('workers under Redis faults', () => {
  it('keep running and lose nothing the ingress acknowledged: connections killed, Redis paused, Redis restarted', async () => {
    const ledger = new DeliveryLedger(s);
    await ledger.send(10);
    expect(ledger.acknowledged.size).toBe(10);

    // Every connection dropped (ingress and worker alike).
    expect(await redis.killClients()).toBeGreaterThan(0);
    await ledger.send(10);

    // Every command stalls for 4 s: the ingress answers within a few seconds anyway.
    await redis.pause(4000);
    const pausedStart = Date.now();
    await ledger.send(10);
    expect(Date.now() - pausedStart).toBeLessThan(4000 + 1500);

    // Redis goes away for a few seconds and comes back with its data (AOF).
    await redis.stop();
    await ledger.send(5);
    expect(ledger.refused.size).toBeGreaterThan(0);
    await redis.start();
    await waitFor(async () => (await fetch(readyUrl)).status === 200, {
      timeoutMs: 30_000,
      message: 'the worker ready again',
    });

    // Recovered by itself: new deliveries are accepted again.
    await waitFor(
      async () => {
        const before = ledger.acknowledged.size;
        await ledger.send(1);
        return ledger.acknowledged.size > before;
      },
      { timeoutMs: 20_000, message: 'the ingress accepting again' },
    );
    const beforeLast = ledger.acknowledged.size;
    await ledger.send(10);
    expect(ledger.acknowledged.size - beforeLast).toBe(10);

    await waitFor(
      async () => {
        const done = await ledger.processed();
        return [...ledger.acknowledged].every((id) => done.has(id));
      },
      { timeoutMs: 60_000, message: 'every acknowledged delivery processed' },
    );
    expect(worker.child.exitCode).toBeNull();
    // What was refused was refused with 503 (the sender retries), never dropped silently.
    expect([...ledger.refused.keys()]).toEqual([503]);
    // Never a hang: every answer (2xx or 503) came within a few seconds.
    expect(ledger.maxLatencyMs()).toBeLessThan(6000);
  }, 150_000);
});
