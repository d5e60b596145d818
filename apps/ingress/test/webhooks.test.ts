import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookPayload } from '@cap/queue';
import { waitFor } from '@cap/testing';
import { entityGateKey } from '../src/gates.js';
import {
  NO_JOBS,
  REMOVE,
  allJobs,
  deliveryKeyOf,
  expectError,
  jobCounts,
  sendWebhook,
  sha256,
  startTestIngress,
  uniqueBody,
  type TestIngress,
} from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let t: TestIngress;
beforeAll(async () => {
  t = await startTestIngress();
});
afterAll(async () => {
  await t?.close();
});

async function drain(): Promise<void> {
  await t.queues.webhooks.obliterate({ force: true });
}

describe('POST /webhooks/<event>: accepted deliveries', () => {
  it('answers {"received":true} once the job is queued; the job holds the raw body and a token hash, never the token', async () => {
    await drain();
    const token = await t.webhookToken('ws-accept', 'addon-7');
    // Odd spacing and non-ASCII text: the job must carry the bytes as received, not a re-encoding.
    const raw = '{ "id":"te-1",  "workspaceId":"ws-accept", "description":"Grüße ✓", "n": 1.50 }';
    const res = await sendWebhook(t, { event: 'NEW_TIME_ENTRY', token, body: raw });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ received: true });

    const jobs = await allJobs(t.queues.webhooks);
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.name).toBe('webhook.process');
    expect(job.id).toMatch(UUID);
    const data = webhookPayload.parse(job.data);
    expect(data.body).toBe(raw);
    expect(data.event).toBe('NEW_TIME_ENTRY');
    expect(data.workspaceId).toBe('ws-accept');
    expect(data.addonId).toBe('addon-7');
    expect(data.tokenHash).toBe(sha256(token));
    expect(data.deliveryKey).toBe(deliveryKeyOf('ws-accept', 'NEW_TIME_ENTRY', token, Buffer.from(raw)));
    expect(data.verified).toBe(true);
    expect(data.windowSeconds).toBe(300);
    expect(data.requestId).toBe(res.headers.get('x-request-id'));
    // The id is random, not derived from the content (BullMQ would drop a re-used id).
    expect(job.id).not.toBe(data.deliveryKey);

    const stored = JSON.stringify(job.data) + JSON.stringify(job.opts);
    for (const part of token.split('.')) expect(stored).not.toContain(part);
    expect(t.queries).toEqual([]);
  });

  it('treats identical content inside the window as a duplicate: one job, {"duplicate":true}', async () => {
    await drain();
    const token = await t.webhookToken('ws-dup');
    const body = uniqueBody('ws-dup');
    const first = await sendWebhook(t, { token, body });
    expect(await first.json()).toEqual({ received: true });
    for (let i = 0; i < 3; i++) {
      const again = await sendWebhook(t, { token, body });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ received: true, duplicate: true });
    }
    expect(await allJobs(t.queues.webhooks)).toHaveLength(1);
  });

  it('never dedupes on the entity id: the same tag with a different body is a second delivery', async () => {
    await drain();
    const token = await t.webhookToken('ws-entity');
    const a = await sendWebhook(t, { token, body: { id: 'tag-1', name: 'A', workspaceId: 'ws-entity' } });
    const b = await sendWebhook(t, { token, body: { id: 'tag-1', name: 'B', workspaceId: 'ws-entity' } });
    expect(await a.json()).toEqual({ received: true });
    expect(await b.json()).toEqual({ received: true });
    const bodies = (await allJobs(t.queues.webhooks)).map(
      (j) => JSON.parse((j.data as { body: string }).body) as { name: string },
    );
    expect(bodies.map((x) => x.name).sort()).toEqual(['A', 'B']);
  });

  it('A → B → A are three changes at any spacing; A sent again at once is one', async () => {
    await drain();
    const token = await t.webhookToken('ws-revert');
    const a = { id: 'tag-revert', name: 'A', workspaceId: 'ws-revert' };
    const b = { id: 'tag-revert', name: 'B', workspaceId: 'ws-revert' };
    const answers = [];
    for (const body of [a, a, b, a, a]) answers.push(await (await sendWebhook(t, { token, body })).json());
    expect(answers).toEqual([
      { received: true },
      { received: true, duplicate: true },
      { received: true },
      { received: true },
      { received: true, duplicate: true },
    ]);
    const jobs = await allJobs(t.queues.webhooks);
    const data = jobs.map((j) => j.data as { body: string; deliveryKey: string; receivedAt: number });
    data.sort((x, y) => x.receivedAt - y.receivedAt);
    expect(data.map((d) => (JSON.parse(d.body) as { name: string }).name)).toEqual(['A', 'B', 'A']);
    // Each acceptance has its own durable key: the worker must not take the last A for the first.
    expect(new Set(data.map((d) => d.deliveryKey)).size).toBe(3);
  });

  it('an entity gate given up after a failed enqueue falls back to the content accepted before', async () => {
    await drain();
    const token = await t.webhookToken('ws-release');
    const a = { id: 'tag-release', name: 'A', workspaceId: 'ws-release' };
    const b = { id: 'tag-release', name: 'B', workspaceId: 'ws-release' };
    expect(await (await sendWebhook(t, { token, body: a })).json()).toEqual({ received: true });
    // B takes the gate, then its job cannot be queued: the gate must say "A" again, not "B".
    const add = t.queues.webhooks.add.bind(t.queues.webhooks);
    t.queues.webhooks.add = (() => Promise.reject(new Error('Redis went away'))) as typeof add;
    try {
      expect((await sendWebhook(t, { token, body: b })).status).toBe(503);
    } finally {
      t.queues.webhooks.add = add;
    }
    const gate = entityGateKey(t.prefix, 'ws-release', 'tag', 'tag-release');
    await waitFor(async () => (await t.ingress.context.redis.get(gate))?.startsWith('-|'), { message: 'the release' });
    expect(await (await sendWebhook(t, { token, body: a })).json()).toEqual({ received: true, duplicate: true });
    expect(await (await sendWebhook(t, { token, body: b })).json()).toEqual({ received: true });
    expect(await allJobs(t.queues.webhooks)).toHaveLength(2);
  });

  it('the same body for another event or another workspace is not a duplicate', async () => {
    await drain();
    const raw = JSON.stringify({ id: 'shared-1', name: 'same bytes' });
    const ws1 = await t.webhookToken('ws-one');
    const ws2 = await t.webhookToken('ws-two');
    const answers = [
      await sendWebhook(t, { event: 'NEW_TAG', token: ws1, body: raw }),
      await sendWebhook(t, { event: 'TAG_UPDATED', token: ws1, body: raw }),
      await sendWebhook(t, { event: 'NEW_TAG', token: ws2, body: raw }),
    ];
    for (const res of answers) expect(await res.json()).toEqual({ received: true });
    const jobs = await allJobs(t.queues.webhooks);
    expect(jobs).toHaveLength(3);
    expect(new Set(jobs.map((j) => (j.data as { deliveryKey: string }).deliveryKey)).size).toBe(3);
  });

  it('accepts a body without workspaceId (the claim names the workspace)', async () => {
    await drain();
    const token = await t.webhookToken('ws-claim');
    const res = await sendWebhook(t, { event: 'USER_UPDATED', token, body: { id: 'user-1', name: 'Ann' } });
    expect(await res.json()).toEqual({ received: true });
    const [job] = await allJobs(t.queues.webhooks);
    expect((job!.data as { workspaceId: string }).workspaceId).toBe('ws-claim');
  });
});

describe('POST /webhooks/<event>: dedupe window', () => {
  let short: TestIngress;
  beforeAll(async () => {
    short = await startTestIngress({ WEBHOOK_DEDUPE_WINDOW_SECONDS: '1' });
  });
  afterAll(async () => {
    await short?.close();
  });

  it('accepts the same content again once the window has passed', async () => {
    const token = await short.webhookToken('ws-window');
    const body = uniqueBody('ws-window');
    expect(await (await sendWebhook(short, { token, body })).json()).toEqual({ received: true });
    expect(await (await sendWebhook(short, { token, body })).json()).toEqual({ received: true, duplicate: true });
    // A tag renamed A→B→A is three real changes once the window is over: poll until accepted.
    await waitFor(
      async () =>
        ((await (await sendWebhook(short, { token, body })).json()) as { duplicate?: boolean }).duplicate !== true,
      {
        timeoutMs: 5000,
        intervalMs: 100,
        message: 'the same content to be accepted after a 1 s window',
      },
    );
    const jobs = await allJobs(short.queues.webhooks);
    expect(jobs).toHaveLength(2);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(2);
    expect(jobs.every((j) => (j.data as { windowSeconds: number }).windowSeconds === 1)).toBe(true);
  });
});

describe('POST /webhooks/<event>: routing', () => {
  it('answers 404 for an event the add-on does not subscribe to and for unknown routes', async () => {
    const token = await t.webhookToken('ws-route');
    // APPROVAL_REQUEST_STATUS_UPDATED is a real Clockify event this add-on does not subscribe to.
    await expectError(
      await sendWebhook(t, { event: 'APPROVAL_REQUEST_STATUS_UPDATED', token, body: uniqueBody('ws-route') }),
      404,
      'not_found',
    );
    await expectError(
      await sendWebhook(t, { route: 'no-such-event', token, body: uniqueBody('ws-route') }),
      404,
      'not_found',
    );
    await expectError(
      await sendWebhook(t, { route: 'NEW-TAG', token, body: uniqueBody('ws-route') }),
      404,
      'not_found',
    );
    await expectError(
      await sendWebhook(t, { route: 'new_tag', token, body: uniqueBody('ws-route') }),
      404,
      'not_found',
    );
    await expectError(await fetch(`${t.url}/webhooks`, { method: 'POST' }), 404, 'not_found');
    await expectError(await fetch(`${t.url}/no/such/path`), 404, 'not_found');
  });

  it('answers 405 with Allow: POST for other methods', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(`${t.url}/webhooks/new-tag`, { method });
      await expectError(res, 405, 'method_not_allowed');
      expect(res.headers.get('allow')).toBe('POST');
    }
  });
});

describe('POST /webhooks/<event>: refusals queue nothing', () => {
  let token: string;
  beforeAll(async () => {
    token = await t.webhookToken('ws-err');
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['form', 'application/x-www-form-urlencoded'],
    ['JSON in another charset', 'application/json; charset=latin1'],
  ])('415 for a wrong content type (%s)', async (_name, type) => {
    await drain();
    await expectError(
      await sendWebhook(t, { token, body: uniqueBody('ws-err'), headers: { 'content-type': type } }),
      415,
      'unsupported_media_type',
    );
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('415 without a content type', async () => {
    await drain();
    const res = await sendWebhook(t, {
      token,
      body: Buffer.from(JSON.stringify(uniqueBody('ws-err'))),
      headers: { 'content-type': REMOVE },
    });
    await expectError(res, 415, 'unsupported_media_type');
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('accepts application/json with charset=utf-8', async () => {
    await drain();
    const res = await sendWebhook(t, {
      token,
      body: uniqueBody('ws-err'),
      headers: { 'content-type': 'application/json; charset=UTF-8' },
    });
    expect(await res.json()).toEqual({ received: true });
  });

  it.each([
    ['malformed JSON', '{"id": "x", '],
    ['an array', '[{"id":"x"}]'],
    ['a JSON string', '"hello"'],
    ['JSON null', 'null'],
    ['an empty body', ''],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
  ])('400 for %s', async (_name, body) => {
    await drain();
    await expectError(await sendWebhook(t, { token, body }), 400, 'malformed_body');
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('401 without a clockify-signature header', async () => {
    await drain();
    const body = await expectError(await sendWebhook(t, { body: uniqueBody('ws-err') }), 401, 'missing_token');
    expect(body.error.message).toMatch(/clockify-signature/);
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('400 when the event header is missing or names another event', async () => {
    await drain();
    const missing = await expectError(
      await sendWebhook(t, { token, body: uniqueBody('ws-err'), headers: { 'clockify-webhook-event-type': REMOVE } }),
      400,
      'wrong_event',
    );
    expect(missing.error.message).toMatch(/missing/);
    await expectError(
      await sendWebhook(t, {
        token,
        body: uniqueBody('ws-err'),
        headers: { 'clockify-webhook-event-type': 'TAG_DELETED' },
      }),
      400,
      'wrong_event',
    );
    await expectError(
      await sendWebhook(t, {
        token,
        body: uniqueBody('ws-err'),
        headers: { 'clockify-webhook-event-type': 'new_tag' },
      }),
      400,
      'wrong_event',
    );
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it("403 when the body's workspaceId is not the token's", async () => {
    await drain();
    const body = await expectError(
      await sendWebhook(t, { token, body: uniqueBody('ws-victim') }),
      403,
      'workspace_mismatch',
    );
    expect(body.error.message).not.toContain('ws-victim');
    // A non-string workspaceId is not the claim either.
    await expectError(await sendWebhook(t, { token, body: { id: 'x', workspaceId: 42 } }), 403, 'workspace_mismatch');
    expect(await jobCounts(t.queues)).toEqual(NO_JOBS);
  });

  it('error answers never echo the token', async () => {
    const answers = [
      await sendWebhook(t, { token, body: '{bad', headers: {} }),
      await sendWebhook(t, { token, body: uniqueBody('other') }),
      await sendWebhook(t, { token: `${token}x`, body: uniqueBody('ws-err') }),
    ];
    for (const res of answers) {
      const text = await res.text();
      expect(res.status).toBeGreaterThanOrEqual(400);
      for (const part of token.split('.')) expect(text).not.toContain(part);
    }
  });
});

describe('X-Request-ID', () => {
  it('echoes a safe caller id on answers and errors', async () => {
    const token = await t.webhookToken('ws-rid');
    const ok = await sendWebhook(t, {
      token,
      body: uniqueBody('ws-rid'),
      headers: { 'x-request-id': 'clockify-delivery.42:a_b-c' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('clockify-delivery.42:a_b-c');
    const err = await sendWebhook(t, { token, body: '[]', headers: { 'x-request-id': 'req-err-1' } });
    expect((await expectError(err, 400)).error.requestId).toBe('req-err-1');
    const manifest = await fetch(`${t.url}/manifest`, { headers: { 'x-request-id': 'req-manifest' } });
    expect(manifest.headers.get('x-request-id')).toBe('req-manifest');
  });

  it('generates one when the caller sends none or an unsafe one', async () => {
    const none = await fetch(`${t.url}/health`);
    expect(none.headers.get('x-request-id')).toMatch(UUID);
    for (const unsafe of ['<script>alert(1)</script>', 'a'.repeat(129), 'with space', 'line%0Abreak']) {
      const res = await fetch(`${t.url}/webhooks/new-tag`, { method: 'POST', headers: { 'x-request-id': unsafe } });
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(UUID);
      expect((await expectError(res, 415)).error.requestId).toBe(id);
    }
  });
});

describe('no database on the webhook path', () => {
  it('every request of this file, accepted or refused, left Postgres untouched', () => {
    expect(t.queries).toEqual([]);
  });
});
