/**
 * `npm run demo`: the whole system in one command, observed from the outside like an operator
 * would (Clockify-signed calls in, the admin API to look). Starts the simulator ("Clockify in a
 * box") and — unless `--ingress` points at a running system — the ingress and a worker with the
 * embedded defaults (PGlite in a fresh folder, the local Redis under a fresh prefix). Installs the
 * example add-on into a simulated workspace, shows the bootstrap's progress, fires a burst of
 * webhooks (some duplicated, some reordered), runs one reconciliation and prints a summary.
 * Exits 0 only when everything checks out.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { repoRoot } from '@cap/config';
import { ingressEnv, startIngress, ADMIN_CSRF_HEADER } from '@cap/ingress';
import { silentLogger } from '@cap/observability';
import { Shutdown, acquireEmbeddedDatabaseLock, openMigratedDatabase } from '@cap/app-process';
import { createSimulator, diffMirror, expectedMirror, snapshotFromRows, type Simulator } from '@cap/simulator';
import { deleteRedisPrefix, freePort } from '@cap/testing';
import { startWorker, workerEnv } from '@cap/worker';
import { addon } from '@cap/workspace-mirror';

const USAGE = `npm run demo [-- options]

  --webhooks N          webhooks in the burst (default 400)
  --rate R              webhooks per second (default 200)
  --users U --projects P --entries E   size of the simulated workspace
  --ingress URL         use a running system instead of starting one; it must trust the
                        simulator's key and allow its mock API (the demo prints how)
  --admin USER:PASS     admin credentials of that system (default ADMIN_USERNAME/ADMIN_PASSWORD)
  --mock-port PORT      port of the mock Clockify API (default 8090 with --ingress, else free)
  --keep-data           keep the embedded database folder`;

const { values: args } = parseArgs({
  options: {
    webhooks: { type: 'string', default: '400' },
    rate: { type: 'string', default: '200' },
    users: { type: 'string', default: '12' },
    projects: { type: 'string', default: '25' },
    entries: { type: 'string', default: '800' },
    ingress: { type: 'string' },
    admin: { type: 'string' },
    'mock-port': { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const TERMINAL = ['COMPLETED', 'PARTIAL', 'FAILED'];
const FINAL_DELIVERY = ['done', 'failed', 'skipped', 'ignored', 'orphaned'];
const shutdown = new Shutdown(silentLogger(), 10_000);
const cleanups: Array<() => Promise<unknown> | unknown> = [];
const step = (text: string) => console.log(`\n▸ ${text}`);
const checks: { name: string; ok: boolean; detail: string }[] = [];
const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  readonly url: string;
  readonly auth: string;
}

interface RunView {
  run: { id: string; status: string; trigger: string; created_at: string };
  resources: {
    resource: string;
    status: string;
    items: number;
    requests: number;
    cursor: { window?: { start: string; end: string } } | null;
  }[];
  totals: { resources: number; finished: number; items: number; requests: number };
}

async function admin<T>(target: Target, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${target.url}/admin/api${path}`, {
    ...init,
    headers: { authorization: target.auth, [ADMIN_CSRF_HEADER]: '1', ...(init.headers ?? {}) },
  });
  if (!res.ok) throw new Error(`admin API ${path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

/** Starts ingress + worker in this process on an embedded database (the default demo). */
async function startEmbedded(sim: Simulator): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'clockify-addon-demo-'));
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `demo-${randomBytes(4).toString('hex')}`;
  cleanups.push(() => deleteRedisPrefix(redisUrl, prefix).catch(() => undefined));
  if (!args['keep-data']) cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const password = randomBytes(18).toString('base64url');
  const port = await freePort();
  const env = {
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    WORKER_PORT: '0',
    INGRESS_OPS_PORT: '0',
    REDIS_URL: redisUrl,
    BULLMQ_PREFIX: prefix,
    DATA_DIR: dataDir,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CLOCKIFY_PUBLIC_KEY_FILE: sim.publicKeyPath,
    CLOCKIFY_API_ALLOWED_HOSTS: '127.0.0.1',
    ADMIN_USERNAME: 'demo',
    ADMIN_PASSWORD: password,
    LOG_LEVEL: 'warn',
    RETENTION_CRON: 'off',
    RECONCILE_CRON: 'off',
  };
  shutdown.register('connections', 'lock', acquireEmbeddedDatabaseLock(dataDir));
  const workerConfig = workerEnv.parse(env);
  const database = await openMigratedDatabase(workerConfig, silentLogger(), 'demo', addon);
  shutdown.register('connections', 'database', () => database.close());
  await startWorker({ config: workerConfig, logger: silentLogger(), database, shutdown, addon });
  const ingress = await startIngress({
    config: ingressEnv.parse(env),
    logger: silentLogger(),
    database,
    shutdown,
    addon,
  });
  console.log(
    `  ingress    ${ingress.url}  (manifest ${ingress.url}/manifest, Bull Board ${ingress.url}/admin/queues)`,
  );
  console.log(`  metrics    ${ingress.opsUrl}/metrics  (the ingress's ops port)`);
  console.log(`  database   embedded PGlite in ${dataDir}`);
  return { url: ingress.url, auth: `Basic ${Buffer.from(`demo:${password}`).toString('base64')}` };
}

/** Checks that a running system is reachable, trusts the simulator and lets the demo look. */
async function useRunning(url: string, sim: Simulator): Promise<Target> {
  const credentials =
    args.admin ??
    (process.env.ADMIN_USERNAME ? `${process.env.ADMIN_USERNAME}:${process.env.ADMIN_PASSWORD ?? ''}` : '');
  const mockHost = new URL(sim.url).host;
  console.log(`  ingress    ${url} (running)`);
  console.log(
    `  It must have been started with\n    CLOCKIFY_PUBLIC_KEY_FILE=${sim.publicKeyPath} CLOCKIFY_API_ALLOWED_HOSTS=${mockHost} \\\n    ADMIN_USERNAME=… ADMIN_PASSWORD=… (and BASE_URL=${url})`,
  );
  const manifest = await fetch(`${url}/manifest`).catch(() => undefined);
  if (!manifest?.ok) throw new Error(`no manifest at ${url}/manifest: is the system running (npm start)?`);
  if (!credentials.includes(':'))
    throw new Error('pass --admin USER:PASSWORD (or set ADMIN_USERNAME/ADMIN_PASSWORD) for the running system');
  const target = { url, auth: `Basic ${Buffer.from(credentials).toString('base64')}` };
  await admin(target, '/installations?limit=1').catch((err: Error) => {
    throw new Error(
      `${err.message}\nThe admin API must be on (ADMIN_USERNAME/ADMIN_PASSWORD) and the credentials right.`,
    );
  });
  return target;
}

async function latestRun(target: Target, workspaceId: string): Promise<RunView | undefined> {
  const view = await admin<{ latestRun: RunView | null }>(target, `/workspaces/${workspaceId}/bootstrap`).catch(() => ({
    latestRun: null,
  }));
  return view.latestRun ?? undefined;
}

/** Follows the first run created after `since` to its end, with a progress bar. */
async function followRun(target: Target, workspaceId: string, since: Date, label: boolean): Promise<RunView> {
  const bar = new cliProgress.SingleBar(
    {
      format: '  {bar} {percentage}% | {finished}/{total} resources | {items} items | {requests} requests | {status}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 1000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const deadline = Date.now() + 300_000;
  for (;;) {
    const view = await latestRun(target, workspaceId);
    if (view && new Date(view.run.created_at) >= since) {
      const payload = {
        finished: view.totals.finished,
        items: view.totals.items,
        requests: view.totals.requests,
        status: view.run.status,
      };
      if (label && !started) {
        bar.start(view.totals.resources, view.totals.finished, payload);
        started = true;
      }
      if (started) bar.update(view.totals.finished, payload);
      if (TERMINAL.includes(view.run.status)) {
        if (started) bar.stop();
        return view;
      }
    }
    if (Date.now() > deadline) {
      if (started) bar.stop();
      throw new Error('the bootstrap did not finish within 5 minutes');
    }
    await sleep(200);
  }
}

async function deliveriesSince(target: Target, workspaceId: string, since: Date) {
  type Delivery = { event: string; status: string; receivedAt: string; processedAt: string | null };
  const all: Delivery[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await admin<{ deliveries: Delivery[] }>(
      target,
      `/workspaces/${workspaceId}/deliveries?since=${since.toISOString()}&limit=1000&offset=${offset}`,
    );
    all.push(...page.deliveries);
    if (page.deliveries.length < 1000) return all;
  }
}

async function mirrorDiff(target: Target, workspaceId: string, sim: Simulator, run: RunView) {
  const window = run.resources.find((r) => r.resource === 'time-entries')?.cursor?.window;
  if (!window) throw new Error('the bootstrap has no time-entry window');
  const bounds = { start: new Date(window.start), end: new Date(window.end) };
  const expected = expectedMirror(sim.store, workspaceId, bounds);
  type Row = { entity_type: string; entity_id: string; data: Record<string, unknown>; deleted: boolean };
  const rows: Row[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await admin<{ entities: Row[] }>(
      target,
      `/workspaces/${workspaceId}/entities?limit=1000&offset=${offset}`,
    );
    rows.push(...page.entities);
    if (page.entities.length < 1000) break;
  }
  return diffMirror(expected, snapshotFromRows(rows, Object.keys(expected), bounds));
}

async function main(): Promise<number> {
  const running = args.ingress?.replace(/\/+$/, '');
  step(
    running
      ? 'Starting the simulator (mock Clockify API) for a running system'
      : 'Starting the simulator (mock Clockify API), the ingress and a worker',
  );
  const simData = running ? join(repoRoot(), '.data') : mkdtempSync(join(tmpdir(), 'clockify-addon-sim-'));
  if (!running) cleanups.push(() => rmSync(simData, { recursive: true, force: true }));
  const mockPort = Number(args['mock-port'] ?? (running ? 8090 : 0));
  const sim = await createSimulator({
    dataDir: simData,
    seed: 'demo',
    workspaces: 1,
    port: mockPort,
    sizes: {
      users: Number(args.users),
      projects: Number(args.projects),
      tasksPerProject: 3,
      tags: 20,
      clients: 8,
      entries: Number(args.entries),
    },
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE') throw err;
    throw new Error(
      `port ${mockPort} is taken (a \`sim serve\` there?): the demo runs its own mock API; stop the other one or pass --mock-port and allow that port in CLOCKIFY_API_ALLOWED_HOSTS`,
    );
  });
  shutdown.register('connections', 'simulator', () => sim.close());
  console.log(`  mock API   ${sim.url}`);
  const target = running ? await useRunning(running, sim) : await startEmbedded(sim);
  const workspaceId = sim.store.workspaceIds()[0]!;

  step(`Installing the add-on into workspace ${workspaceId}`);
  const installedAt = new Date(Date.now() - 1000);
  const install = await sim.install({ ingressUrl: target.url, workspaceId });
  check('install', install.status === 200, `INSTALLED answered ${install.status}`);
  if (install.status !== 200) {
    throw new Error(
      `INSTALLED answered ${install.status}: ${JSON.stringify(install.body)}${install.status === 401 ? ' (does the system trust the simulator key?)' : ''}`,
    );
  }

  step('Bootstrap: copying the workspace through the rate-limited API');
  const run = await followRun(target, workspaceId, installedAt, true);
  check(
    'bootstrap',
    run.run.status === 'COMPLETED',
    `${run.run.status}: ${run.totals.items} items in ${run.totals.requests} requests`,
  );

  const count = Number(args.webhooks);
  step(`Firing ${count} webhooks at ${args.rate}/s (10% sent twice, order shuffled)`);
  const burstStarted = new Date(Date.now() - 1000);
  const burst = await sim.burst({
    count,
    rate: Number(args.rate),
    duplicates: 0.1,
    reorder: true,
    seed: `demo-${Date.now()}`,
  });
  const acknowledged = Object.entries(burst.byStatus)
    .filter(([s]) => s.startsWith('2'))
    .reduce((n, [, v]) => n + v, 0);
  let deliveries = await deliveriesSince(target, workspaceId, burstStarted);
  const settleBy = Date.now() + 120_000;
  while (deliveries.length < burst.unique || deliveries.some((d) => !FINAL_DELIVERY.includes(d.status))) {
    if (Date.now() > settleBy) break;
    await sleep(250);
    deliveries = await deliveriesSince(target, workspaceId, burstStarted);
  }
  const processed = deliveries.filter((d) => d.status === 'done');
  const failures = deliveries.filter((d) => d.status !== 'done').length + burst.errors + (burst.sent - acknowledged);
  const latencies = processed.map((d) => Date.parse(d.processedAt!) - Date.parse(d.receivedAt)).sort((a, b) => a - b);
  const dropped = burst.sent - deliveries.length;
  // A resend is a duplicate when it repeats the last accepted delivery of its entity. Shuffled, a
  // resend can arrive after another change of the same entity: then it is a change again (A → B →
  // A) and is processed. Every delivery is processed or dropped, never lost, never dropped twice.
  const reapplied = processed.length - burst.unique;
  check(
    'deliveries',
    acknowledged === burst.sent && reapplied >= 0 && processed.length + dropped === burst.sent,
    `${burst.unique} distinct deliveries processed` +
      (reapplied > 0 ? `, and ${reapplied} resends that came after another change of their entity` : ''),
  );
  check(
    'duplicates',
    dropped + reapplied === burst.duplicates,
    `${dropped} duplicates dropped of ${burst.duplicates} sent${reapplied > 0 ? ` (${reapplied} were changes again)` : ''}`,
  );
  check('failures', failures === 0, `${failures} failures`);

  step('Comparing the mirror with the simulator (after webhooks, then after one reconciliation)');
  const before = await mirrorDiff(target, workspaceId, sim, run);
  const reconcileAt = new Date(Date.now() - 1000);
  await admin(target, `/workspaces/${workspaceId}/bootstrap`, { method: 'POST' });
  const reconcile = await followRun(target, workspaceId, reconcileAt, false);
  const after = await mirrorDiff(target, workspaceId, sim, reconcile);
  const differing = before.missing.length + before.extra.length + before.changed.length;
  // Where the webhooks alone left the mirror behind, by kind and type ("extra time_entry 412").
  const breakdown = (['missing', 'extra', 'changed'] as const)
    .flatMap((kind) => {
      const byType = new Map<string, number>();
      for (const key of before[kind]) byType.set(key.split('/')[0]!, (byType.get(key.split('/')[0]!) ?? 0) + 1);
      return [...byType].map(([type, n]) => `${kind} ${type} ${n}`);
    })
    .join(', ');
  check(
    'mirror',
    after.equal,
    after.equal
      ? `equal (${Object.values(after.counts).reduce((a, b) => a + b, 0)} entities)` +
          (differing === 0
            ? '; it was equal after the webhooks alone already'
            : `; after the webhooks alone ${differing} differed (${breakdown}): some changes send no webhook ` +
              `of their own (a removed user's time entries leave the mirrored set, a deleted project's ` +
              `entries lose it), webhook bodies carry fewer fields than the API (a new client without its ` +
              `currency, a new time entry without its type) and deliveries arrive unordered; the ` +
              `reconciliation healed them`)
      : `differs: missing ${after.missing.slice(0, 5).join(', ')} extra ${after.extra.slice(0, 5).join(', ')} changed ${after.changed.slice(0, 5).join(', ')}`,
  );
  const stats = sim.api!.stats.snapshot();
  check('rate limit', stats.rateLimited === 0, `${stats.total} API requests, ${stats.rateLimited} answered 429`);

  console.log('\nSummary');
  console.log(`  webhooks received      ${acknowledged} of ${burst.sent} sent (${burst.unique} distinct)`);
  console.log(`  processed              ${processed.length}`);
  console.log(`  duplicates dropped     ${dropped}`);
  console.log(`  failures               ${failures}`);
  console.log(`  end-to-end latency     p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`);
  console.log(`  mirror = simulator     ${after.equal ? 'yes' : 'NO'}`);
  console.log('');
  for (const c of checks) console.log(`  ${c.ok ? '✔' : '✘'} ${c.name.padEnd(11)} ${c.detail}`);
  const ok = checks.every((c) => c.ok);
  console.log(ok ? '\nEverything checks out.' : '\nSomething did not check out (see ✘ above).');
  return ok ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`\ndemo failed: ${(err as Error).message}`);
  if (/Redis is not reachable/.test((err as Error).message))
    console.error('The demo needs Redis on 127.0.0.1:6379 (or REDIS_URL).');
} finally {
  await shutdown.shutdown().catch(() => undefined);
  for (const c of cleanups.reverse()) await c();
}
process.exit(code);
