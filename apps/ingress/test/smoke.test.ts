import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIngress, type TestIngress } from './helpers.js';

let t: TestIngress;
beforeAll(async () => {
  t = await startTestIngress();
});
afterAll(async () => {
  await t?.close();
});

describe('ingress smoke', () => {
  it('accepts a signed webhook once and reports the duplicate', async () => {
    const token = await t.webhookToken('ws1');
    const send = () =>
      fetch(`${t.url}/webhooks/new-tag`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'clockify-signature': token,
          'clockify-webhook-event-type': 'NEW_TAG',
        },
        body: JSON.stringify({ id: 'tag1', name: 'A', workspaceId: 'ws1' }),
      });
    const first = await send();
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true });
    const second = await send();
    expect(await second.json()).toEqual({ received: true, duplicate: true });
    expect(await t.ingress.context.queues.webhooks.getJobCountByTypes('waiting', 'prioritized')).toBe(1);
    expect(t.queries).toEqual([]);
  });
});
