import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  deleteRedisPrefix,
  freePort,
  startAppProcess,
  testRedisUrl,
  uniquePrefix,
  type TestDatabase,
} from '@cap/testing';
import { openDatabase } from '@cap/db';
import { distEntry, scriptPath } from './dist.js';

let db: TestDatabase;
const prefix = uniquePrefix('proc');
const key = randomBytes(32).toString('base64');

beforeAll(async () => {
  db = await createTestDatabase('proc');
});
afterAll(async () => {
  await deleteRedisPrefix(testRedisUrl(), prefix);
  await db?.drop();
});

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: testRedisUrl(),
    DATABASE_URL: db.url,
    BULLMQ_PREFIX: prefix,
    TOKEN_ENCRYPTION_KEY: key,
    // The ingress's ops port; each process reports the one it bound in its "ready" log line.
    INGRESS_OPS_PORT: '0',
    ...extra,
  };
}

describe.each(['ingress', 'worker'] as const)('the %s process', (app) => {
  const portVar = app === 'ingress' ? 'PORT' : 'WORKER_PORT';

  it('exits 1 naming a bad variable and what it expects', async () => {
    const p = startAppProcess(distEntry(app), baseEnv({ [portVar]: 'eighty', LOG_LEVEL: 'loud' }));
    expect(await p.exited).toBe(1);
    const text = p.output.join('\n');
    expect(text).toContain(`${portVar}: expected an integer between 0 and 65535, got "eighty"`);
    expect(text).toContain('LOG_LEVEL: expected one of');
  });

  it('fails within seconds when Redis is unreachable, saying how to get one', async () => {
    const started = Date.now();
    const p = startAppProcess(
      distEntry(app),
      baseEnv({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CONNECT_TIMEOUT_MS: '2000', [portVar]: '0' }),
    );
    expect(await p.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(p.output.join('\n')).toMatch(/Redis is not reachable at redis:\/\/127\.0\.0\.1:1 .*redis-server/);
  });

  it('answers /health and /ready, then exits 0 on SIGTERM within 10 s', async () => {
    const port = await freePort();
    const p = startAppProcess(distEntry(app), baseEnv({ [portVar]: String(port), LOG_LEVEL: 'info' }));
    await p.waitForLine(new RegExp(`"msg":"${app} ready"`), 30_000);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(200);
    // The worker's only port is its ops port; the ingress keeps /metrics and /ready's detail on its own.
    const opsPort = app === 'ingress' ? await p.logField<number>(/ingress ready/, 'opsPort') : port;
    if (app === 'ingress') {
      expect(opsPort).not.toBe(port);
      expect(await ready.json()).toEqual({ status: 'ready' });
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
      expect(await (await fetch(`http://127.0.0.1:${opsPort}/ready`)).json()).toEqual({
        status: 'ready',
        checks: { redis: 'ok' },
      });
    }
    const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
    const stopping = Date.now();
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(10_000);
    expect(p.output.join('\n')).toContain('"msg":"shutdown complete"');
  });
});

describe('npm start without DATABASE_URL', () => {
  it('runs ingress and worker in one process on embedded PGlite, says so, and stops cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cap-start-'));
    const [port, workerPort] = [await freePort(), await freePort()];
    try {
      const p = startAppProcess(scriptPath('start.mjs'), {
        REDIS_URL: testRedisUrl(),
        BULLMQ_PREFIX: prefix,
        DATA_DIR: dataDir,
        PORT: String(port),
        WORKER_PORT: String(workerPort),
        INGRESS_OPS_PORT: '0',
        SKIP_BUILD: '1',
      });
      await p.waitForLine(/"msg":"ingress ready"/, 60_000);
      expect(p.output.filter((l) => l.includes('embedded PGlite'))).toHaveLength(1);
      const opsPort = await p.logField<number>(/ingress ready/, 'opsPort');
      for (const u of [port, workerPort, opsPort]) {
        expect((await fetch(`http://127.0.0.1:${u}/health`)).status).toBe(200);
        expect((await fetch(`http://127.0.0.1:${u}/ready`)).status).toBe(200);
      }
      // Three listeners in one process, each ops server with its own metrics, and the log says where.
      expect(await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()).toContain('webhook_deliveries_total');
      expect(await (await fetch(`http://127.0.0.1:${workerPort}/metrics`)).text()).toContain('worker_jobs_total');
      expect(await p.logField<string>(/running: /, 'ingressMetrics')).toBe(`http://127.0.0.1:${opsPort}/metrics`);
      expect(await p.logField<string>(/running: /, 'workerMetrics')).toBe(`http://127.0.0.1:${workerPort}/metrics`);
      // A second start on the same data directory is refused instead of corrupting it.
      const second = startAppProcess(scriptPath('start.mjs'), {
        REDIS_URL: testRedisUrl(),
        BULLMQ_PREFIX: prefix,
        DATA_DIR: dataDir,
        PORT: '0',
        WORKER_PORT: '0',
        INGRESS_OPS_PORT: '0',
        SKIP_BUILD: '1',
      });
      expect(await second.exited).toBe(1);
      expect(second.output.join('\n')).toMatch(/embedded database .* is in use by process/);
      p.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('the launcher (scripts/start.mjs, behind npm start, start:ingress, start:worker, db:migrate)', () => {
  it('db:migrate applies the migrations to DATABASE_URL and exits 0', async () => {
    const fresh = await createTestDatabase('proc-migrate');
    try {
      const p = startAppProcess(scriptPath('start.mjs'), { DATABASE_URL: fresh.url, SKIP_BUILD: '1' }, ['migrate']);
      expect(await p.exited).toBe(0);
      const check = await openDatabase({ url: fresh.url, dataDir: tmpdir() });
      try {
        const tables = await check.db.introspection.getTables();
        const names = tables.map((t) => t.name);
        for (const table of [
          'installations',
          'webhook_events',
          'bootstrap_runs',
          'workspace_entities',
          'dead_letters',
        ]) {
          expect(names).toContain(table);
        }
      } finally {
        await check.close();
      }
    } finally {
      await fresh.drop();
    }
  }, 60_000);

  it('start:ingress without DATABASE_URL refuses, pointing at npm start', async () => {
    const p = startAppProcess(
      scriptPath('start.mjs'),
      { REDIS_URL: testRedisUrl(), BULLMQ_PREFIX: prefix, TOKEN_ENCRYPTION_KEY: key, SKIP_BUILD: '1' },
      ['ingress'],
    );
    expect(await p.exited).toBe(1);
    expect(p.output.join('\n')).toMatch(/DATABASE_URL is required to run the ingress as its own process/);
  });

  it('refuses an unknown mode', async () => {
    const p = startAppProcess(scriptPath('start.mjs'), { SKIP_BUILD: '1' }, ['frobnicate']);
    expect(await p.exited).toBe(2);
    expect(p.output.join('\n')).toContain('unknown mode frobnicate');
  });

  it('with DATABASE_URL: migrates, runs ingress and worker as two processes, and passes SIGTERM on to both', async () => {
    const [port, workerPort] = [await freePort(), await freePort()];
    const p = startAppProcess(
      scriptPath('start.mjs'),
      baseEnv({ PORT: String(port), WORKER_PORT: String(workerPort), SKIP_BUILD: '1' }),
    );
    await Promise.all([p.waitForLine(/"msg":"ingress ready"/, 60_000), p.waitForLine(/"msg":"worker ready"/, 60_000)]);
    const pids = new Set(
      p.output
        .filter((l) => /"msg":"(ingress|worker) ready"/.test(l))
        .map((l) => (JSON.parse(l) as { pid: number }).pid),
    );
    expect(pids.size).toBe(2);
    expect(pids.has(p.child.pid!)).toBe(false);
    for (const u of [port, workerPort]) expect((await fetch(`http://127.0.0.1:${u}/ready`)).status).toBe(200);
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.output.filter((l) => l.includes('"msg":"shutdown complete"'))).toHaveLength(2);
    for (const u of [port, workerPort]) await expect(fetch(`http://127.0.0.1:${u}/health`)).rejects.toThrow();
  }, 90_000);

  it('with DATABASE_URL: when one app dies, stops the other and exits non-zero', async () => {
    const port = await freePort();
    // The worker cannot have the port the ingress took: it fails at start.
    const p = startAppProcess(
      scriptPath('start.mjs'),
      baseEnv({ PORT: String(port), WORKER_PORT: String(port), SKIP_BUILD: '1' }),
    );
    const code = await p.exited;
    expect(code).not.toBe(0);
    expect(p.output.join('\n')).toContain('a process exited unexpectedly');
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  }, 90_000);
});
