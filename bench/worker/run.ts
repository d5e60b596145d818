// `npm run bench:worker [-- --count=10000 --rounds=3 --concurrency=64 --no-build --cpuprof=DIR
//                          --worker-env=K=V,… --worker-entry=other/dist/main.js]`
//
// Webhooks fully processed per second by ONE worker process (webhook_events rows reaching `done`
// in Postgres, the example add-on's handler included), next to a bare BullMQ Worker with a no-op
// processor draining an identical prefilled queue with the same concurrency, same Redis, same run.
// See bench/worker/README.md.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from '@cap/db';
import type { WebhookEventName } from '@cap/clockify';
import { JOBS, QUEUES, createQueues, closeQueues, type WebhookPayload } from '@cap/queue';
import { Queue } from 'bullmq';
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
  root,
  startCluster,
  stopProcess,
  until,
  writeResults,
  type Cluster,
} from './harness.js';

const args = parseArgs(process.argv.slice(2));
const COUNT = Math.floor(numberArg(args, 'count', 10_000));
const ROUNDS = Math.max(1, Math.floor(numberArg(args, 'rounds', 3)));
// The worker's default WORKER_CONCURRENCY_WEBHOOKS.
const CONCURRENCY = Math.max(1, Math.floor(numberArg(args, 'concurrency', 128)));
const TARGET_RATIO = 0.3;
// Worker processes on the measured side (`--processes=2`: what one more process buys).
const PROCESSES = Math.max(1, Math.floor(numberArg(args, 'processes', 1)));
// Extra environment of the measured worker (`--worker-env=DATABASE_POOL_MAX=16,LOG_LEVEL=warn`).
const WORKER_ENV: Record<string, string> = Object.fromEntries(
  (args['worker-env'] ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
// A store big enough that concurrent updates rarely hit the same entity row: webhook bursts in
// real workspaces are spread over many entities, mostly time entries.
const SIZES = { users: 60, clients: 40, projects: 120, tasksPerProject: 4, tags: 80, entries: 6000, runningTimers: 10 };

interface Measured {
  readonly jobs: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** CPU milliseconds per job: the consumer process, Postgres backends of the run's database, Redis. */
  readonly cpuMsPerJob: { consumer: number; postgres: number; redis: number };
}

function rate(
  jobs: number,
  firstMs: number,
  lastMs: number,
  cpu: { consumer: number; postgres: number; redis: number },
): Measured {
  const seconds = (lastMs - firstMs) / 1000;
  const perJob = (s: number) => Math.round((s * 1e6) / jobs) / 1000;
  return {
    jobs,
    seconds,
    // First to last completion spans jobs − 1 intervals.
    perSecond: seconds > 0 ? (jobs - 1) / seconds : NaN,
    cpuMsPerJob: { consumer: perJob(cpu.consumer), postgres: perJob(cpu.postgres), redis: perJob(cpu.redis) },
  };
}

/** Redis's `used_memory`, in bytes. */
async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? NaN);
}

async function redisPid(redis: Redis): Promise<number> {
  const info = await redis.info('server');
  return Number(/^process_id:(\d+)/m.exec(info)?.[1] ?? 0);
}

/** Backends serving the run's database, except the benchmark's own connections. */
async function postgresPids(cluster: Cluster): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND application_name <> 'bench'`.execute(cluster.database.db);
  return rows.map((r) => r.pid);
}

// Bodies of every round: identical content inside the dedupe window would be a duplicate.
const seen = new Set<string>();

/**
 * Sends COUNT distinct webhooks (every event the add-on subscribes to, bodies built by the
 * simulator from its store) through the real ingress, 32 at a time. A delivery without an
 * answer is sent again, as Clockify would; the ingress's dedupe gate keeps it from being queued
 * twice. Returns the seconds it took and the transport errors seen.
 */
async function prefill(cluster: Cluster): Promise<{ seconds: number; resent: string[] }> {
  const { sim } = cluster;
  const events = [...new Set(sim.installation().manifest.webhooks.map((w) => w.event))] as WebhookEventName[];
  const planned: { event: WebhookEventName; body: string }[] = [];
  // Some events have few distinct bodies (a user removed from the workspace: one per user); an
  // event that keeps repeating itself leaves the rotation, as identical content is a duplicate.
  for (let i = 0; planned.length < COUNT; i++) {
    if (events.length === 0) throw new Error(`the simulator cannot build ${COUNT} distinct webhooks`);
    const event = events[i % events.length]!;
    let body: string | undefined;
    for (let attempt = 0; attempt < 8 && body === undefined; attempt++) {
      const candidate = JSON.stringify(sim.buildWebhook(event));
      if (!seen.has(`${event}:${candidate}`)) body = candidate;
    }
    if (body === undefined) {
      events.splice(events.indexOf(event), 1);
      continue;
    }
    seen.add(`${event}:${body}`);
    planned.push({ event, body });
  }
  const started = Date.now();
  const resent: string[] = [];
  let next = 0;
  const send = async () => {
    while (next < planned.length) {
      const d = planned[next++]!;
      for (let attempt = 1; ; attempt++) {
        const res = await sim.sendWebhook(d.event, d.body);
        if (res.status === 200 && attempt === 1 && (res.body as { duplicate?: boolean } | undefined)?.duplicate) {
          throw new Error(`the ingress took a distinct ${d.event} webhook for a duplicate`);
        }
        if (res.status === 200) break;
        if (attempt >= 5 || (res.status !== 0 && res.status !== 503)) {
          throw new Error(
            `the ingress answered ${res.status} to a ${d.event} webhook: ${JSON.stringify(res.body ?? res.error)}`,
          );
        }
        resent.push(`${res.status} ${res.error ?? ''}`.trim());
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, send));
  return { seconds: (Date.now() - started) / 1000, resent };
}

async function queuedWebhooks(redis: Redis, prefix: string): Promise<number> {
  const queue = new Queue(QUEUES.webhooks, { connection: redis, prefix });
  try {
    // Jobs from the ingress wait at their fair turn (BullMQ's prioritized set).
    return await queue.getJobCountByTypes('waiting', 'prioritized');
  } finally {
    await queue.close();
  }
}

/** Copies the waiting webhook jobs (waiting and prioritized), unchanged (name, data, job id, queue defaults), under another prefix. */
async function copyQueue(redis: Redis, from: string, to: string): Promise<number> {
  const source = new Queue(QUEUES.webhooks, { connection: redis, prefix: from });
  const target = createQueues(redis, to);
  try {
    // The wait list is newest first; the prioritized set is in serving order (the ingress's fair
    // turns). Adding in serving order, with the same priorities, keeps the processing order.
    const jobs = [...(await source.getWaiting(0, -1)).reverse(), ...(await source.getPrioritized(0, -1))];
    for (let i = 0; i < jobs.length; i += 1000) {
      await target.webhooks.addBulk(
        jobs.slice(i, i + 1000).map((j) => ({
          name: j.name,
          data: j.data as WebhookPayload,
          opts: { jobId: j.id!, ...(j.opts.priority ? { priority: j.opts.priority } : {}) },
        })),
      );
    }
    return jobs.length;
  } finally {
    await source.close();
    await closeQueues(target);
  }
}

async function runBaseline(cluster: Cluster, redis: Redis, prefix: string): Promise<Measured> {
  const redisProcess = await redisPid(redis);
  const child = spawn(process.execPath, [join(root, 'bench', 'worker', 'noop-worker.mjs')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: cluster.redisUrl,
      BULLMQ_PREFIX: prefix,
      COUNT: String(COUNT),
      CONCURRENCY: String(CONCURRENCY),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let redisBefore: Map<number, number> | undefined;
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => {
    const text = d.toString('utf8');
    if (text.includes('noop worker ready')) redisBefore = cpuSeconds([redisProcess]);
    else process.stderr.write(text);
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), 600_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  const redisCpu = redisBefore ? cpuDelta(redisBefore, cpuSeconds([redisProcess])) : NaN;
  const line = out.trim().split('\n').at(-1) ?? '';
  const result = JSON.parse(line || '{}') as {
    completed?: number;
    failed?: number;
    first?: number;
    last?: number;
    cpuSeconds?: number;
  };
  if (code !== 0 || result.completed !== COUNT) {
    throw new Error(
      `the no-op worker exited with ${code} after ${result.completed ?? 0} completions (${result.failed ?? 0} failed)`,
    );
  }
  return rate(COUNT, result.first!, result.last!, { consumer: result.cpuSeconds ?? NaN, postgres: 0, redis: redisCpu });
}

async function runWorker(
  cluster: Cluster,
  redis: Redis,
  round: number,
): Promise<Measured & { statuses: Record<string, number>; perTransaction: number }> {
  const redisProcess = await redisPid(redis);
  const db = cluster.database.db;
  const since = (await sql<{ t: Date }>`SELECT clock_timestamp() AS t`.execute(db)).rows[0]!.t;
  const profile = args.cpuprof
    ? ['--cpu-prof', `--cpu-prof-dir=${args.cpuprof}`, `--cpu-prof-name=worker-round${round}.cpuprofile`]
    : [];
  const workers = await Promise.all(
    Array.from({ length: PROCESSES }, () =>
      cluster.startWorker({ WORKER_CONCURRENCY_WEBHOOKS: String(CONCURRENCY), ...WORKER_ENV }, profile),
    ),
  );
  const workerPids = workers.map((w) => w.child.pid ?? 0);
  const before = {
    worker: cpuSeconds(workerPids),
    postgres: cpuSeconds(await postgresPids(cluster)),
    redis: cpuSeconds([redisProcess]),
  };
  // Deliveries were received (by the ingress) before `since`; they are counted by when they
  // were processed.
  const statuses = await until(
    async () => {
      for (const worker of workers) {
        if (worker.child.exitCode !== null) throw new Error(`a worker exited with ${worker.child.exitCode}`);
      }
      const rows = await db
        .selectFrom('webhook_events')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('workspace_id', '=', cluster.workspaceId)
        .where('processed_at', '>=', since)
        .groupBy('status')
        .execute();
      const byStatus = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      const finished = Object.values(byStatus).reduce((n, x) => n + x, 0);
      return finished >= COUNT ? byStatus : undefined;
    },
    {
      timeoutMs: Math.max(120_000, COUNT * 20),
      intervalMs: 200,
      message: `${COUNT} webhook_events rows to be processed`,
    },
  );
  const cpu = {
    consumer: cpuDelta(before.worker, cpuSeconds(workerPids)),
    postgres: cpuDelta(before.postgres, cpuSeconds(await postgresPids(cluster))),
    redis: cpuDelta(before.redis, cpuSeconds([redisProcess])),
  };
  const span = await db
    .selectFrom('webhook_events')
    .select([
      (eb) => eb.fn.min('processed_at').as('first'),
      (eb) => eb.fn.max('processed_at').as('last'),
      // now() is the transaction's start: rows committed together share their processed_at.
      sql<number>`count(DISTINCT processed_at)`.as('transactions'),
    ])
    .where('workspace_id', '=', cluster.workspaceId)
    .where('processed_at', '>=', since)
    .where('status', '=', 'done')
    .executeTakeFirstOrThrow();
  for (const worker of workers) {
    const code = await stopProcess(worker);
    if (code !== 0) log(`  WARNING: a worker exited with ${code} after SIGTERM`);
  }
  if ((statuses.done ?? 0) !== COUNT) {
    throw new Error(`only ${statuses.done ?? 0} of ${COUNT} deliveries reached done: ${JSON.stringify(statuses)}`);
  }
  const first = new Date(span.first as unknown as Date).getTime();
  const last = new Date(span.last as unknown as Date).getTime();
  return { ...rate(COUNT, first, last, cpu), statuses, perTransaction: COUNT / Number(span.transactions) };
}

async function main(): Promise<void> {
  const build = ensureBuilt(args);
  log(
    `\nbench:worker — ${COUNT} webhooks per round, ${ROUNDS} rounds, ${PROCESSES} worker process(es) at concurrency ${CONCURRENCY}, ${machine().cpus} cores, Node ${process.version}`,
  );
  const cluster = await startCluster({
    label: 'worker',
    sim: { sizes: SIZES },
    // The queue grows to COUNT on purpose; shedding would refuse the prefill.
    ingressEnv: { INGRESS_MAX_QUEUE_DEPTH: '0' },
    ...(args['worker-entry'] ? { workerEntry: resolve(args['worker-entry']) } : {}),
  });
  const redis = new Redis(cluster.redisUrl, { maxRetriesPerRequest: null });
  const release = cleanUpOnSignal(async () => {
    redis.disconnect();
    await cluster.close();
  });
  const rounds: {
    round: number;
    prefillSeconds: number;
    resent: number;
    redisBytesPerQueuedWebhook: number;
    baseline: Measured;
    worker: Measured & { statuses: Record<string, number>; perTransaction: number };
    ratio: number;
  }[] = [];
  try {
    // A worker for the lifecycle queue only applies INSTALLED, then goes: the measured process
    // starts with the workspace installed and its per-event webhook tokens stored.
    const setup = await cluster.startWorker({ WORKER_QUEUES: 'lifecycle', AUTO_BOOTSTRAP: 'false' });
    await cluster.install();
    await stopProcess(setup);

    for (let round = 1; round <= ROUNDS; round++) {
      const memoryBefore = await usedMemory(redis);
      const { seconds: prefillSeconds, resent } = await prefill(cluster);
      const queued = await queuedWebhooks(redis, cluster.prefix);
      if (queued !== COUNT) throw new Error(`${queued} webhook jobs are waiting, expected ${COUNT}`);
      // What a queued webhook costs Redis: its job (body included) and its dedupe gates.
      const bytesPerQueued = (await usedMemory(redis)) - memoryBefore;
      if (resent.length > 0)
        log(`  (${resent.length} deliveries sent again after: ${[...new Set(resent)].join('; ')})`);
      const basePrefix = `${cluster.prefix}-noop${round}`;
      const copied = await copyQueue(redis, cluster.prefix, basePrefix);
      if (copied !== COUNT) throw new Error(`copied ${copied} jobs, expected ${COUNT}`);
      log(
        `round ${round}: ${COUNT} webhooks queued through the ingress in ${prefillSeconds.toFixed(1)} s (Redis memory ${(bytesPerQueued / COUNT).toFixed(0)} bytes each) and copied for the baseline`,
      );
      // Alternate which goes first, so drift on a shared machine hits both alike.
      let baseline: Measured;
      let worker: Measured & { statuses: Record<string, number>; perTransaction: number };
      if (round % 2 === 1) {
        baseline = await runBaseline(cluster, redis, basePrefix);
        worker = await runWorker(cluster, redis, round);
      } else {
        worker = await runWorker(cluster, redis, round);
        baseline = await runBaseline(cluster, redis, basePrefix);
      }
      const ratio = worker.perSecond / baseline.perSecond;
      const cpu = (m: Measured) =>
        `CPU ms/job: consumer ${m.cpuMsPerJob.consumer.toFixed(3)}, postgres ${m.cpuMsPerJob.postgres.toFixed(3)}, redis ${m.cpuMsPerJob.redis.toFixed(3)}`;
      log(
        `  no-op BullMQ ${baseline.perSecond.toFixed(0).padStart(6)} jobs/s (${baseline.seconds.toFixed(2)} s; ${cpu(baseline)})`,
      );
      log(
        `  worker       ${worker.perSecond.toFixed(0).padStart(6)} webhooks/s done (${worker.seconds.toFixed(2)} s; ${cpu(worker)}; ${worker.perTransaction.toFixed(1)} per transaction)  ratio ${ratio.toFixed(2)}`,
      );
      rounds.push({
        round,
        prefillSeconds,
        resent: resent.length,
        redisBytesPerQueuedWebhook: Math.round(bytesPerQueued / COUNT),
        baseline,
        worker,
        ratio,
      });
    }
    const mirrored = await cluster.database.db
      .selectFrom('workspace_entities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', cluster.workspaceId)
      .executeTakeFirstOrThrow();
    const summary = {
      baselinePerSecond: median(rounds.map((r) => r.baseline.perSecond)),
      workerPerSecond: median(rounds.map((r) => r.worker.perSecond)),
      ratio: median(rounds.map((r) => r.ratio)),
      redisBytesPerQueuedWebhook: median(rounds.map((r) => r.redisBytesPerQueuedWebhook)),
    };
    const meets = summary.ratio >= TARGET_RATIO;
    log('\nsummary (median of rounds)');
    log(`  no-op BullMQ worker : ${summary.baselinePerSecond.toFixed(0)} jobs/s`);
    log(
      `  Redis per queued webhook: ${summary.redisBytesPerQueuedWebhook.toFixed(0)} bytes (job with its body, and its gates)`,
    );
    log(
      `  worker process      : ${summary.workerPerSecond.toFixed(0)} webhooks/s fully processed (done in Postgres, handler included)`,
    );
    log(
      `  ratio               : ${summary.ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}) ${meets ? 'meets the target' : 'MISSES the target'}`,
    );
    log(
      `  rounds              : ${rounds.map((r) => r.ratio.toFixed(2)).join(', ')}; ${Number(mirrored.n)} entities mirrored`,
    );
    const result = {
      benchmark: 'worker',
      at: new Date().toISOString(),
      machine: machine(),
      settings: {
        count: COUNT,
        rounds: ROUNDS,
        concurrency: CONCURRENCY,
        processes: PROCESSES,
        workerEnv: WORKER_ENV,
        sizes: SIZES,
        job: JOBS.webhookProcess,
      },
      ...(build.warning ? { warning: build.warning } : {}),
      summary: { ...summary, target: TARGET_RATIO, meets },
      rounds,
      entitiesMirrored: Number(mirrored.n),
    };
    log(`  results             : ${writeResults('worker', result)}`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    release();
    redis.disconnect();
    await cluster.close();
  }
}

await main();
