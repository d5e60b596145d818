import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startOwnRedis,
  startTcpProxy,
  testDatabaseUrl,
  waitFor,
  type AppProcess,
  type OwnRedis,
  type TcpProxy,
} from '@cap/testing';
import { startStack, type Stack } from '../stack.js';
import { DeliveryLedger } from './deliveries.js';

let proxy: TcpProxy;
let redis: OwnRedis;
let s: Stack;
let worker: AppProcess;
let readyUrl: string;

beforeAll(async () => {
  const pg = new URL(testDatabaseUrl());
  proxy = await startTcpProxy(pg.hostname, Number(pg.port || 5432));
  redis = await startOwnRedis();
  s = await startStack({
    noWorker: true,
    redisUrl: redis.url,
    sizes: { users: 2, projects: 2, tags: 2, clients: 1, entries: 4 },
  });
  const viaProxy = new URL(s.testDb.url);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  worker = s.spawnWorker({
    DATABASE_URL: viaProxy.toString(),
    AUTO_BOOTSTRAP: 'false',
    // A retry budget far shorter than the outage (2 attempts, 50 ms apart): only a job that waits
    // out an unreachable Postgres without spending attempts survives it.
    WEBHOOK_JOB_BACKOFF_MS: '50',
    WEBHOOK_JOB_ATTEMPTS: '2',
    INFRA_RETRY_BASE_MS: '200',
    INFRA_RETRY_MAX_MS: '2000',
    DATABASE_CONNECT_TIMEOUT_MS: '1000',
  });
  const port = await worker.logField<number>(/worker ready/, 'port');
  readyUrl = `http://127.0.0.1:${port}/ready`;
  await s.installAndWait();
});
afterAll(async () => {
  await s?.close();
  await proxy?.close();
  await redis?.close();
});

describe('workers while Postgres refuses connections', () => {
  it('keep running through 20 s without Postgres, longer than the whole retry budget, and then process everything acknowledged meanwhile', async () => {
    const ledger = new DeliveryLedger(s);
    await ledger.send(5);
    proxy.block();
    await waitFor(async () => (await fetch(readyUrl)).status === 503, {
      timeoutMs: 10_000,
      message: '/ready to notice',
    });
    // The worker's /ready names the dependency that is down.
    const ready = (await (await fetch(readyUrl)).json()) as { checks: Record<string, string> };
    expect(ready.checks.redis).toBe('ok');
    expect(ready.checks.database).not.toBe('ok');
    const outage = Date.now();
    // Webhooks keep being acknowledged: the ingress path needs no Postgres.
    while (Date.now() - outage < 20_000) {
      await ledger.send(2);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(ledger.refused.size).toBe(0);
    expect(worker.child.exitCode).toBeNull();
    proxy.unblock();
    await waitFor(async () => (await fetch(readyUrl)).status === 200, {
      timeoutMs: 20_000,
      message: 'the worker ready again',
    });
    await waitFor(
      async () => {
        const done = await ledger.processed();
        return [...ledger.acknowledged].every((id) => done.has(id));
      },
      { timeoutMs: 90_000, message: 'every acknowledged delivery processed' },
    );
    const letters = await s.ingress.context.database.db.selectFrom('dead_letters').select('id').execute();
    expect(letters).toEqual([]);
    expect(await s.ingress.context.queues.webhooks.getFailedCount()).toBe(0);
    expect(worker.output.join('\n')).toContain('the job waits without spending an attempt');
  }, 180_000);
});
