import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cap/testing';
import {
  NO_JOBS,
  RawConnection,
  allJobs,
  expectError,
  jobCounts,
  sendWebhook,
  startTestIngress,
  uniqueBody,
  type TestIngress,
} from './helpers.js';

const LIMIT = 16_384;

let t: TestIngress;
let token: string;
beforeAll(async () => {
  t = await startTestIngress({ WEBHOOK_MAX_BODY_BYTES: String(LIMIT) });
  token = await t.webhookToken('ws-limits');
});
afterAll(async () => {
  await t?.close();
});

function head(path: string, headers: Record<string, string>): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

describe('body size limit (WEBHOOK_MAX_BODY_BYTES)', () => {
  it('accepts a body of exactly the limit', async () => {
    const base = JSON.stringify({ id: 'big', workspaceId: 'ws-limits', pad: '' });
    const body = JSON.stringify({
      id: 'big',
      workspaceId: 'ws-limits',
      pad: 'x'.repeat(LIMIT - Buffer.byteLength(base)),
    });
    expect(Buffer.byteLength(body)).toBe(LIMIT);
    expect(await (await sendWebhook(t, { token, body })).json()).toEqual({ received: true });
    await t.queues.webhooks.obliterate({ force: true });
  });

  it('413 for a declared Content-Length above the limit, answered before the body is sent, then the connection closes', async () => {
    const conn = new RawConnection(t.port);
    await conn.ready();
    await conn.write(
      head('/webhooks/new-tag', {
        'content-type': 'application/json',
        'content-length': String(LIMIT * 5),
        'clockify-signature': token,
        'clockify-webhook-event-type': 'NEW_TAG',
        'x-request-id': 'too-large-declared',
      }),
    );
    // Not one byte of the body is sent: the answer cannot depend on reading it.
    const res = await waitFor(() => conn.response(), { timeoutMs: 3000, message: 'the 413' });
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toEqual({
      error: {
        code: 'payload_too_large',
        message: `the body is larger than ${LIMIT} bytes`,
        requestId: 'too-large-declared',
      },
    });
    await conn.waitClosed(3000);
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('413 for a chunked body that grows past the limit: answered mid-stream, the excess never read, the connection closed', async () => {
    const conn = new RawConnection(t.port);
    await conn.ready();
    await conn.write(
      head('/webhooks/new-tag', {
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
        'clockify-signature': token,
        'clockify-webhook-event-type': 'NEW_TAG',
      }),
    );
    const chunk = Buffer.alloc(4096, 'x');
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const total = LIMIT * 5;
    let sent = 0;
    // Past the limit, then stop: a server that buffered to the end would never answer.
    while (sent <= LIMIT) {
      expect(await conn.write(frame)).toBe(true);
      sent += chunk.length;
    }
    const res = await waitFor(() => conn.response(), { timeoutMs: 3000, message: 'the 413 before the body ended' });
    expect(res.status).toBe(413);
    expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('payload_too_large');
    // Keep streaming the other 4× the limit: the server has hung up, so the stream stops short.
    while (sent < total && (await conn.write(frame))) sent += chunk.length;
    await conn.waitClosed(3000);
    expect(conn.closed).toBe(true);
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
    conn.destroy();
  });

  it('413 on the lifecycle routes too', async () => {
    const res = await fetch(`${t.url}/lifecycle/status-changed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-addon-lifecycle-token': await t.lifecycleToken() },
      body: JSON.stringify({ addonId: 'a', workspaceId: 'ws-limits', status: 'ACTIVE', pad: 'x'.repeat(LIMIT) }),
    });
    await expectError(res, 413, 'payload_too_large');
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('the server keeps serving after refusing oversized bodies', async () => {
    expect(await (await sendWebhook(t, { token, body: uniqueBody('ws-limits') })).json()).toEqual({ received: true });
    await t.queues.webhooks.obliterate({ force: true });
  });
});

describe('load shedding (INGRESS_MAX_QUEUE_DEPTH)', () => {
  let shed: TestIngress;
  beforeAll(async () => {
    shed = await startTestIngress({ INGRESS_MAX_QUEUE_DEPTH: '3' });
  });
  afterAll(async () => {
    await shed?.close();
  });
  const queued = () => shed.queues.webhooks.getJobCountByTypes('waiting', 'prioritized');

  it('answers 503 + Retry-After once more jobs wait than allowed, and queues nothing for it', async () => {
    const wsToken = await shed.webhookToken('ws-shed');
    // Fill the queue through the ingress itself; the depth is sampled in the background, so keep
    // sending until the ingress notices.
    const res = await waitFor(
      async () => {
        const before = (await allJobs(shed.queues.webhooks)).length;
        const r = await sendWebhook(shed, { token: wsToken, body: uniqueBody('ws-shed') });
        if (r.status === 200) return undefined;
        expect((await allJobs(shed.queues.webhooks)).length).toBe(before);
        return r;
      },
      { timeoutMs: 10_000, intervalMs: 100, message: 'load shedding' },
    );
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    await expectError(res, 503, 'overloaded');
    expect(await queued()).toBeGreaterThan(3);

    // Delayed jobs (retries waiting their turn) are backlog too: with only those, still shed.
    await shed.queues.webhooks.obliterate({ force: true });
    for (let i = 0; i < 6; i++) {
      await shed.queues.webhooks.add('webhook.process', { delayedBacklog: i }, { delay: 600_000 });
    }
    await waitFor(
      async () => (await sendWebhook(shed, { token: wsToken, body: uniqueBody('ws-shed') })).status === 503,
      { timeoutMs: 10_000, intervalMs: 100, message: 'shedding on a delayed backlog' },
    );
    expect(await queued()).toBe(0);

    // A worker drains the queue: the ingress accepts again.
    await shed.queues.webhooks.obliterate({ force: true });
    await waitFor(
      async () => (await sendWebhook(shed, { token: wsToken, body: uniqueBody('ws-shed') })).status === 200,
      {
        timeoutMs: 10_000,
        intervalMs: 200,
        message: 'acceptance after the queue drained',
      },
    );
  });
});

describe('fair shedding (INGRESS_SHED_WORKSPACE_BACKLOG)', () => {
  let fair: TestIngress;
  beforeAll(async () => {
    fair = await startTestIngress({ INGRESS_MAX_QUEUE_DEPTH: '40', INGRESS_SHED_WORKSPACE_BACKLOG: '3' });
  });
  afterAll(async () => {
    await fair?.close();
  });

  it('sheds the flooding workspace first, while a quiet one is still accepted, then everyone', async () => {
    const flooding = await fair.webhookToken('ws-flood');
    const quiet = await fair.webhookToken('ws-quiet');
    // Past half the depth (20) with a backlog of its own: the flooding workspace gets 503.
    for (let sent = 0; sent < 25; sent++) {
      const r = await sendWebhook(fair, { token: flooding, body: uniqueBody('ws-flood') });
      if (r.status !== 200) break;
    }
    const refused = await waitFor(
      async () => {
        const r = await sendWebhook(fair, { token: flooding, body: uniqueBody('ws-flood') });
        return r.status === 200 ? undefined : r;
      },
      { timeoutMs: 10_000, intervalMs: 200, message: 'the flooding workspace shed' },
    );
    await expectError(refused, 503, 'overloaded');
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const depth = await fair.queues.webhooks.getJobCountByTypes('waiting', 'prioritized');
    expect(depth).toBeGreaterThan(20);
    expect(depth).toBeLessThanOrEqual(40);

    // The quiet workspace has nothing queued: it is still accepted, and served next.
    const accepted = await sendWebhook(fair, { token: quiet, body: uniqueBody('ws-quiet') });
    expect(accepted.status).toBe(200);
    const order = (await fair.queues.webhooks.getPrioritized(0, 2)).map(
      (j) => (j.data as { workspaceId: string }).workspaceId,
    );
    expect(order).toEqual(['ws-flood', 'ws-quiet', 'ws-flood']);

    // Above the whole depth (a delayed backlog counts), everyone is shed.
    for (let i = 0; i < 20; i++) {
      await fair.queues.webhooks.add('webhook.process', { delayedBacklog: i }, { delay: 600_000 });
    }
    await waitFor(
      async () => (await sendWebhook(fair, { token: quiet, body: uniqueBody('ws-quiet') })).status === 503,
      { timeoutMs: 10_000, intervalMs: 100, message: 'everyone shed above the depth' },
    );
  });
});

describe('nesting limit (INGRESS_MAX_JSON_DEPTH)', () => {
  let deep: TestIngress;
  beforeAll(async () => {
    deep = await startTestIngress({ INGRESS_MAX_JSON_DEPTH: '8', WEBHOOK_MAX_BODY_BYTES: String(1024 * 1024) });
  });
  afterAll(async () => {
    await deep?.close();
  });
  const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  it('accepts a body exactly at the limit; 400 one level deeper, nothing queued', async () => {
    const wsToken = await deep.webhookToken('ws-deep');
    const at = `{"id":"t-1","workspaceId":"ws-deep","x":${nested(7)}}`;
    expect(await (await sendWebhook(deep, { token: wsToken, body: at })).json()).toEqual({ received: true });
    await deep.queues.webhooks.obliterate({ force: true });
    const over = `{"id":"t-2","workspaceId":"ws-deep","x":${nested(8)}}`;
    await expectError(await sendWebhook(deep, { token: wsToken, body: over }), 400, 'too_deep');
    expect(await jobCounts(deep.queues)).toEqual(NO_JOBS);
  });

  it('refuses a 200 KB body nested 100 000 levels deep on a webhook route and on /lifecycle/installed', async () => {
    const wsToken = await deep.webhookToken('ws-deep');
    const hostile = `{"id":"t-3","workspaceId":"ws-deep","x":${nested(100_000)}}`;
    expect(Buffer.byteLength(hostile)).toBeGreaterThan(200_000);
    await expectError(await sendWebhook(deep, { token: wsToken, body: hostile }), 400, 'too_deep');
    const lifecycle = await fetch(`${deep.url}/lifecycle/installed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-addon-lifecycle-token': await deep.lifecycleToken() },
      body: `{"addonId":"a","workspaceId":"ws-deep","authToken":"x","extra":${nested(100_000)}}`,
    });
    await expectError(lifecycle, 400, 'too_deep');
    expect(await jobCounts(deep.queues)).toEqual(NO_JOBS);
  });
});
