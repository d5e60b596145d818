// The baseline of `npm run bench:worker`: a bare BullMQ Worker whose processor does nothing,
// on the same queue name, with the platform's worker connection options, the same lock and stall
// settings and the same concurrency as the worker process. It drains a prefilled queue, then
// prints {completed, first, last, cpuSeconds} (epoch ms of the first and last completion, CPU
// used since it was ready) on stdout and exits.
import { performance } from 'node:perf_hooks';
import { Worker } from 'bullmq';
import { QUEUES, createWorkerConnection } from '@cap/queue';

const env = process.env;
const count = Number(env.COUNT);
const concurrency = Number(env.CONCURRENCY);
if (!env.REDIS_URL || !env.BULLMQ_PREFIX || !(count > 0) || !(concurrency > 0)) {
  process.stderr.write('noop-worker needs REDIS_URL, BULLMQ_PREFIX, COUNT and CONCURRENCY\n');
  process.exit(2);
}

const connection = createWorkerConnection({ url: env.REDIS_URL, name: 'bench-noop-worker' });
const worker = new Worker(QUEUES.webhooks, async () => undefined, {
  connection,
  prefix: env.BULLMQ_PREFIX,
  concurrency,
  lockDuration: 30_000,
  stalledInterval: 30_000,
  maxStalledCount: 2,
  autorun: false,
});

let completed = 0;
let failed = 0;
let first;
let last;
let cpuAtReady;
const now = () => performance.timeOrigin + performance.now();

async function finish(code) {
  await worker.close();
  await connection.quit().catch(() => connection.disconnect());
  const cpu = process.cpuUsage(cpuAtReady);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(`${JSON.stringify({ completed, failed, first, last, cpuSeconds })}\n`);
  process.exit(code);
}

worker.on('completed', () => {
  const t = now();
  first ??= t;
  last = t;
  if (++completed + failed === count) void finish(0);
});
worker.on('failed', () => {
  if (completed + ++failed === count) void finish(1);
});
worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));
process.on('SIGTERM', () => void finish(1));

await worker.waitUntilReady();
cpuAtReady = process.cpuUsage();
process.stderr.write('noop worker ready\n');
void worker.run();
