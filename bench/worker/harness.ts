// Shared by bench/worker and bench/bootstrap: the built processes (ingress, workers), a simulator
// in this process, a throwaway database and Redis prefix, and the results file. Not a test helper:
// it runs real processes from dist, as an operator would, against the local Redis and Postgres.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type DatabaseHandle } from '@cap/db';
import { createSimulator, type Simulator, type SimulatorOptions } from '@cap/simulator';
import {
  createTestDatabase,
  deleteRedisPrefix,
  freePort,
  testRedisUrl,
  uniquePrefix,
  type AppProcess,
  type TestDatabase,
} from '@cap/testing';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type Args = Readonly<Record<string, string>>;

/** `--key=value` and `--flag` (→ "true"); `--no-flag` → flag=false. */
export function parseArgs(argv: readonly string[]): Args {
  const out: Record<string, string> = {};
  for (const a of argv) {
    const m = /^--(no-)?([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${a} (use --key=value)`);
    out[m[2]!] = m[1] ? 'false' : (m[3] ?? 'true');
  }
  return out;
}

export function numberArg(args: Args, name: string, fallback: number): number {
  const raw = args[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
}

/** Progress and the summary go to stderr; stdout carries only the JSON result. */
export function log(line = ''): void {
  process.stderr.write(`${line}\n`);
}

export function distEntry(app: 'ingress' | 'worker'): string {
  return join(root, 'apps', app, 'dist', 'main.js');
}

/**
 * Builds the apps (turbo; a no-op when nothing changed) unless `--no-build` and the dist exists.
 * A failed build with a complete dist is reported and the existing dist is measured: other
 * people's work in progress must not stop a benchmark of code that did build.
 */
export function ensureBuilt(args: Args): { built: boolean; warning?: string } {
  const missing = (['ingress', 'worker'] as const).filter((a) => !existsSync(distEntry(a)));
  if (args.build === 'false' && missing.length === 0) return { built: false };
  log(`building (turbo${missing.length ? `; missing: ${missing.join(', ')}` : ''}) ...`);
  try {
    execFileSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return { built: true };
  } catch (err) {
    const still = (['ingress', 'worker'] as const).filter((a) => !existsSync(distEntry(a)));
    if (still.length > 0) throw new Error(`the build failed and ${still.join(', ')} has no dist`, { cause: err });
    const warning = 'the build failed; measuring the existing dist (it may be stale)';
    log(`WARNING: ${warning}`);
    return { built: false, warning };
  }
}

export function machine(): Record<string, unknown> {
  const list = cpus();
  return {
    node: process.version,
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    platform: process.platform,
  };
}

const CLOCK_TICKS = 100;

/**
 * CPU seconds (user + system, all threads) each pid has used so far, from /proc (Linux only;
 * elsewhere, or for a pid that is gone, nothing).
 */
export function cpuSeconds(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    } catch {
      // exited, or no /proc
    }
  }
  return out;
}

/** CPU seconds used between two {@link cpuSeconds} readings (a pid new in `after` counts from 0). */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, t] of after) total += t - (before.get(pid) ?? 0);
  return total;
}

/** Writes `bench/results/<name>-<timestamp>.json` (gitignored) and returns its path. */
export function writeResults(name: string, data: unknown): string {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

export const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Runs a built entry point with the given environment only (like the tests' startAppProcess),
 * plus node flags (`--cpu-prof` is refused in NODE_OPTIONS on Node 20). Output lines are kept.
 */
export function startProcess(
  script: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): AppProcess {
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) output.push(line);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143))),
  );
  const self: AppProcess = {
    child,
    output,
    exited,
    async waitForLine(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = output.find((l) => pattern.test(l));
        if (line) return line;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `the process exited with ${child.exitCode ?? child.signalCode}:\n${output.slice(-20).join('\n')}`,
          );
        }
        if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async logField<T>(msg: RegExp, field: string, timeoutMs = 30_000): Promise<T> {
      const line = await self.waitForLine(new RegExp(`"msg":"${msg.source}`), timeoutMs);
      return (JSON.parse(line) as Record<string, T>)[field] as T;
    },
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  return self;
}

/**
 * Polls `check` until it returns a truthy value or the deadline passes. Unlike the tests'
 * waitFor, an error thrown by `check` (a process died) ends the wait at once.
 */
export async function until<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs: number; intervalMs?: number; message: string },
): Promise<NonNullable<T>> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.message}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** Stops a process: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(p: AppProcess | undefined, graceMs = 15_000): Promise<number | undefined> {
  if (!p) return undefined;
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `cleanup` once on SIGINT/SIGTERM, then exits: an interrupted run leaves no keys or database. */
export function cleanUpOnSignal(cleanup: () => Promise<void>): () => void {
  const handler = (signal: NodeJS.Signals) => {
    log(`\n${signal}: cleaning up ...`);
    cleanup()
      .catch((err: unknown) => log(`cleanup failed: ${String(err)}`))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

export interface ClusterOptions {
  readonly label: string;
  readonly sim?: Omit<SimulatorOptions, 'dataDir'>;
  readonly ingressEnv?: Record<string, string>;
  /** Another build of the worker to measure (an A/B comparison); default apps/worker/dist/main.js. */
  readonly workerEntry?: string;
}

/**
 * The simulator (in this process), the built ingress (a process of its own), a fresh database
 * (migrated by the ingress at start) and a BullMQ prefix of its own. Worker processes are started
 * by the benchmarks with {@link Cluster.startWorker}.
 */
export interface Cluster {
  readonly sim: Simulator;
  readonly ingress: AppProcess;
  readonly ingressUrl: string;
  readonly testDb: TestDatabase;
  readonly database: DatabaseHandle;
  readonly prefix: string;
  readonly redisUrl: string;
  readonly workspaceId: string;
  /** Environment of a worker process as an operator would run it (production, info logs). */
  workerEnv(extra?: Record<string, string>): Record<string, string>;
  /** Starts `apps/worker/dist/main.js` (with node flags) and waits for its "worker ready" line. */
  startWorker(extra?: Record<string, string>, nodeArgs?: readonly string[]): Promise<AppProcess>;
  /** Sends INSTALLED through the ingress; waits until a worker has applied it (ACTIVE in Postgres). */
  install(timeoutMs?: number): Promise<{ addonId: string }>;
  close(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const redisUrl = testRedisUrl();
  const prefix = uniquePrefix(`bench${opts.label}`);
  const encryptionKey = randomBytes(32).toString('base64');
  const dataDir = mkdtempSync(join(tmpdir(), `cap-bench-${opts.label}-`));
  const workers: AppProcess[] = [];
  let testDb: TestDatabase | undefined;
  let sim: Simulator | undefined;
  let ingress: AppProcess | undefined;
  let database: DatabaseHandle | undefined;
  const cleanup = async () => {
    await Promise.all(workers.map((w) => stopProcess(w)));
    await stopProcess(ingress);
    await sim?.close().catch(() => undefined);
    await database?.close().catch(() => undefined);
    await deleteRedisPrefix(redisUrl, prefix).catch((err: unknown) =>
      log(`could not delete Redis keys: ${String(err)}`),
    );
    await testDb?.drop().catch((err: unknown) => log(`could not drop ${testDb?.name}: ${String(err)}`));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    testDb = await createTestDatabase(`bench${opts.label}`);
    sim = await createSimulator({ dataDir, seed: `bench-${opts.label}`, workspaces: 1, ...opts.sim });
    const port = await freePort();
    const ingressUrl = `http://127.0.0.1:${port}`;
    ingress = startProcess(distEntry('ingress'), {
      NODE_ENV: 'production',
      PORT: String(port),
      INGRESS_OPS_PORT: '0',
      BASE_URL: ingressUrl,
      REDIS_URL: redisUrl,
      DATABASE_URL: testDb.url,
      BULLMQ_PREFIX: prefix,
      TOKEN_ENCRYPTION_KEY: encryptionKey,
      CLOCKIFY_PUBLIC_KEY_FILE: sim.publicKeyPath,
      LOG_LEVEL: 'warn',
      ...opts.ingressEnv,
    });
    // The ingress logs its ready line at info; at warn the answer of /health tells instead.
    await until(
      async () => {
        if (ingress!.child.exitCode !== null) {
          throw new Error(
            `the ingress exited with ${ingress!.child.exitCode}:\n${ingress!.output.slice(-20).join('\n')}`,
          );
        }
        const res = await fetch(`${ingressUrl}/ready`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs: 60_000, intervalMs: 100, message: 'the ingress to be ready' },
    );
    database = await openDatabase({ url: testDb.url, dataDir, poolMax: 2, applicationName: 'bench' });
    const workspaceId = sim.store.workspaceIds()[0]!;
    const cluster: Cluster = {
      sim,
      ingress,
      ingressUrl,
      testDb,
      database,
      prefix,
      redisUrl,
      workspaceId,
      workerEnv(extra = {}) {
        return {
          NODE_ENV: 'production',
          LOG_LEVEL: 'info',
          WORKER_PORT: '0',
          REDIS_URL: redisUrl,
          DATABASE_URL: testDb!.url,
          BULLMQ_PREFIX: prefix,
          TOKEN_ENCRYPTION_KEY: encryptionKey,
          // The mock API listens on loopback; http is allowed only there.
          CLOCKIFY_API_ALLOWED_HOSTS: '127.0.0.1',
          // Schedulers would only add noise to a measurement of minutes.
          RETENTION_CRON: 'off',
          RECONCILE_CRON: 'off',
          WEBHOOK_HEALTH_CRON: 'off',
          DEAD_LETTER_SWEEP_CRON: 'off',
          ...extra,
        };
      },
      async startWorker(extra = {}, nodeArgs = []) {
        const p = startProcess(opts.workerEntry ?? distEntry('worker'), cluster.workerEnv(extra), nodeArgs);
        workers.push(p);
        await p.waitForLine(/"msg":"worker ready"/, 60_000);
        return p;
      },
      async install(timeoutMs = 30_000) {
        const res = await sim!.install({ ingressUrl, workspaceId });
        if (res.status !== 200) throw new Error(`INSTALLED was answered ${res.status}`);
        const addonId = sim!.installation({ workspaceId }).addonId;
        await until(
          async () => {
            const row = await database!.db
              .selectFrom('installations')
              .select('status')
              .where('workspace_id', '=', workspaceId)
              .where('addon_id', '=', addonId)
              .executeTakeFirst();
            return row?.status === 'ACTIVE';
          },
          { timeoutMs, intervalMs: 50, message: 'the installation to be applied' },
        );
        return { addonId };
      },
      close: cleanup,
    };
    return cluster;
  } catch (err) {
    await cleanup();
    throw err;
  }
}
