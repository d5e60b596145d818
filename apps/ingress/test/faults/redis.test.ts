import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnRedis, waitFor, type OwnRedis } from '@cap/testing';
import type { LifecyclePayload } from '@cap/queue';
import { allJobs, deliveryKeyOf, sendWebhook, startTestIngress, uniqueBody, type TestIngress } from '../helpers.js';

/**
 * The ingress against a redis-server of the test's own, which is killed, paused and restarted.
 * Whatever happens, every request answers within a few seconds, a 503 carries Retry-After, a 2xx
 * is only ever given for an event that is in the queue, and the ingress recovers by itself.
 */

const WS = 'ws-faults';
const ADDON_ID = 'addon-faults';
/** REDIS_COMMAND_TIMEOUT_MS (default 2 s) plus the route's margin, plus scheduling slack. */
const ANSWER_WITHIN_MS = 3500;

let redis: OwnRedis;
let t: TestIngress;
let token: string;

beforeAll(async () => {
  redis = await startOwnRedis();
  t = await startTestIngress({ REDIS_URL: redis.url });
  token = await t.webhookToken(WS);
});
afterAll(async () => {
  await t?.close();
  await redis?.close();
});

interface Delivery {
  readonly raw: string;
  readonly status: number;
  readonly ms: number;
  readonly retryAfter: string | null;
  readonly body: unknown;
}

async function deliver(raw: string): Promise<Delivery> {
  const started = Date.now();
  const res = await sendWebhook(t, { token, body: raw });
  const text = await res.text();
  return {
    raw,
    status: res.status,
    ms: Date.now() - started,
    retryAfter: res.headers.get('retry-after'),
    body: JSON.parse(text) as unknown,
  };
}

function expectBounded(d: Delivery): void {
  expect(d.ms, `answer took ${d.ms} ms`).toBeLessThan(ANSWER_WITHIN_MS);
  expect([200, 503]).toContain(d.status);
  if (d.status === 503) {
    expect(d.retryAfter).toMatch(/^\d+$/);
    expect((d.body as { error: { code: string } }).error.code).toBe('unavailable');
  } else {
    expect(d.body).toEqual({ received: true });
  }
}

async function queuedKeys(): Promise<Set<string>> {
  return new Set((await allJobs(t.queues.webhooks)).map((j) => (j.data as { deliveryKey: string }).deliveryKey));
}

async function waitRecovered(): Promise<void> {
  await waitFor(async () => (await deliver(JSON.stringify(uniqueBody(WS)))).status === 200, {
    timeoutMs: 20_000,
    intervalMs: 200,
    message: 'a 200 again',
  });
  await waitFor(async () => (await fetch(`${t.url}/ready`)).status === 200, {
    timeoutMs: 10_000,
    message: '/ready 200 again',
  });
}

/**
 * The invariant: each delivery answered 2xx is in the queue; each answered 503 goes through when
 * resent after recovery (a gate left behind by a failed attempt would make it a "duplicate" of an
 * event that was never queued), and then it is in the queue too.
 */
async function expectNothingLost(deliveries: readonly Delivery[]): Promise<void> {
  const keys = await queuedKeys();
  for (const d of deliveries.filter((x) => x.status === 200)) {
    expect(keys.has(deliveryKeyOf(WS, 'NEW_TAG', token, d.raw)), 'a 2xx for an event that is not queued').toBe(true);
  }
  for (const d of deliveries.filter((x) => x.status === 503)) {
    const again = await deliver(d.raw);
    expect(again.status).toBe(200);
    expect(
      (await queuedKeys()).has(deliveryKeyOf(WS, 'NEW_TAG', token, d.raw)),
      'a resent 503 must end up queued',
    ).toBe(true);
  }
  expect((await allJobs(t.queues.webhooks)).length).toBeLessThanOrEqual(deliveries.length * 2 + 100);
}

describe('Redis faults', () => {
  it('CLIENT KILL of the ingress connections: bounded answers, no 2xx for an unqueued event, recovery by itself', async () => {
    await t.queues.webhooks.obliterate({ force: true });
    const deliveries: Delivery[] = [];
    let stop = false;
    const sender = async () => {
      while (!stop) {
        const d = await deliver(JSON.stringify(uniqueBody(WS)));
        expectBounded(d);
        deliveries.push(d);
      }
    };
    const senders = [sender(), sender(), sender(), sender()];
    try {
      for (let round = 0; round < 3; round++) {
        // Let traffic flow (the ingress has reconnected by itself), then cut every connection it holds.
        const accepted = () => deliveries.filter((d) => d.status === 200).length;
        const before = accepted();
        await waitFor(() => accepted() >= before + 10, {
          timeoutMs: 15_000,
          message: 'accepted traffic before the kill',
        });
        expect(await redis.killClients()).toBeGreaterThan(0);
      }
      const before = deliveries.length;
      await waitFor(() => deliveries.slice(before).some((d) => d.status === 200), {
        timeoutMs: 15_000,
        message: 'acceptance after the kills',
      });
    } finally {
      stop = true;
      await Promise.all(senders);
    }
    expect(deliveries.filter((d) => d.status === 200).length).toBeGreaterThan(30);
    await waitRecovered();
    await expectNothingLost(deliveries);
  });

  it('CLIENT PAUSE: answers 503 within ~3 s instead of hanging, then recovers', async () => {
    await t.queues.webhooks.obliterate({ force: true });
    await redis.pause(6000);
    const paused = Date.now();
    const during = await Promise.all(Array.from({ length: 5 }, () => deliver(JSON.stringify(uniqueBody(WS)))));
    for (const d of during) {
      expectBounded(d);
      expect(d.status).toBe(503);
    }
    const readyStarted = Date.now();
    const ready = await fetch(`${t.url}/ready`);
    expect(ready.status).toBe(503);
    expect(Date.now() - readyStarted).toBeLessThan(ANSWER_WITHIN_MS);
    // Still inside the pause: the answers above did not wait for it to end.
    expect(Date.now() - paused).toBeLessThan(6000);
    await waitRecovered();
    await expectNothingLost(during);
  });

  it('Redis stopped and restarted: 503 meanwhile, /ready follows, then 200 again', async () => {
    await redis.stop();
    const down = await waitFor(
      async () => {
        const d = await deliver(JSON.stringify(uniqueBody(WS)));
        expectBounded(d);
        return d.status === 503 ? d : undefined;
      },
      { timeoutMs: 10_000, message: 'a 503 while Redis is down' },
    );
    expect(down.retryAfter).toMatch(/^\d+$/);
    const more = await Promise.all(Array.from({ length: 5 }, () => deliver(JSON.stringify(uniqueBody(WS)))));
    for (const d of more) {
      expectBounded(d);
      expect(d.status).toBe(503);
    }
    // The detail is on the ops port; the public /ready says only "not ready".
    expect((await fetch(`${t.url}/ready`)).status).toBe(503);
    const ready = await fetch(`${t.opsUrl}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { redis: string } }).checks.redis).not.toBe('ok');
    expect((await fetch(`${t.url}/health`)).status).toBe(200);

    await redis.start();
    await waitRecovered();
    // The restarted server kept nothing (no AOF here); what was refused goes through when resent.
    await expectNothingLost([down, ...more]);
  });
});

interface LifecycleAnswer {
  readonly kind: 'installed' | 'status-changed';
  readonly status: number;
  readonly ms: number;
  readonly retryAfter: string | null;
  readonly requestId: string | null;
  readonly body: unknown;
}

/** A lifecycle event signed as Clockify sends it (X-Addon-Lifecycle-Token). */
async function lifecycle(kind: LifecycleAnswer['kind']): Promise<LifecycleAnswer> {
  const body =
    kind === 'installed'
      ? {
          addonId: ADDON_ID,
          workspaceId: WS,
          authToken: await t.installationToken(WS, ADDON_ID),
          apiUrl: 'https://euc1.clockify.me/api',
          webhooks: [],
        }
      : { addonId: ADDON_ID, workspaceId: WS, status: 'ACTIVE' };
  const headers = {
    'content-type': 'application/json',
    'x-addon-lifecycle-token': await t.lifecycleToken({ workspaceId: WS, addonId: ADDON_ID }),
  };
  const started = Date.now();
  const res = await fetch(`${t.url}/lifecycle/${kind}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  return {
    kind,
    status: res.status,
    ms: Date.now() - started,
    retryAfter: res.headers.get('retry-after'),
    requestId: res.headers.get('x-request-id'),
    body: JSON.parse(text) as unknown,
  };
}

function expectRefusedFast(a: LifecycleAnswer): void {
  expect(a.ms, `${a.kind} answer took ${a.ms} ms`).toBeLessThan(ANSWER_WITHIN_MS);
  expect(a.status, JSON.stringify(a.body)).toBe(503);
  expect(a.retryAfter).toMatch(/^\d+$/);
  expect((a.body as { error: { code: string } }).error.code).toBe('unavailable');
}

async function queuedLifecycle(): Promise<Array<{ name: string; requestId: string | undefined }>> {
  return (await allJobs(t.queues.lifecycle)).map((j) => ({
    name: j.name,
    requestId: (j.data as LifecyclePayload).requestId,
  }));
}

/** Once Redis is back both lifecycle routes answer 200, and exactly what they accepted is queued. */
async function expectLifecycleRecovered(refused: readonly LifecycleAnswer[]): Promise<void> {
  const first = await waitFor(
    async () => {
      const a = await lifecycle('status-changed');
      return a.status === 200 ? a : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: 'a lifecycle 200 again' },
  );
  const installed = await lifecycle('installed');
  expect(installed.status).toBe(200);
  for (const a of [first, installed]) expect(a.body).toEqual({ received: true });

  const jobs = await queuedLifecycle();
  expect(jobs.map((j) => j.requestId).sort()).toEqual([first.requestId, installed.requestId].sort());
  expect(jobs.map((j) => j.name).sort()).toEqual(['lifecycle.installed', 'lifecycle.status-changed']);
  for (const a of refused) {
    expect(
      jobs.some((j) => j.requestId === a.requestId),
      'a 503 lifecycle event ended up queued',
    ).toBe(false);
  }
}

describe('Redis faults on the lifecycle route', () => {
  it('CLIENT PAUSE: 503 with Retry-After within ~3 s, nothing queued, then 200 and queued', async () => {
    await t.queues.lifecycle.obliterate({ force: true });
    await redis.pause(6000);
    const paused = Date.now();
    const during = await Promise.all([
      lifecycle('installed'),
      lifecycle('status-changed'),
      lifecycle('installed'),
      lifecycle('status-changed'),
    ]);
    for (const a of during) expectRefusedFast(a);
    // Still inside the pause: the answers did not wait for it to end.
    expect(Date.now() - paused).toBeLessThan(6000);

    // After the pause the stalled commands run; none of them may turn into a job.
    await expectLifecycleRecovered(during);
  });

  it('Redis stopped: 503 with Retry-After within ~3 s, nothing queued, then 200 and queued once it is back', async () => {
    await redis.stop();
    const first = await waitFor(
      async () => {
        const a = await lifecycle('status-changed');
        expect(a.ms).toBeLessThan(ANSWER_WITHIN_MS);
        expect([200, 503]).toContain(a.status);
        return a.status === 503 ? a : undefined;
      },
      { timeoutMs: 10_000, message: 'a lifecycle 503 while Redis is down' },
    );
    expectRefusedFast(first);
    const more = await Promise.all([lifecycle('installed'), lifecycle('status-changed'), lifecycle('installed')]);
    for (const a of more) expectRefusedFast(a);

    await redis.start();
    // The restarted server kept nothing (no AOF here): every job in it came after the restart,
    // so a refused event replayed on reconnect would show up here.
    await expectLifecycleRecovered([first, ...more]);
  });
});
