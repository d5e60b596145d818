// The soak's memory sampler: every second, the RSS of each process given as name=pid and Redis's
// used_memory, one JSON line on stdout. A process of its own, so that the load generator keeping
// the benchmark's event loop busy cannot delay or skip samples.
import { readFileSync } from 'node:fs';
import { setInterval } from 'node:timers';
import { Redis } from 'ioredis';

const [redisUrl, ...pairs] = process.argv.slice(2);
const processes = pairs.map((p) => p.split('='));
const redis = new Redis(redisUrl);

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

setInterval(async () => {
  const at = Date.now();
  const rss = Object.fromEntries(processes.map(([name, pid]) => [name, rssMb(pid)]));
  const info = await redis.info('memory').catch(() => '');
  const redisMb = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0) / 1048576;
  process.stdout.write(`${JSON.stringify({ at, rssMb: rss, redisMb })}\n`);
}, 1000);
process.on('SIGTERM', () => {
  redis.disconnect();
  process.exit(0);
});
