import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import type { RegisteredAddon } from '@cap/addon';
import { addon as exampleAddon } from '@cap/workspace-mirror';
import { getBootstrapResources, getInstallation, listEntities, type BootstrapRun } from '@cap/db';
import { ingressEnv, startIngress, type RunningIngress } from '@cap/ingress';
import { createLogger } from '@cap/observability';
import { QUEUE_NAMES } from '@cap/queue';
import {
  createSimulator,
  diffMirror,
  expectedMirror,
  snapshotFromRows,
  type MirrorDiff,
  type Simulator,
} from '@cap/simulator';
import {
  createTestDatabase,
  deleteRedisPrefix,
  freePort,
  startAppProcess,
  testRedisUrl,
  uniquePrefix,
  waitFor,
  type AppProcess,
  type TestDatabase,
} from '@cap/testing';
import { distEntry } from '../../../test/dist.js';
import { FAST_WORKER_ENV, startTestWorker, type TestWorker } from './helpers.js';

export interface StackOptions {
  readonly sizes?: Record<string, number>;
  /** Simulated workspaces (1 unless set); `workspaceId` is the first. */
  readonly workspaces?: number;
  readonly workerEnv?: Record<string, string>;
  readonly ingressEnv?: Record<string, string>;
  readonly addon?: RegisteredAddon;
  readonly now?: () => Date;
  /** Start no worker (a test starts its own, e.g. as a child process). */
  readonly noWorker?: boolean;
  readonly rateLimit?: false;
  /** Another Redis than the shared test server (fault tests run their own). */
  readonly redisUrl?: string;
  /** BULLMQ_PREFIX (default a unique one); a Redis Cluster needs a hash tag, `{…}`. */
  readonly prefix?: string;
  /** Another Postgres URL for the worker (e.g. through a proxy a test can cut). */
  readonly workerDatabaseUrl?: string;
}

export interface Stack {
  readonly sim: Simulator;
  readonly ingress: RunningIngress;
  readonly ingressUrl: string;
  worker: TestWorker | undefined;
  readonly testDb: TestDatabase;
  readonly prefix: string;
  readonly encryptionKey: string;
  readonly workspaceId: string;
  readonly dataDir: string;
  readonly ingressLogs: string[];
  readonly redisUrl: string;
  /** The environment a worker process of this stack needs (for child processes). */
  workerProcessEnv(extra?: Record<string, string>): Record<string, string>;
  /** A worker as a real process (the built dist) with this stack's settings; killed at close. */
  spawnWorker(extra?: Record<string, string>): AppProcess;
  /** Installs the add-on into the stack's workspace (or another) and waits until the worker stored it. */
  installAndWait(options?: { pathStyle?: 'relative' | 'full'; workspaceId?: string }): Promise<{ addonId: string }>;
  startWorker(extra?: { env?: Record<string, string>; addon?: RegisteredAddon; now?: () => Date }): Promise<TestWorker>;
  /** Waits until no job is waiting, active, delayed or prioritized in any queue. */
  settle(timeoutMs?: number): Promise<void>;
  latestRun(): Promise<BootstrapRun | undefined>;
  waitForRun(statuses: readonly string[], timeoutMs?: number): Promise<BootstrapRun>;
  /** Compares the mirror with the simulator's data, using the last run's time-entry window. */
  mirrorDiff(): Promise<MirrorDiff>;
  /** Asserts the mirror equals the simulator's data (nothing missing, extra or changed). */
  expectMirrorEqual(): Promise<MirrorDiff>;
  close(): Promise<void>;
}

/**
 * Simulator (mock API + Clockify-signed calls), the real ingress and a worker in this process,
 * against the real Redis (own prefix) and a fresh Postgres database.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const testDb = await createTestDatabase('stack');
  const prefix = opts.prefix ?? uniquePrefix('stack');
  const encryptionKey = randomBytes(32).toString('base64');
  const dataDir = mkdtempSync(join(tmpdir(), 'cap-stack-'));
  const redisUrl = opts.redisUrl ?? testRedisUrl();
  const sim = await createSimulator({
    dataDir,
    seed: `stack-${prefix}`,
    workspaces: opts.workspaces ?? 1,
    ...(opts.sizes ? { sizes: opts.sizes } : {}),
    ...(opts.rateLimit === false ? { rateLimit: false } : {}),
  });
  const port = await freePort();
  const ingressLogs: string[] = [];
  const ingress = await startIngress({
    addon: opts.addon ?? exampleAddon,
    config: ingressEnv.parse({
      PORT: String(port),
      INGRESS_OPS_PORT: '0',
      BASE_URL: `http://127.0.0.1:${port}`,
      REDIS_URL: redisUrl,
      DATABASE_URL: testDb.url,
      BULLMQ_PREFIX: prefix,
      TOKEN_ENCRYPTION_KEY: encryptionKey,
      CLOCKIFY_PUBLIC_KEY_FILE: sim.publicKeyPath,
      LOG_LEVEL: 'info',
      ...opts.ingressEnv,
    }),
    logger: createLogger(
      { name: 'stack-ingress', level: 'info' },
      new Writable({
        write(chunk: Buffer, _e, cb) {
          ingressLogs.push(chunk.toString('utf8'));
          cb();
        },
      }),
    ),
  });
  const workspaceId = sim.store.workspaceIds()[0]!;
  const processes: AppProcess[] = [];

  const stack: Stack = {
    sim,
    ingress,
    ingressUrl: `http://127.0.0.1:${port}`,
    worker: undefined,
    testDb,
    prefix,
    encryptionKey,
    workspaceId,
    dataDir,
    ingressLogs,
    redisUrl,
    workerProcessEnv(extra = {}) {
      return {
        ...FAST_WORKER_ENV,
        REDIS_URL: redisUrl,
        DATABASE_URL: opts.workerDatabaseUrl ?? testDb.url,
        BULLMQ_PREFIX: prefix,
        TOKEN_ENCRYPTION_KEY: encryptionKey,
        LOG_LEVEL: 'info',
        ...opts.workerEnv,
        ...extra,
      };
    },
    spawnWorker(extra = {}) {
      const p = startAppProcess(distEntry('worker'), stack.workerProcessEnv(extra));
      processes.push(p);
      return p;
    },
    async installAndWait(options = {}) {
      const target = options.workspaceId ?? workspaceId;
      const result = await sim.install({ ingressUrl: stack.ingressUrl, ...options, workspaceId: target });
      if (result.status !== 200) throw new Error(`INSTALLED answered ${result.status}: ${JSON.stringify(result.body)}`);
      const key = { workspaceId: target, addonId: result.installation.addonId };
      await waitFor(async () => (await getInstallation(ingress.context.database.db, key))?.status === 'ACTIVE', {
        message: 'the installation stored by the worker',
      });
      return { addonId: key.addonId };
    },
    async startWorker(extra = {}) {
      const addon = extra.addon ?? opts.addon;
      const now = extra.now ?? opts.now;
      stack.worker = await startTestWorker({
        databaseUrl: opts.workerDatabaseUrl ?? testDb.url,
        prefix,
        encryptionKey,
        env: { REDIS_URL: redisUrl, ...opts.workerEnv, ...extra.env },
        ...(addon ? { addon } : {}),
        ...(now ? { now } : {}),
      });
      return stack.worker;
    },
    async settle(timeoutMs = 30_000) {
      const queues = ingress.context.queues;
      await waitFor(
        async () => {
          for (const name of QUEUE_NAMES) {
            const q = Object.values(queues).find((x) => x.name === name)!;
            const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
            if (Object.values(c).some((n) => n > 0)) return false;
          }
          return true;
        },
        { timeoutMs, intervalMs: 100, message: 'all queues to drain' },
      );
    },
    async latestRun() {
      return stack.ingress.context.database.db
        .selectFrom('bootstrap_runs')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
    },
    async waitForRun(statuses, timeoutMs = 60_000) {
      try {
        return await waitFor(
          async () => {
            const run = await stack.latestRun();
            return run && statuses.includes(run.status) ? run : undefined;
          },
          { timeoutMs, intervalMs: 100, message: `a bootstrap run in ${statuses.join('/')}` },
        );
      } catch (err) {
        // Say where the run is instead: none at all (the install never arrived) or in which state.
        const run = await stack.latestRun();
        const resources = run ? await getBootstrapResources(ingress.context.database.db, run.id) : [];
        throw new Error(
          `${(err as Error).message}; latest run: ${run ? `${run.status} (${resources.map((r) => `${r.resource} ${r.status}`).join(', ')})` : 'none'}`,
        );
      }
    },
    async mirrorDiff() {
      const db = stack.ingress.context.database.db;
      const run = await stack.latestRun();
      if (!run) throw new Error('no bootstrap run yet');
      const te = (await getBootstrapResources(db, run.id)).find((r) => r.resource === 'time-entries');
      const window = (te?.cursor as { window?: { start: string; end: string } } | null)?.window;
      if (!window) throw new Error('the time-entries resource has no window yet');
      const bounds = { start: new Date(window.start), end: new Date(window.end) };
      const expected = expectedMirror(sim.store, workspaceId, bounds);
      const actual = snapshotFromRows(
        await listEntities(db, workspaceId, undefined, { includeDeleted: true }),
        Object.keys(expected),
        bounds,
      );
      return diffMirror(expected, actual);
    },
    async expectMirrorEqual() {
      const diff = await stack.mirrorDiff();
      expect({ missing: diff.missing, extra: diff.extra, changed: diff.changed }).toEqual({
        missing: [],
        extra: [],
        changed: [],
      });
      return diff;
    },
    async close() {
      for (const p of processes) p.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      await stack.worker?.close();
      await ingress.shutdown.shutdown();
      await sim.close();
      await deleteRedisPrefix(redisUrl, prefix).catch(() => undefined);
      await testDb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (!opts.noWorker) await stack.startWorker();
  return stack;
}
