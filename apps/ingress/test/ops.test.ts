import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cap/testing';
import {
  RawConnection,
  expectError,
  parseRawResponse,
  sendWebhook,
  startTestIngress,
  uniqueBody,
  type TestIngress,
} from './helpers.js';

let t: TestIngress;
beforeAll(async () => {
  t = await startTestIngress();
});
afterAll(async () => {
  await t?.close();
});

/** The value of one sample of the Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const found = Object.fromEntries([...body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('GET /health and /ready', () => {
  it('/health answers 200 without touching a dependency, on both ports', async () => {
    for (const base of [t.url, t.opsUrl]) {
      const res = await fetch(`${base}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok' });
    }
  });

  it('/ready answers 200 when Redis answers: check detail on the ops port only', async () => {
    const pub = await fetch(`${t.url}/ready`);
    expect(pub.status).toBe(200);
    expect(await pub.json()).toEqual({ status: 'ready' });
    const ops = await fetch(`${t.opsUrl}/ready`);
    expect(ops.status).toBe(200);
    expect(await ops.json()).toEqual({ status: 'ready', checks: { redis: 'ok' } });
  });

  it('ops endpoints are GET only', async () => {
    const res = await fetch(`${t.url}/ready`, { method: 'POST' });
    expect(res.status).toBe(405);
  });

  it('the ops port serves nothing else', async () => {
    for (const path of ['/manifest', '/webhooks/new-tag', '/admin/queues']) {
      const res = await fetch(`${t.opsUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });
});

describe('/ready with Redis unreachable', () => {
  it('503 on both ports; the ops port names the failing check, the public port says only "not ready"', async () => {
    const own = await startTestIngress();
    try {
      // A closed producer connection fails every command at once, as an unreachable Redis does.
      own.ingress.context.redis.disconnect();
      const ops = await waitFor(
        async () => {
          const res = await fetch(`${own.opsUrl}/ready`);
          return res.status === 503 ? res : undefined;
        },
        { timeoutMs: 5000, message: 'ops /ready 503' },
      );
      const report = (await ops.json()) as { status: string; checks: Record<string, string> };
      expect(report.status).toBe('not ready');
      expect(Object.keys(report.checks)).toEqual(['redis']);
      expect(report.checks.redis).not.toBe('ok');
      expect(report.checks.redis!.length).toBeGreaterThan(0);

      const pub = await fetch(`${own.url}/ready`);
      expect(pub.status).toBe(503);
      const text = await pub.text();
      expect(JSON.parse(text)).toEqual({ status: 'not ready' });
      expect(text).not.toContain('redis');
      expect(text).not.toContain(report.checks.redis!);
    } finally {
      await own.close();
    }
  });
});

describe('GET /metrics', () => {
  it('exposes request, delivery, verification and queue metrics, labelled by route template only', async () => {
    const token = await t.webhookToken('ws-metrics');
    const body = uniqueBody('ws-metrics');
    expect((await sendWebhook(t, { token, body })).status).toBe(200);
    expect((await sendWebhook(t, { token, body })).status).toBe(200);
    // Same shape, wrong signature bytes.
    expect((await sendWebhook(t, { token: `${token.slice(0, -4)}AAAA`, body: uniqueBody('ws-metrics') })).status).toBe(
      401,
    );
    expect((await sendWebhook(t, { route: 'raw-path-canary', token, body })).status).toBe(404);
    expect((await fetch(`${t.url}/nowhere-canary?auth_token=secret-canary`)).status).toBe(404);
    expect((await fetch(`${t.url}/manifest.json`)).status).toBe(200);
    expect((await fetch(`${t.url}/ui/sidebar?auth_token=another-secret-canary`)).status).toBe(401);

    // Not on the public port: the same 404 as any unknown path (counted as unmatched below).
    await expectError(await fetch(`${t.url}/metrics`), 404, 'not_found');

    const res = await fetch(`${t.opsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();

    expect(sample(text, 'http_requests_total', { route: '/webhooks/:event', method: 'POST', status: '200' })).toBe(2);
    expect(sample(text, 'http_requests_total', { route: '/webhooks/:event', method: 'POST', status: '401' })).toBe(1);
    expect(sample(text, 'http_requests_total', { route: '/manifest.json', method: 'GET', status: '200' })).toBe(1);
    expect(sample(text, 'http_requests_total', { route: '/ui/sidebar', method: 'GET', status: '401' })).toBe(1);
    expect(sample(text, 'http_requests_total', { route: 'unmatched', method: 'POST', status: '404' })).toBe(1);
    expect(sample(text, 'http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(2);
    for (const canary of ['raw-path-canary', 'nowhere-canary', 'secret-canary', 'ws-metrics'])
      expect(text).not.toContain(canary);

    expect(sample(text, 'webhook_deliveries_total', { event: 'NEW_TAG', outcome: 'accepted' })).toBe(1);
    expect(sample(text, 'webhook_deliveries_total', { event: 'NEW_TAG', outcome: 'duplicate' })).toBe(1);
    expect(sample(text, 'webhook_deliveries_total', { event: 'NEW_TAG', outcome: 'rejected' })).toBe(1);
    expect(
      sample(text, 'clockify_token_verifications_total', { kind: 'webhook', result: 'ok' }),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'clockify_token_verifications_total', { kind: 'webhook', result: 'bad_signature' })).toBe(1);
    expect(sample(text, 'queue_enqueue_duration_seconds_count', { queue: 'webhooks' })).toBe(1);
    expect(sample(text, 'queue_jobs', { queue: 'webhooks', state: 'waiting' })).toBe(1);
    for (const queue of ['lifecycle', 'bootstrap', 'maintenance'])
      expect(sample(text, 'queue_jobs', { queue, state: 'waiting' })).toBe(0);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{/m);
  });
});

describe('/ready while shutting down', () => {
  it('answers 503 (and /health 200) on a connection still being served during shutdown', async () => {
    const own = await startTestIngress();
    const token = await own.webhookToken('ws-drain');
    const body = JSON.stringify(uniqueBody('ws-drain'));
    const conn = new RawConnection(own.port);
    try {
      await conn.ready();
      // A delivery in flight keeps its connection open through shutdown.
      const head =
        `POST /webhooks/new-tag HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `clockify-signature: ${token}\r\nclockify-webhook-event-type: NEW_TAG\r\n\r\n`;
      await conn.write(head + body.slice(0, 10));
      await waitFor(async () => (await fetch(`${own.url}/health`)).ok, { message: 'server up' });
      const stopping = own.ingress.shutdown.shutdown();
      expect(own.ingress.shutdown.accepting).toBe(false);
      await conn.write(
        `${body.slice(10)}GET /ready HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      const answers = await waitFor(
        () => {
          const parts = conn.data.split(/(?=HTTP\/1\.1 \d{3})/);
          return parts.length >= 3 ? parts.map((p) => parseRawResponse(p)) : undefined;
        },
        { timeoutMs: 5000, message: 'three answers' },
      );
      // The delivery that was in flight is still accepted and queued.
      expect(answers[0]?.status).toBe(200);
      expect(answers[1]?.status).toBe(503);
      // The public port says only that; the reason is for the ops port.
      expect(JSON.parse(answers[1]!.body)).toEqual({ status: 'not ready' });
      expect(answers[2]?.status).toBe(200);
      conn.destroy();
      await stopping;
    } finally {
      conn.destroy();
      await own.close();
    }
  });
});
