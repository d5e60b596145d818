// Soak: many webhooks through the built ingress and two worker processes, with the memory of
// every process and of Redis sampled each second. Not part of CI: `npm run bench:soak`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUES } from '@cap/queue';
import {
  cleanUpOnSignal,
  ensureBuilt,
  log,
  machine,
  numberArg,
  parseArgs,
  startCluster,
  until,
  writeResults,
} from '../worker/harness.js';

interface Sample {
  readonly t: number;
  /** Sent so far (after the burst ends: all). */
  readonly sent: number;
  readonly rssMb: Record<string, number>;
  readonly redisMb: number;
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function redisUsedMb(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0) / 1048576;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const count = numberArg(args, 'count', 100_000);
  const rate = numberArg(args, 'rate', 2000);
  const windowSeconds = numberArg(args, 'window', 60);
  const build = ensureBuilt(args);
  log(`bench:soak — ${count} webhooks at ${rate}/s through 1 ingress and 2 workers, ${process.version}`);
  const cluster = await startCluster({
    label: 'soak',
    sim: { sizes: { users: 40, projects: 60, tasksPerProject: 3, tags: 40, clients: 20, entries: 2000 } },
    // Gates expire after the window: Redis can only come back to its baseline once they have.
    ingressEnv: { WEBHOOK_DEDUPE_WINDOW_SECONDS: String(windowSeconds), INGRESS_MAX_QUEUE_DEPTH: '0' },
  });
  const stop = cleanUpOnSignal(() => cluster.close());
  const redis = new Redis(cluster.redisUrl);
  try {
    const env = { AUTO_BOOTSTRAP: 'false' };
    const workers = [await cluster.startWorker(env), await cluster.startWorker(env)];
    await cluster.install();
    const processes: Record<string, number | undefined> = {
      ingress: cluster.ingress.child.pid,
      worker1: workers[0]!.child.pid,
      worker2: workers[1]!.child.pid,
    };
    const baselineRedisMb = await redisUsedMb(redis);
    const samples: Sample[] = [];
    const started = Date.now();
    let sent = 0;
    const sample = async () => {
      const rss = Object.fromEntries(Object.entries(processes).map(([k, pid]) => [k, rssMb(pid)]));
      samples.push({ t: (Date.now() - started) / 1000, sent, rssMb: rss, redisMb: await redisUsedMb(redis) });
    };
    // Sampled by a process of its own: building and sending the burst keeps this event loop busy.
    const sampler = spawn(
      process.execPath,
      [
        join(import.meta.dirname, 'sampler.mjs'),
        cluster.redisUrl,
        ...Object.entries(processes).map(([k, pid]) => `${k}=${pid}`),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const raw: { t: number; rssMb: Record<string, number>; redisMb: number }[] = [];
    createInterface({ input: sampler.stdout }).on('line', (line) => {
      const s = JSON.parse(line) as { at: number; rssMb: Record<string, number>; redisMb: number };
      raw.push({ t: (s.at - started) / 1000, rssMb: s.rssMb, redisMb: s.redisMb });
    });

    // The simulator builds every body before it sends the first (minutes for 100 000), then paces
    // the sending at `rate`: what was sent at a sample's time follows from when the sending began.
    const burst = await cluster.sim.burst({ count, rate, duplicates: 0, mutate: false, keepDeliveries: false });
    const sendingEnded = (Date.now() - started) / 1000;
    const sendingBegan = sendingEnded - burst.durationMs / 1000;
    const sentAt = (t: number) =>
      Math.max(0, Math.min(count, Math.round(((t - sendingBegan) / (sendingEnded - sendingBegan)) * count)));
    const collect = () => {
      for (const r of raw.splice(0)) samples.push({ ...r, sent: sentAt(r.t) });
    };
    sent = count;
    log(`the simulator began sending ${sendingBegan.toFixed(0)} s after the start (it builds every body first)`);
    log(`sent ${burst.sent} in ${(burst.durationMs / 1000).toFixed(1)} s (${Math.round(burst.achievedRate)}/s)`);
    const queue = `${cluster.prefix}:webhooks`;
    await until(
      async () => {
        const counts = await Promise.all([
          redis.llen(`${queue}:wait`),
          redis.zcard(`${queue}:prioritized`),
          redis.llen(`${queue}:active`),
          redis.zcard(`${queue}:delayed`),
        ]);
        return counts.every((n) => n === 0);
      },
      { timeoutMs: 30 * 60_000, intervalMs: 500, message: 'the webhook queue to drain' },
    );
    const drainedAt = (Date.now() - started) / 1000;
    log(`drained at ${drainedAt.toFixed(0)} s; waiting for the dedupe gates to expire (${windowSeconds} s)`);
    await new Promise((r) => setTimeout(r, (windowSeconds + 5) * 1000));
    sampler.kill('SIGTERM');
    collect();
    await sample();
    // BullMQ keeps the last 5 000 completed webhook jobs for an hour (Bull Board): remove them as
    // that hour would, so what stays in Redis beyond them can be seen.
    const webhooks = new Queue(QUEUES.webhooks, { connection: redis, prefix: cluster.prefix });
    const kept = (await webhooks.clean(0, 100_000, 'completed')).length;
    await webhooks.close();
    const afterRetentionMb = await redisUsedMb(redis);

    // Warm-up: the first fifth of the burst. Growth: from then to the end.
    const warm = samples.find((s) => s.sent >= count / 5) ?? samples[0]!;
    const last = samples.at(-1)!;
    const growth = Object.fromEntries(
      Object.keys(processes).map((k) => [k, (last.rssMb[k]! - warm.rssMb[k]!) / warm.rssMb[k]!]),
    );
    const peak = Object.fromEntries(
      Object.keys(processes).map((k) => [k, Math.max(...samples.map((s) => s.rssMb[k]!))]),
    );
    const done = await cluster.database.db
      .selectFrom('webhook_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'done')
      .executeTakeFirstOrThrow();
    log('');
    log('summary');
    for (const k of Object.keys(processes)) {
      log(
        `  ${k.padEnd(8)} RSS after warm-up ${warm.rssMb[k]!.toFixed(0)} MB, at the end ${last.rssMb[k]!.toFixed(0)} MB ` +
          `(growth ${(growth[k]! * 100).toFixed(1)} %), peak ${peak[k]!.toFixed(0)} MB`,
      );
    }
    log(
      `  redis    baseline ${baselineRedisMb.toFixed(1)} MB, peak ${Math.max(...samples.map((s) => s.redisMb)).toFixed(1)} MB, ` +
        `after the drain and the gates' expiry ${last.redisMb.toFixed(1)} MB, ` +
        `without the ${kept} completed jobs kept for Bull Board ${afterRetentionMb.toFixed(1)} MB`,
    );
    log(
      `  processed ${Number(done.n)} of ${count} (done in Postgres), drained ${drainedAt.toFixed(0)} s after the start`,
    );
    const file = writeResults('soak', {
      benchmark: 'soak',
      at: new Date().toISOString(),
      machine: machine(),
      settings: { count, rate, windowSeconds },
      ...(build.warning ? { warning: build.warning } : {}),
      summary: {
        growth,
        peak,
        warm,
        last,
        baselineRedisMb,
        afterRetentionMb,
        keptCompleted: kept,
        processed: Number(done.n),
        drainedAtSeconds: drainedAt,
      },
      samples,
    });
    log(`  results  ${file}`);
  } finally {
    redis.disconnect();
    stop();
    await cluster.close();
  }
}

main().catch((err: unknown) => {
  log(`bench:soak failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
