// `npm run bench:bootstrap [-- --workers=1,2 --rounds=1 --users=40 --entries=12000 --page-size=10 --latency=30 --no-build]`
//
// Requests per second a bootstrap achieves against the mock Clockify API's limit of 50 per second
// per workspace, with one and then two worker processes (the built dist). See bench/bootstrap/README.md.
import { getBootstrapResources, listEntities, type BootstrapRun } from '@cap/db';
import { diffMirror, expectedMirror, snapshotFromRows } from '@cap/simulator';
import {
  cleanUpOnSignal,
  cpuDelta,
  cpuSeconds,
  ensureBuilt,
  log,
  machine,
  median,
  numberArg,
  parseArgs,
  startCluster,
  until,
  writeResults,
  type Cluster,
} from '../worker/harness.js';
import type { AppProcess } from '@cap/testing';

const args = parseArgs(process.argv.slice(2));
const ROUNDS = Math.max(1, Math.floor(numberArg(args, 'rounds', 1)));
const WORKERS = (args.workers ?? '1,2').split(',').map((n) => Math.max(1, Math.floor(Number(n))));
const PAGE_SIZE = Math.floor(numberArg(args, 'page-size', 10));
const LATENCY_MS = numberArg(args, 'latency', 30);
const LIMIT = 50;
const TARGET = 0.9;
// Enough data for ≥ 20 s at 50 rps: about (entries + users) / PAGE_SIZE requests, mostly time-entry pages.
const SIZES = {
  users: Math.floor(numberArg(args, 'users', 40)),
  entries: Math.floor(numberArg(args, 'entries', 12_000)),
  projects: Math.floor(numberArg(args, 'projects', 40)),
  tasksPerProject: 3,
  clients: 10,
  tags: 20,
  userGroups: 4,
  days: 30,
};
const WORKER_ENV: Record<string, string> = Object.fromEntries(
  (args['worker-env'] ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

interface ScenarioResult {
  readonly workers: number;
  readonly requests: number;
  readonly rateLimited: number;
  readonly seconds: number;
  readonly rps: number;
  readonly ratio: number;
  /** Most requests the mock admitted inside one sliding 1 s window. */
  readonly peakPerWindow: number;
  readonly runStatus: string;
  readonly runSeconds: number;
  readonly pages: number;
  readonly items: number;
  readonly byOperation: Record<string, number>;
  readonly mirrorEqual: boolean;
  readonly workerCpuSeconds: number;
  readonly meets: boolean;
}

async function scenario(workers: number): Promise<ScenarioResult> {
  const cluster = await startCluster({ label: 'bootstrap', sim: { seed: 'bench-bootstrap', sizes: SIZES } });
  const release = cleanUpOnSignal(() => cluster.close());
  try {
    return await measure(cluster, workers);
  } finally {
    release();
    await cluster.close();
  }
}

async function measure(cluster: Cluster, workers: number): Promise<ScenarioResult> {
  const { sim, workspaceId } = cluster;
  const api = sim.api!;
  api.faults.set('*', { latencyMs: LATENCY_MS });
  const procs: AppProcess[] = [];
  for (let i = 0; i < workers; i++)
    procs.push(await cluster.startWorker({ BOOTSTRAP_PAGE_SIZE: String(PAGE_SIZE), ...WORKER_ENV }));
  const pids = procs.map((p) => p.child.pid ?? 0);
  const cpuBefore = cpuSeconds(pids);
  api.stats.reset();
  api.rateLimiter?.resetPeaks();

  // The install's bootstrap is the measured run: every request it makes goes to the mock.
  await cluster.install();
  let first = 0;
  let last = 0;
  let seen = 0;
  let run: BootstrapRun | undefined;
  const db = cluster.database.db;
  let nextRunCheck = 0;
  await until(
    async () => {
      for (const p of procs) if (p.child.exitCode !== null) throw new Error(`a worker exited with ${p.child.exitCode}`);
      const total = api.stats.count({ workspaceId });
      const now = performance.now();
      if (total > seen) {
        if (seen === 0) first = now;
        last = now;
        seen = total;
      }
      if (now < nextRunCheck) return false;
      nextRunCheck = now + 250;
      run = await db
        .selectFrom('bootstrap_runs')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
      return run && ['COMPLETED', 'PARTIAL', 'FAILED'].includes(run.status);
    },
    { timeoutMs: 600_000, intervalMs: 10, message: 'the bootstrap run to finish' },
  );
  const workerCpuSeconds = cpuDelta(cpuBefore, cpuSeconds(pids));
  const stats = api.stats.snapshot();
  const ws = stats.byWorkspace[workspaceId]!;
  const resources = await getBootstrapResources(db, run!.id);
  const window = (
    resources.find((r) => r.resource === 'time-entries')?.cursor as { window?: { start: string; end: string } }
  )?.window;
  const bounds = { start: new Date(window?.start ?? 0), end: new Date(window?.end ?? Date.now()) };
  const expected = expectedMirror(sim.store, workspaceId, bounds);
  const actual = snapshotFromRows(
    await listEntities(db, workspaceId, undefined, { includeDeleted: true }),
    Object.keys(expected),
    bounds,
  );
  const diff = diffMirror(expected, actual);
  const seconds = (last - first) / 1000;
  // `ws.total` requests in the span from the first to the last: total − 1 intervals.
  const rps = seconds > 0 ? (ws.total - 1) / seconds : NaN;
  const runSeconds =
    (new Date(run!.finished_at!).getTime() - new Date(run!.started_at ?? run!.created_at).getTime()) / 1000;
  return {
    workers,
    requests: ws.total,
    rateLimited: ws.rateLimited,
    seconds,
    rps,
    ratio: rps / LIMIT,
    peakPerWindow: ws.peakPerWindow,
    runStatus: run!.status,
    runSeconds,
    pages: resources.reduce((n, r) => n + r.pages, 0),
    items: resources.reduce((n, r) => n + r.items, 0),
    byOperation: ws.byOperation,
    mirrorEqual: diff.missing.length === 0 && diff.extra.length === 0 && diff.changed.length === 0,
    workerCpuSeconds,
    meets: rps >= TARGET * LIMIT && ws.rateLimited === 0,
  };
}

async function main(): Promise<void> {
  const build = ensureBuilt(args);
  log(
    `\nbench:bootstrap — one workspace (${SIZES.users} users, ${SIZES.entries} time entries, ${SIZES.projects} projects), ` +
      `page size ${PAGE_SIZE}, mock latency ${LATENCY_MS} ms, limit ${LIMIT} rps; ${machine().cpus} cores, Node ${process.version}`,
  );
  const results: (ScenarioResult & { round: number })[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const workers of WORKERS) {
      const r = await scenario(workers);
      results.push({ ...r, round });
      log(
        `  ${workers} worker process${workers > 1 ? 'es' : ''}: ${r.requests} requests in ${r.seconds.toFixed(1)} s = ` +
          `${r.rps.toFixed(1)} rps (${(r.ratio * 100).toFixed(0)}% of ${LIMIT}), 429s ${r.rateLimited}, ` +
          `peak ${r.peakPerWindow} in a 1 s window, run ${r.runStatus} in ${r.runSeconds.toFixed(1)} s, ` +
          `mirror ${r.mirrorEqual ? 'equal to the mock' : 'DIFFERS from the mock'}, worker CPU ${r.workerCpuSeconds.toFixed(1)} s`,
      );
    }
  }
  log(`\nsummary (median of ${ROUNDS} round${ROUNDS > 1 ? 's' : ''}; target: ≥ ${TARGET * LIMIT} rps and no 429)`);
  const summary = WORKERS.map((workers) => {
    const mine = results.filter((r) => r.workers === workers);
    const rps = median(mine.map((r) => r.rps));
    const rateLimited = mine.reduce((n, r) => n + r.rateLimited, 0);
    const meets = rps >= TARGET * LIMIT && rateLimited === 0 && mine.every((r) => r.mirrorEqual);
    log(
      `  ${workers} worker process${workers > 1 ? 'es' : ''}: ${rps.toFixed(1)} rps, ratio ${(rps / LIMIT).toFixed(2)}, ` +
        `429s ${rateLimited}  ${meets ? 'meets the target' : 'MISSES the target'}`,
    );
    return { workers, rps, ratio: rps / LIMIT, rateLimited, meets };
  });
  const result = {
    benchmark: 'bootstrap',
    at: new Date().toISOString(),
    machine: machine(),
    settings: {
      sizes: SIZES,
      pageSize: PAGE_SIZE,
      latencyMs: LATENCY_MS,
      limit: LIMIT,
      rounds: ROUNDS,
      workerEnv: WORKER_ENV,
    },
    ...(build.warning ? { warning: build.warning } : {}),
    summary,
    results,
  };
  log(`  results: ${writeResults('bootstrap', result)}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
