// `npm run bench:bootstrap [-- --workers=1,2 --rounds=1 --users=40 --entries=12000 --days=30 --page-size=10 --latency=30 --no-build]`
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
import { readFileSync } from 'node:fs';

const args = parseArgs(process.argv.slice(2));
const ROUNDS = Math.max(1, Math.floor(numberArg(args, 'rounds', 1)));
const WORKERS = (args.workers ?? '1,2').split(',').map((n) => Math.max(1, Math.floor(Number(n))));
const PAGE_SIZE = Math.floor(numberArg(args, 'page-size', 10));
const LATENCY_MS = numberArg(args, 'latency', 30);
const DAYS = Math.max(1, Math.floor(numberArg(args, 'days', 30)));
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
  days: DAYS,
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
  readonly memory: MemoryProfile;
  readonly pageWrites: PageWriteProfile;
  readonly meets: boolean;
}

/** One reading, every second, while the run copies. */
interface Sample {
  readonly at: number;
  /** Resident set of all worker processes together, MiB. */
  readonly rssMb: number;
  /** Pages and entities committed so far (bootstrap_resources). */
  readonly pages: number;
  readonly items: number;
  /** `bootstrap_page_write_seconds` summed over the workers: total seconds and pages. */
  readonly writeSeconds: number;
  readonly writes: number;
}

interface MemoryProfile {
  /** RSS (MiB, all workers) when 10, 25, 50, 75 and 100 % of the entities were committed. */
  readonly atShare: Record<string, number>;
  /** RSS at the end minus RSS at 25 % of the entities. */
  readonly growthMb: number;
  /** Least-squares slope of RSS over entities committed, from 25 % on: MiB per 100 000 entities. */
  readonly slopeMbPer100k: number;
  readonly peakMb: number;
}

interface PageWriteProfile {
  /** Mean commit time of a page (ms) in each quarter of the pages, and over all of them. */
  readonly quarterMs: number[];
  readonly meanMs: number;
  readonly pages: number;
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
    procs.push(
      await cluster.startWorker({
        BOOTSTRAP_PAGE_SIZE: String(PAGE_SIZE),
        BOOTSTRAP_TIME_ENTRY_DAYS: String(DAYS),
        ...WORKER_ENV,
      }),
    );
  const pids = procs.map((p) => p.child.pid ?? 0);
  const metricPorts = await Promise.all(procs.map((p) => p.logField<number>(/worker ready/, 'port')));
  const samples: Sample[] = [];
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
  let nextSample = 0;
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
      if (now >= nextSample) {
        nextSample = now + 1000;
        samples.push(await sample(db, workspaceId, pids, metricPorts));
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
  samples.push(await sample(db, workspaceId, pids, metricPorts));
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
    memory: memoryProfile(samples),
    pageWrites: pageWriteProfile(samples),
    meets: rps >= TARGET * LIMIT && ws.rateLimited === 0,
  };
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Sum and count of `bootstrap_page_write_seconds` (every resource) from one worker's /metrics. */
async function pageWriteTotals(port: number): Promise<{ seconds: number; count: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let seconds = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    const m = /^bootstrap_page_write_seconds_(sum|count)\{[^}]*\} (\S+)$/.exec(line);
    if (!m) continue;
    const kind = m[1];
    const value = Number(m[2]);
    if (kind === 'sum') seconds += value;
    else count += value;
  }
  return { seconds, count };
}

async function sample(
  db: Cluster['database']['db'],
  workspaceId: string,
  pids: readonly number[],
  ports: readonly number[],
): Promise<Sample> {
  const at = performance.now();
  const rss = pids.reduce((n, pid) => n + rssMb(pid), 0);
  const progress = await db
    .selectFrom('bootstrap_resources')
    .innerJoin('bootstrap_runs', 'bootstrap_runs.id', 'bootstrap_resources.run_id')
    .select((eb) => [
      eb.fn.sum<string>('bootstrap_resources.pages').as('pages'),
      eb.fn.sum<string>('bootstrap_resources.items').as('items'),
    ])
    .where('bootstrap_runs.workspace_id', '=', workspaceId)
    .executeTakeFirst();
  const writes = await Promise.all(ports.map(pageWriteTotals));
  return {
    at,
    rssMb: rss,
    pages: Number(progress?.pages ?? 0),
    items: Number(progress?.items ?? 0),
    writeSeconds: writes.reduce((n, w) => n + w.seconds, 0),
    writes: writes.reduce((n, w) => n + w.count, 0),
  };
}

function memoryProfile(samples: readonly Sample[]): MemoryProfile {
  const total = samples.at(-1)?.items ?? 0;
  const at = (share: number) => samples.find((s) => s.items >= share * total) ?? samples.at(-1);
  const atShare = Object.fromEntries(
    [0.1, 0.25, 0.5, 0.75, 1].map((share) => [`${share * 100}%`, Math.round(at(share)?.rssMb ?? 0)]),
  );
  const late = samples.filter((s) => s.items >= 0.25 * total);
  const n = late.length;
  const mx = late.reduce((a, s) => a + s.items, 0) / n;
  const my = late.reduce((a, s) => a + s.rssMb, 0) / n;
  const sxy = late.reduce((a, s) => a + (s.items - mx) * (s.rssMb - my), 0);
  const sxx = late.reduce((a, s) => a + (s.items - mx) ** 2, 0);
  return {
    atShare,
    growthMb: Math.round((samples.at(-1)?.rssMb ?? 0) - (at(0.25)?.rssMb ?? 0)),
    slopeMbPer100k: sxx > 0 ? Number(((sxy / sxx) * 100_000).toFixed(2)) : 0,
    peakMb: Math.round(Math.max(...samples.map((s) => s.rssMb))),
  };
}

function pageWriteProfile(samples: readonly Sample[]): PageWriteProfile {
  const last = samples.at(-1);
  if (!last || last.writes === 0) return { quarterMs: [], meanMs: NaN, pages: 0 };
  const at = (share: number) =>
    share === 0 ? { writes: 0, writeSeconds: 0 } : (samples.find((s) => s.writes >= share * last.writes) ?? last);
  const quarterMs = [0.25, 0.5, 0.75, 1].map((share) => {
    const a = at(share - 0.25);
    const b = at(share);
    return b.writes > a.writes
      ? Number((((b.writeSeconds - a.writeSeconds) / (b.writes - a.writes)) * 1000).toFixed(1))
      : NaN;
  });
  return { quarterMs, meanMs: Number(((last.writeSeconds / last.writes) * 1000).toFixed(1)), pages: last.writes };
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
      log(
        `    ${r.items} entities in ${r.pages} pages; worker RSS (MiB) by share of entities committed ` +
          `${Object.entries(r.memory.atShare)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}; ` +
          `growth after 25 % ${r.memory.growthMb} MiB (slope ${r.memory.slopeMbPer100k} MiB per 100k); ` +
          `page write ${r.pageWrites.meanMs} ms mean, by quarter ${r.pageWrites.quarterMs.join(' / ')} ms`,
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
