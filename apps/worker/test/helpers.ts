import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { RegisteredAddon } from '@cap/addon';
import { addon as exampleAddon } from '@cap/workspace-mirror';
import { openDatabase, type Database, type DatabaseHandle, type Kysely } from '@cap/db';
import { createLogger } from '@cap/observability';
import { migrateToLatest } from '@cap/db';
import { deleteRedisPrefix, testRedisUrl, uniquePrefix } from '@cap/testing';
import { startWorker, workerEnv, type RunningWorker } from '../src/index.js';

export interface TestWorkerOptions {
  readonly databaseUrl: string;
  readonly prefix?: string;
  readonly encryptionKey?: string;
  readonly env?: Record<string, string>;
  readonly addon?: RegisteredAddon;
  readonly now?: () => Date;
}

export interface TestWorker {
  readonly worker: RunningWorker;
  readonly prefix: string;
  readonly encryptionKey: string;
  readonly logs: string[];
  readonly database: DatabaseHandle;
  close(): Promise<void>;
}

/** Settings that keep tests fast: short waits and no schedulers unless a test turns them on. */
export const FAST_WORKER_ENV = {
  WORKER_PORT: '0',
  WEBHOOK_INSTALL_WAIT_MS: '200',
  RETENTION_CRON: 'off',
  RECONCILE_CRON: 'off',
  RECONCILE_SPREAD_HOURS: '0',
  WEBHOOK_HEALTH_CRON: 'off',
  DEAD_LETTER_SWEEP_CRON: 'off',
  CLOCKIFY_API_ALLOWED_HOSTS: '127.0.0.1,localhost',
  CLOCKIFY_API_MAX_RETRIES: '2',
  LOG_LEVEL: 'debug',
};

/** A worker in this process, against real Redis (own prefix) and a real Postgres database. */
export async function startTestWorker(opts: TestWorkerOptions): Promise<TestWorker> {
  const prefix = opts.prefix ?? uniquePrefix('worker');
  const encryptionKey = opts.encryptionKey ?? randomBytes(32).toString('base64');
  const logs: string[] = [];
  const database = await openDatabase({ url: opts.databaseUrl, dataDir: '/unused', poolMax: 8 });
  await migrateToLatest(database.db, opts.addon ?? exampleAddon);
  const config = workerEnv.parse({
    ...FAST_WORKER_ENV,
    REDIS_URL: testRedisUrl(),
    DATABASE_URL: opts.databaseUrl,
    BULLMQ_PREFIX: prefix,
    TOKEN_ENCRYPTION_KEY: encryptionKey,
    ...opts.env,
  });
  const logger = createLogger(
    { name: 'worker-test', level: config.LOG_LEVEL },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  const worker = await startWorker({
    config,
    logger,
    database,
    addon: opts.addon ?? exampleAddon,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return {
    worker,
    prefix,
    encryptionKey,
    logs,
    database,
    async close() {
      await worker.shutdown.shutdown();
      await database.close();
      if (!opts.prefix) await deleteRedisPrefix(testRedisUrl(), prefix);
    },
  };
}

/** An ACTIVE installation row with no URLs, users or settings: only its key and token ciphertext. */
export async function insertBareInstallation(
  db: Kysely<Database>,
  workspaceId: string,
  addonId: string,
  authTokenEnc: string | null = null,
): Promise<void> {
  await db
    .insertInto('installations')
    .values({
      workspace_id: workspaceId,
      addon_id: addonId,
      status: 'ACTIVE',
      api_url: null,
      backend_url: null,
      reports_url: null,
      addon_user_id: null,
      installed_by: null,
      auth_token_enc: authTokenEnc,
      settings: '[]',
    })
    .execute();
}
