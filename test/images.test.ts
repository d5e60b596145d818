import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTAINER_IMAGE_MARKER, repoRoot } from '@cap/config';
import { openDatabase, type DatabaseHandle } from '@cap/db';
import { createSimulator, type Simulator } from '@cap/simulator';
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

/**
 * The app images as their Dockerfiles make them, outside Docker (this CI has no engine): the
 * Dockerfiles' own steps (infra/docker/image.mjs, `npm ci`, `turbo run build`; test/infra.test.ts
 * checks the Dockerfiles run these) produce each app's runtime tree, and the apps then run from
 * that tree alone, in production mode as the images' marker file makes them.
 *
 * The worker's tree is built in its pruned slice of the repository, as the build stage does; the
 * ingress's and the simulator's take the repository's build (their slices are subsets of the
 * worker's, which builds every workspace).
 */
const ROOT = repoRoot();
type App = 'ingress' | 'worker' | 'simulator';

let work: string;
const trees = {} as Record<App, string>;

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', npm_config_update_notifier: 'false' },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${r.stdout}\n${r.stderr}`);
}

const npmCi = (cwd: string, ...flags: string[]) =>
  run('npm', ['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', ...flags], cwd);

/** The runtime image's /app for one app: prune, production install, the built workspaces. */
function runtimeTree(app: App, buildInSlice: boolean): string {
  const pruned = join(work, `${app}-pruned`);
  run(process.execPath, [join(ROOT, 'infra/docker/image.mjs'), 'prune', app, pruned], ROOT);
  let built = ROOT;
  if (buildInSlice) {
    // The deps and build stages.
    built = join(work, `${app}-build`);
    cpSync(join(pruned, 'json'), built, { recursive: true });
    npmCi(built);
    cpSync(join(pruned, 'full'), built, { recursive: true });
    run(join(built, 'node_modules/.bin/turbo'), ['run', 'build', '--output-logs=errors-only'], built);
  }
  const out = join(work, `${app}-out`);
  run(process.execPath, [join(ROOT, 'infra/docker/image.mjs'), 'collect', app, out], built);
  // The prod-deps stage, then the runtime stage's copies and marker.
  const tree = join(work, app);
  cpSync(join(pruned, 'prod'), tree, { recursive: true });
  npmCi(tree, '--omit=dev', '--legacy-peer-deps');
  cpSync(out, tree, { recursive: true });
  writeFileSync(join(tree, CONTAINER_IMAGE_MARKER), '');
  return tree;
}

/** The path the app's Dockerfile HEALTHCHECK fetches. */
function healthPath(app: App): string {
  const text = readFileSync(join(ROOT, 'infra/docker', `${app}.Dockerfile`), 'utf8');
  const path = /^HEALTHCHECK[^\n]*\n?.*?fetch\('http:\/\/127\.0\.0\.1:[^/]*(\/[\w/]+)'/ms.exec(text)?.[1];
  if (!path) throw new Error(`no HEALTHCHECK fetch in ${app}.Dockerfile`);
  return path;
}

async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
  return res?.status === 200;
}

/** Every package name installed anywhere in a tree (nested node_modules included). */
function installed(tree: string): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string, depth: number) => {
    if (depth > 12 || !existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
      const path = join(dir, entry.name);
      if (entry.name === 'node_modules') {
        for (const pkg of readdirSync(path, { withFileTypes: true })) {
          if (pkg.name.startsWith('.')) continue;
          const scoped = pkg.name.startsWith('@')
            ? readdirSync(join(path, pkg.name)).map((n) => `${pkg.name}/${n}`)
            : [pkg.name];
          for (const name of scoped) {
            names.add(name);
            if (!name.startsWith('@cap/')) walk(join(path, name), depth + 1);
          }
        }
      } else if (!entry.isSymbolicLink() && depth < 3) {
        walk(path, depth + 1); // workspace folders' own node_modules
      }
    }
  };
  walk(tree, 0);
  return names;
}

const BUILD_AND_TEST_TOOLS = [
  '@electric-sql/pglite',
  'pino-pretty',
  '@cap/testing',
  'typescript',
  'turbo',
  'tsx',
  'vitest',
  'eslint',
  'prettier',
  'playwright-core',
  'autocannon',
  'testcontainers',
  'openapi-typescript',
];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cap-images-'));
  trees.worker = runtimeTree('worker', true);
  trees.ingress = runtimeTree('ingress', false);
  trees.simulator = runtimeTree('simulator', false);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('runtime trees', () => {
  it('hold the production dependencies of the workspaces their app runs, and no build or test tool', () => {
    const worker = installed(trees.worker);
    const ingress = installed(trees.ingress);
    const simulator = installed(trees.simulator);
    for (const [app, names] of [
      ['worker', worker],
      ['ingress', ingress],
      ['simulator', simulator],
    ] as const) {
      for (const tool of BUILD_AND_TEST_TOOLS) expect(names.has(tool), `${app} has ${tool}`).toBe(false);
      expect(names.has(`@cap/${app}`), app).toBe(true);
    }
    // The worker tests against the ingress and the simulator; it does not run them.
    for (const absent of ['@cap/ingress', '@cap/simulator', 'express', '@bull-board/api', 'helmet']) {
      expect(worker.has(absent), `worker has ${absent}`).toBe(false);
    }
    for (const present of ['bullmq', 'pg', 'kysely', 'cli-progress', '@cap/workspace-mirror']) {
      expect(worker.has(present), `worker lacks ${present}`).toBe(true);
    }
    for (const absent of ['@cap/worker', '@cap/simulator', 'cli-progress']) {
      expect(ingress.has(absent), `ingress has ${absent}`).toBe(false);
    }
    for (const present of ['express', '@bull-board/api', 'bullmq', 'pg']) {
      expect(ingress.has(present), `ingress lacks ${present}`).toBe(true);
    }
    for (const absent of ['bullmq', 'pg', 'kysely', '@cap/db', '@cap/queue', 'express']) {
      expect(simulator.has(absent), `simulator has ${absent}`).toBe(false);
    }
  });
});

describe('the apps, run from their runtime trees alone', () => {
  let testDb: TestDatabase;
  let sim: Simulator;
  let db: DatabaseHandle;
  let dataDir: string;
  const processes: AppProcess[] = [];
  const prefix = uniquePrefix('images');
  const encryptionKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    testDb = await createTestDatabase('images');
    dataDir = mkdtempSync(join(tmpdir(), 'cap-images-data-'));
    sim = await createSimulator({
      dataDir,
      seed: 'images',
      workspaces: 1,
      sizes: { users: 2, projects: 3, tasksPerProject: 1, tags: 2, clients: 1, entries: 10 },
    });
  }, 60_000);

  afterAll(async () => {
    for (const p of processes) p.kill('SIGTERM');
    await Promise.all(processes.map((p) => p.exited));
    await db?.close();
    await sim?.close();
    await deleteRedisPrefix(testRedisUrl(), prefix);
    await testDb?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}) => ({
    REDIS_URL: testRedisUrl(),
    DATABASE_URL: testDb.url,
    BULLMQ_PREFIX: prefix,
    TOKEN_ENCRYPTION_KEY: encryptionKey,
    CLOCKIFY_PUBLIC_KEY_FILE: sim.publicKeyPath,
    CLOCKIFY_API_ALLOWED_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'info',
    // What the Kubernetes manifests set: the migration Job migrates, the apps only check.
    MIGRATE_ON_START: 'false',
    ...extra,
  });
  const start = (app: App, file: string, extra: Record<string, string>, args: string[] = []) => {
    const p = startAppProcess(join(trees[app], 'apps', app, 'dist', file), { DATA_DIR: dataDir, ...extra }, args);
    processes.push(p);
    return p;
  };

  it('the worker image migrates the database (the migration Job)', async () => {
    const migrate = start('worker', 'migrate.js', env());
    expect(await migrate.exited, migrate.output.join('\n')).toBe(0);
    expect(migrate.output.join('\n')).toContain('database migrated');
    db = await openDatabase({ url: testDb.url, dataDir });
  }, 60_000);

  it('the ingress and worker images, in production mode, take an install and a webhook to Postgres', async () => {
    const port = await freePort();
    const ingressUrl = `http://127.0.0.1:${port}`;
    const workerPort = await freePort();
    const ingress = start(
      'ingress',
      'main.js',
      env({ PORT: String(port), INGRESS_OPS_PORT: '0', BASE_URL: ingressUrl }),
    );
    const worker = start('worker', 'main.js', env({ WORKER_PORT: String(workerPort) }));
    await Promise.all([ingress.waitForLine(/"msg":"ingress ready"/), worker.waitForLine(/"msg":"worker ready"/)]);
    // What the images' HEALTHCHECKs ask.
    expect(await answers(`${ingressUrl}${healthPath('ingress')}`)).toBe(true);
    expect(await answers(`http://127.0.0.1:${workerPort}${healthPath('worker')}`)).toBe(true);

    const workspaceId = sim.store.workspaceIds()[0]!;
    const install = await sim.install({ ingressUrl, workspaceId });
    expect(install.status, JSON.stringify(install.body)).toBe(200);
    await waitFor(
      async () =>
        (
          await db.db
            .selectFrom('bootstrap_runs')
            .select('status')
            .where('workspace_id', '=', workspaceId)
            .executeTakeFirst()
        )?.status === 'COMPLETED',
      { timeoutMs: 60_000, message: 'the bootstrap run completed' },
    );
    const delivery = await sim.trigger('NEW_TAG');
    expect(delivery.status, JSON.stringify(delivery.body)).toBe(200);
    await waitFor(
      async () =>
        (
          await db.db
            .selectFrom('webhook_events')
            .select('status')
            .where('workspace_id', '=', workspaceId)
            .where('event', '=', 'NEW_TAG')
            .executeTakeFirst()
        )?.status === 'done',
      { timeoutMs: 30_000, message: 'the NEW_TAG webhook processed' },
    );
  }, 120_000);

  it('run in production mode, as the image marker makes them: unverified tokens cannot be allowed', async () => {
    const ingress = start('ingress', 'main.js', env({ PORT: '0', REQUIRE_SIGNATURE_VERIFICATION: 'false' }));
    expect(await ingress.exited).toBe(1);
    expect(ingress.output.join('\n')).toContain(
      'REQUIRE_SIGNATURE_VERIFICATION: cannot be false when NODE_ENV=production',
    );
  }, 60_000);

  it('without DATABASE_URL, name what to set instead of the embedded database the images leave out', async () => {
    const { DATABASE_URL: _, ...rest } = env({ WORKER_PORT: '0' });
    const worker = start('worker', 'main.js', rest);
    expect(await worker.exited).toBe(1);
    expect(worker.output.join('\n')).toMatch(/DATABASE_URL/);
    expect(worker.output.join('\n')).not.toContain('worker ready');
  }, 60_000);

  it('the simulator image serves', async () => {
    const port = await freePort();
    const p = start('simulator', 'cli.js', {}, ['serve', '--port', String(port)]);
    // What the image's HEALTHCHECK asks.
    const health = `http://127.0.0.1:${port}${healthPath('simulator')}`;
    await waitFor(() => answers(health), { timeoutMs: 30_000, message: `the simulator answering ${health}` });
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 60_000);
});
