/**
 * `npm run demo`: the whole system in one command. Starts the simulator ("Clockify in a box"),
 * the ingress and a worker with the embedded defaults (PGlite in a fresh folder, the local Redis
 * under a fresh prefix), installs the example add-on into a simulated workspace, shows the
 * bootstrap's progress, fires a burst of webhooks (some duplicated, some reordered), runs one
 * reconciliation, and prints a summary. Exits 0 only when everything checks out.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { bootstrapProgress, getBootstrapResources, listEntities, type BootstrapRun } from '@cap/db';
import { ingressEnv, startIngress } from '@cap/ingress';
import { silentLogger } from '@cap/observability';
import { JOBS, QUEUE_NAMES } from '@cap/queue';
import { Shutdown, acquireEmbeddedDatabaseLock, openMigratedDatabase } from '@cap/service';
import { createSimulator, diffMirror, expectedMirror, snapshotFromRows } from '@cap/simulator';
import { deleteRedisPrefix, freePort } from '@cap/testing';
import { startWorker, workerEnv } from '@cap/worker';

const { values: args } = parseArgs({
  options: {
    webhooks: { type: 'string', default: '400' },
    rate: { type: 'string', default: '200' },
    users: { type: 'string', default: '12' },
    projects: { type: 'string', default: '25' },
    entries: { type: 'string', default: '800' },
    'keep-data': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(`npm run demo [-- --webhooks N --rate R --users U --projects P --entries E --keep-data]`);
  process.exit(0);
}

const TERMINAL = ['COMPLETED', 'PARTIAL', 'FAILED'];
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `demo-${randomBytes(4).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'clockify-addon-demo-'));
const shutdown = new Shutdown(silentLogger(), 10_000);
const step = (text: string) => console.log(`\n▸ ${text}`);
const checks: { name: string; ok: boolean; detail: string }[] = [];
const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

async function main(): Promise<number> {
  step('Starting the simulator (mock Clockify API), the ingress and a worker');
  const sim = await createSimulator({
    dataDir,
    seed: 'demo',
    workspaces: 1,
    sizes: {
      users: Number(args.users),
      projects: Number(args.projects),
      tasksPerProject: 3,
      tags: 20,
      clients: 8,
      entries: Number(args.entries),
    },
  });
  shutdown.register('connections', 'simulator', () => sim.close());
  const env = {
    PORT: '0',
    WORKER_PORT: '0',
    REDIS_URL: redisUrl,
    BULLMQ_PREFIX: prefix,
    DATA_DIR: dataDir,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CLOCKIFY_PUBLIC_KEY_FILE: sim.publicKeyPath,
    CLOCKIFY_API_ALLOWED_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RETENTION_CRON: 'off',
    RECONCILE_CRON: 'off',
  };
  const release = acquireEmbeddedDatabaseLock(dataDir);
  shutdown.register('connections', 'lock', release);
  const workerConfig = workerEnv.parse(env);
  const database = await openMigratedDatabase(workerConfig, silentLogger(), 'demo');
  shutdown.register('connections', 'database', () => database.close());
  await startWorker({ config: workerConfig, logger: silentLogger(), database, shutdown });
  // The manifest's baseUrl (where the simulator delivers) must be the ingress's own address.
  const port = await freePort();
  const ingress = await startIngress({
    config: ingressEnv.parse({ ...env, PORT: String(port), BASE_URL: `http://127.0.0.1:${port}` }),
    logger: silentLogger(),
    database,
    shutdown,
  });
  const db = database.db;
  const workspaceId = sim.store.workspaceIds()[0]!;
  console.log(`  mock API   ${sim.url}`);
  console.log(`  ingress    ${ingress.url}  (manifest: ${ingress.url}/manifest)`);
  console.log(`  database   embedded PGlite in ${dataDir}`);

  step(`Installing "${ingress.context.addon.name}" into workspace ${workspaceId}`);
  const install = await sim.install({ ingressUrl: ingress.url, workspaceId });
  check('install', install.status === 200, `INSTALLED answered ${install.status}`);

  step('Bootstrap: copying the workspace through the rate-limited API');
  const run = await followBootstrap(db, workspaceId);
  const resources = await getBootstrapResources(db, run.id);
  check(
    'bootstrap',
    run.status === 'COMPLETED',
    `${run.status}: ${resources.reduce((n, r) => n + r.items, 0)} items in ${resources.reduce((n, r) => n + r.requests, 0)} requests`,
  );

  const count = Number(args.webhooks);
  step(`Firing ${count} webhooks at ${args.rate}/s (10% sent twice, order shuffled)`);
  const burstStarted = new Date(Date.now() - 1000);
  const burst = await sim.burst({ count, rate: Number(args.rate), duplicates: 0.1, reorder: true, seed: 'demo' });
  const acknowledged = Object.entries(burst.byStatus)
    .filter(([s]) => s.startsWith('2'))
    .reduce((n, [, v]) => n + v, 0);
  await settle(ingress.context.queues, 60_000);

  const rows = await db
    .selectFrom('webhook_events')
    .select(['status', 'received_at', 'processed_at'])
    .where('workspace_id', '=', workspaceId)
    .where('received_at', '>=', burstStarted)
    .execute();
  const processed = rows.filter((r) => r.status === 'done');
  const failures = rows.filter((r) => r.status === 'failed').length + burst.errors + (burst.sent - acknowledged);
  const latencies = processed.map((r) => r.processed_at!.getTime() - r.received_at.getTime()).sort((a, b) => a - b);
  const dropped = burst.sent - rows.length;
  check(
    'deliveries',
    acknowledged === burst.sent && processed.length === burst.unique,
    `${processed.length} of ${burst.unique} distinct deliveries processed`,
  );
  check('duplicates', dropped === burst.duplicates, `${dropped} duplicates dropped of ${burst.duplicates} sent`);
  check('failures', failures === 0, `${failures} failures`);

  step('Comparing the mirror with the simulator (after webhooks, then after one reconciliation)');
  const before = await mirrorDiff(db, workspaceId, sim, run);
  await ingress.context.queues.maintenance.add(JOBS.reconcile, { v: 1 });
  const reconcile = await waitForRun(db, workspaceId, (r) => r.trigger === 'reconcile' && TERMINAL.includes(r.status));
  const after = await mirrorDiff(db, workspaceId, sim, reconcile);
  const differing = before.missing.length + before.extra.length + before.changed.length;
  check(
    'mirror',
    after.equal,
    after.equal
      ? `equal (${Object.values(after.counts).reduce((a, b) => a + b, 0)} entities); after webhooks alone ${differing} differed — deliveries are unordered and some changes (a project's entries losing it) send no webhook of their own; reconciliation heals both`
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

async function followBootstrap(
  db: Parameters<typeof bootstrapProgress>[0],
  workspaceId: string,
): Promise<BootstrapRun> {
  const bar = new cliProgress.SingleBar(
    {
      format: '  {bar} {percentage}% | {finished}/{total} resources | {items} items | {requests} requests',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 1000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const deadline = Date.now() + 180_000;
  for (;;) {
    const run = await db
      .selectFrom('bootstrap_runs')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    if (run) {
      const p = (await bootstrapProgress(db, run.id))!;
      if (!started) {
        bar.start(p.totals.resources, 0, { finished: 0, items: 0, requests: 0 });
        started = true;
      }
      bar.update(p.totals.finished, {
        finished: p.totals.finished,
        items: p.totals.items,
        requests: p.totals.requests,
      });
      if (TERMINAL.includes(run.status)) {
        bar.stop();
        return run;
      }
    }
    if (Date.now() > deadline) {
      bar.stop();
      throw new Error('the bootstrap did not finish within 3 minutes');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitForRun(
  db: Parameters<typeof bootstrapProgress>[0],
  workspaceId: string,
  done: (r: BootstrapRun) => boolean,
): Promise<BootstrapRun> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const runs = await db.selectFrom('bootstrap_runs').selectAll().where('workspace_id', '=', workspaceId).execute();
    const run = runs.find(done);
    if (run) return run;
    if (Date.now() > deadline) throw new Error('the reconciliation did not finish within 3 minutes');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function settle(
  queues: Awaited<ReturnType<typeof startIngress>>['context']['queues'],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let busy = 0;
    for (const q of Object.values(queues)) {
      if (!QUEUE_NAMES.includes(q.name as never)) continue;
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      busy += Object.values(c).reduce((a, b) => a + b, 0);
    }
    if (busy === 0) return;
    if (Date.now() > deadline) throw new Error(`queues still busy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function mirrorDiff(
  db: Parameters<typeof bootstrapProgress>[0],
  workspaceId: string,
  sim: Awaited<ReturnType<typeof createSimulator>>,
  run: BootstrapRun,
) {
  const te = (await getBootstrapResources(db, run.id)).find((r) => r.resource === 'time-entries');
  const window = (te?.cursor as { window?: { start: string; end: string } } | null)?.window;
  if (!window) throw new Error('the bootstrap has no time-entry window');
  const expected = expectedMirror(sim.store, workspaceId, { start: new Date(window.start), end: new Date(window.end) });
  const rows = await listEntities(db, workspaceId, undefined, { includeDeleted: true });
  return diffMirror(expected, snapshotFromRows(rows, Object.keys(expected)));
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
  await deleteRedisPrefix(redisUrl, prefix).catch(() => undefined);
  if (!args['keep-data']) rmSync(dataDir, { recursive: true, force: true });
}
process.exit(code);
