import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITY_EVENTS, entityIdOf, eventRoute, type WebhookEventName } from '@cap/clockify';
import { getBootstrapResources, getEntity, listEntities, openDatabase, type DatabaseHandle } from '@cap/db';
import {
  createSimulator,
  diffMirror,
  mirrorsBody,
  expectedMirror,
  snapshotFromRows,
  type Simulator,
} from '@cap/simulator';
import {
  createTestDatabase,
  deleteRedisPrefix,
  freePort,
  startAppProcess,
  testRedisUrl,
  uniquePrefix,
  waitFor,
  type AppProcess,
  type TestDatabase,
} from '@cap/testing';
import { distEntry } from '../dist.js';

/**
 * The whole system as separate processes: the built ingress and worker, real Redis and Postgres,
 * and the simulator (this process) playing Clockify over real HTTP.
 */
let testDb: TestDatabase;
let db: DatabaseHandle;
let sim: Simulator;
let ingress: AppProcess;
let worker: AppProcess;
let ingressUrl: string;
let dataDir: string;
const prefix = uniquePrefix('e2e');
/** An OTLP/HTTP (JSON) collector: the processes export their traces here. */
let collector: Server;
const exported: string[] = [];
let exportedBytes = 0;

beforeAll(async () => {
  testDb = await createTestDatabase('e2e');
  dataDir = mkdtempSync(join(tmpdir(), 'cap-e2e-'));
  sim = await createSimulator({
    dataDir,
    seed: 'e2e',
    workspaces: 1,
    sizes: { users: 8, projects: 12, tasksPerProject: 3, tags: 15, clients: 5, entries: 300 },
  });
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      exportedBytes += c.length;
      if (exportedBytes < 50_000_000) body += c.toString('utf8');
    });
    req.on('end', () => {
      if (req.url === '/v1/traces') exported.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const collectorPort = (collector.address() as { port: number }).port;
  const port = await freePort();
  ingressUrl = `http://127.0.0.1:${port}`;
  const env = {
    REDIS_URL: testRedisUrl(),
    DATABASE_URL: testDb.url,
    BULLMQ_PREFIX: prefix,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CLOCKIFY_PUBLIC_KEY_FILE: sim.publicKeyPath,
    CLOCKIFY_API_ALLOWED_HOSTS: '127.0.0.1',
    BASE_URL: ingressUrl,
    LOG_LEVEL: 'info',
    // Traces on, as an operator turns them on, exported as JSON so the test can read them.
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  ingress = startAppProcess(distEntry('ingress'), { ...env, PORT: String(port), INGRESS_OPS_PORT: '0' });
  worker = startAppProcess(distEntry('worker'), { ...env, WORKER_PORT: '0' });
  await Promise.all([ingress.waitForLine(/"msg":"ingress ready"/), worker.waitForLine(/"msg":"worker ready"/)]);
  db = await openDatabase({ url: testDb.url, dataDir });
}, 120_000);

afterAll(async () => {
  ingress?.kill('SIGTERM');
  worker?.kill('SIGTERM');
  const codes = await Promise.all([ingress?.exited, worker?.exited]);
  await db?.close();
  await sim?.close();
  await new Promise((resolve) => collector?.close(resolve));
  await deleteRedisPrefix(testRedisUrl(), prefix);
  await testDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
  expect(codes).toEqual([0, 0]);
});

const workspaceId = () => sim.store.workspaceIds()[0]!;

async function deliveries(event: string) {
  return db.db
    .selectFrom('webhook_events')
    .select(['status', 'entity_id', 'token_check'])
    .where('workspace_id', '=', workspaceId())
    .where('event', '=', event)
    .execute();
}

describe('end to end', () => {
  it('install → the bootstrap completes and the mirror equals the simulator data', async () => {
    const install = await sim.install({ ingressUrl, workspaceId: workspaceId(), pathStyle: 'full' });
    expect(install.status).toBe(200);
    const run = await waitFor(
      async () => {
        const r = await db.db
          .selectFrom('bootstrap_runs')
          .selectAll()
          .where('workspace_id', '=', workspaceId())
          .executeTakeFirst();
        return r && ['COMPLETED', 'PARTIAL', 'FAILED'].includes(r.status) ? r : undefined;
      },
      { timeoutMs: 60_000, message: 'the bootstrap run' },
    );
    expect(run.status).toBe('COMPLETED');
    const te = (await getBootstrapResources(db.db, run.id)).find((r) => r.resource === 'time-entries')!;
    const window = (te.cursor as { window: { start: string; end: string } }).window;
    const bounds = { start: new Date(window.start), end: new Date(window.end) };
    const expected = expectedMirror(sim.store, workspaceId(), bounds);
    const diff = diffMirror(
      expected,
      snapshotFromRows(
        await listEntities(db.db, workspaceId(), undefined, { includeDeleted: true }),
        Object.keys(expected),
        bounds,
      ),
    );
    expect({ missing: diff.missing, extra: diff.extra, changed: diff.changed }).toEqual({
      missing: [],
      extra: [],
      changed: [],
    });
    expect(sim.api!.stats.snapshot().rateLimited).toBe(0);
  });

  it('processes a webhook for every subscribed event, mirrors what it carries, and drops duplicates', async () => {
    const manifest = (await (await fetch(`${ingressUrl}/manifest`)).json()) as {
      webhooks: { event: WebhookEventName; path: string }[];
    };
    expect(manifest.webhooks).toHaveLength(20);
    for (const { event, path } of manifest.webhooks) {
      expect(path).toBe(`/webhooks/${eventRoute(event)}`);
      const delivery = await sim.trigger(event);
      expect(delivery.status, `${event}: ${JSON.stringify(delivery.body)}`).toBe(200);
      // Clockify may deliver twice: the second copy is acknowledged as a duplicate.
      const again = await sim.sendWebhook(event, delivery.sentBody);
      expect(again.body).toEqual({ received: true, duplicate: true });

      // One at a time, so each check sees this delivery's effect and no later one's.
      await waitFor(async () => (await deliveries(event))[0]?.status === 'done', {
        timeoutMs: 30_000,
        message: `${event} processed`,
      });
      const mapping = ENTITY_EVENTS[event];
      if (!mapping) continue;
      const body = JSON.parse(delivery.sentBody) as Record<string, unknown>;
      const entityId = entityIdOf(event, body);
      expect(entityId, `${event} names its entity`).toBeTruthy();
      const row = await getEntity(db.db, {
        workspaceId: workspaceId(),
        entityType: mapping.entityType,
        entityId: entityId!,
      });
      expect(row, `${event}: a mirror row for ${mapping.entityType}/${entityId}`).toBeDefined();
      if (mapping.op === 'delete') {
        expect(row!.deleted, `${event} leaves a tombstone`).toBe(true);
      } else {
        expect(row!.deleted, `${event}: ${mapping.entityType}/${entityId} is live`).toBe(false);
        // Every field the body carries is in the row (a partial body is merged, so the row keeps more).
        expect(mirrorsBody(mapping.entityType, row!.data, body), `${event} mirrors the body`).toBe(true);
      }
    }
    await waitFor(
      async () => {
        for (const { event } of manifest.webhooks) {
          const rows = await deliveries(event);
          if (rows.length !== 1 || rows[0]!.status !== 'done') return false;
        }
        return true;
      },
      { timeoutMs: 60_000, message: 'one done delivery per event' },
    );
    for (const { event } of manifest.webhooks) expect((await deliveries(event))[0]!.token_check).toBe('matched');
  });

  it('traces: the exported spans of one webhook form one trace from the ingress to the worker, without tokens', async () => {
    interface OtlpSpan {
      traceId: string;
      name: string;
    }
    interface OtlpExport {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeSpans: { spans: OtlpSpan[] }[];
      }[];
    }
    const spans = () =>
      exported.flatMap((body) =>
        (JSON.parse(body) as OtlpExport).resourceSpans.flatMap((r) => {
          const service = r.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
          return r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ ...span, service })));
        }),
      );
    const delivery = await sim.trigger('NEW_TAG');
    expect(delivery.status).toBe(200);
    const receive = await waitFor(
      () =>
        spans()
          .filter((x) => x.service === 'cap-ingress' && x.name === 'webhook receive')
          .find((x) => spans().some((y) => y.traceId === x.traceId && y.name.startsWith('commit webhook deliver'))),
      { timeoutMs: 30_000, message: 'a webhook trace through to the commit' },
    );
    const trace = spans().filter((x) => x.traceId === receive.traceId);
    expect(trace.map((x) => `${x.service}: ${x.name}`)).toEqual(
      expect.arrayContaining([
        'cap-ingress: webhook receive',
        'cap-ingress: add webhooks.webhook.process',
        'cap-worker: process webhooks',
        expect.stringMatching(/^cap-worker: commit webhook deliver/),
      ]),
    );
    expect(spans().some((x) => x.service === 'cap-worker' && x.name.startsWith('clockify GET '))).toBe(true);
    const raw = exported.join('\n');
    const installation = sim.installation();
    for (const token of [installation.installationToken, ...Object.values(installation.webhookTokens)]) {
      if (token) expect(raw).not.toContain(token);
    }
  });

  it('uninstall → tokens gone at once, later webhooks ignored', async () => {
    const addonId = sim.installation().addonId;
    const tokens = [sim.installation().installationToken, ...Object.values(sim.installation().webhookTokens)];
    expect((await sim.uninstall()).status).toBe(200);
    await waitFor(
      async () =>
        (
          await db.db
            .selectFrom('installations')
            .select('status')
            .where('workspace_id', '=', workspaceId())
            .where('addon_id', '=', addonId)
            .executeTakeFirst()
        )?.status === 'DELETED',
      { message: 'the installation deleted' },
    );
    const installation = await db.db
      .selectFrom('installations')
      .selectAll()
      .where('workspace_id', '=', workspaceId())
      .executeTakeFirstOrThrow();
    expect(installation.auth_token_enc).toBeNull();
    expect(
      await db.db.selectFrom('installation_webhooks').selectAll().where('workspace_id', '=', workspaceId()).execute(),
    ).toEqual([]);

    const late = { ...sim.buildWebhook('NEW_TAG'), id: '9'.repeat(24) };
    expect((await sim.sendWebhook('NEW_TAG', late, { force: true })).status).toBe(200);
    await waitFor(
      async () => (await deliveries('NEW_TAG')).find((d) => d.entity_id === late.id)?.status === 'ignored',
      { message: 'the late webhook ignored' },
    );
    // No token ever reached a log line.
    const logs = [...ingress.output, ...worker.output].join('\n');
    for (const token of tokens) expect(logs).not.toContain(String(token).slice(-40));
  });
});
