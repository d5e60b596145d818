import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WEBHOOK_EVENT_NAMES, webhookPath, type WebhookEventName } from '@cap/clockify';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A tiny HTTP receiver standing where the add-on's ingress would be: it records every request
 * and answers 200 (or what `respond` says). It is not a model of the ingress.
 */
export async function startReceiver(
  respond: (r: Received) => { status: number; body?: unknown } = () => ({ status: 200, body: { received: true } }),
) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      const answer = respond(r);
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A manifest like the add-on serves: every lifecycle call, and the given webhook events. */
export function testManifest(
  baseUrl: string,
  events: readonly WebhookEventName[] = WEBHOOK_EVENT_NAMES,
  extra: Record<string, unknown> = {},
) {
  return {
    schemaVersion: '1.6',
    key: 'sim-test-addon',
    name: 'Simulator test add-on',
    baseUrl,
    minimalSubscriptionPlan: 'FREE',
    scopes: ['TIME_ENTRY_READ', 'USER_READ'],
    lifecycle: [
      { type: 'INSTALLED', path: '/lifecycle/installed' },
      { type: 'DELETED', path: '/lifecycle/deleted' },
      { type: 'SETTINGS_UPDATED', path: '/lifecycle/settings-updated' },
      { type: 'STATUS_CHANGED', path: '/lifecycle/status-changed' },
    ],
    webhooks: events.map((event) => ({ event, path: webhookPath(event) })),
    ...extra,
  };
}

export async function tempDataDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cap-sim-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
