import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnRedis, waitFor, type OwnRedis } from '@cap/testing';
import { allJobs, expectError, sendWebhook, startTestIngress, uniqueBody, type TestIngress } from '../helpers.js';

/**
 * Acknowledged means durable: against a primary with one replica (no AOF), the ingress answers a
 * lifecycle call — and, with WEBHOOK_DURABLE_ACK, a webhook — 2xx only once the replica holds
 * the job. A replica that stops answering turns the answers into 503 within the timeout.
 */

const WS = 'ws-durable';
const ADDON_ID = 'addon-durable';

let primary: OwnRedis;
let replica: OwnRedis;
let t: TestIngress;

beforeAll(async () => {
  primary = await startOwnRedis();
  replica = await startOwnRedis({ replicaOf: primary.port });
  await waitFor(async () => /master_link_status:up/.test(await replica.admin.info('replication')), {
    message: 'the replica in sync',
  });
  t = await startTestIngress({
    REDIS_URL: primary.url,
    REDIS_DURABLE_ACK_TIMEOUT_MS: '500',
    WEBHOOK_DURABLE_ACK: 'true',
  });
});
afterAll(async () => {
  await t?.close();
  await replica?.close();
  await primary?.close();
});

async function installed(): Promise<Response> {
  return fetch(`${t.url}/lifecycle/installed`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-addon-lifecycle-token': await t.lifecycleToken({ workspaceId: WS, addonId: ADDON_ID }),
    },
    body: JSON.stringify({
      addonId: ADDON_ID,
      workspaceId: WS,
      authToken: await t.installationToken(WS, ADDON_ID),
      apiUrl: 'https://euc1.clockify.me/api',
      webhooks: [],
    }),
  });
}

describe('2xx only once Redis confirmed the job durable', () => {
  it('says at start what it waits for', () => {
    expect(t.ingress.context.durable.durability.mode).toBe('replica');
    expect(t.logs.some((l) => /answer 2xx once Redis confirms the job durable/.test(l))).toBe(true);
  });

  it('answers 200 once the replica holds the job, 503 not_durable while it does not answer', async () => {
    const ok = await installed();
    expect(ok.status).toBe(200);
    const [job] = await allJobs(t.queues.lifecycle);
    expect(await replica.admin.exists(`${t.prefix}:lifecycle:${job!.id}`)).toBe(1);
    const token = await t.webhookToken(WS, ADDON_ID);
    expect((await sendWebhook(t, { token, body: uniqueBody(WS) })).status).toBe(200);

    replica.freeze();
    try {
      const started = Date.now();
      const refused = await installed();
      await expectError(refused, 503, 'not_durable');
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      await expectError(await sendWebhook(t, { token, body: uniqueBody(WS) }), 503, 'not_durable');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      replica.thaw();
    }
    await waitFor(async () => (await installed()).status === 200, {
      message: 'acknowledgements after the replica is back',
    });
  });
});
