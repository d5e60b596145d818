import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RegisteredAddon } from '@cap/addon';
import { RateLimiter } from '@cap/clockify';
import { ensureWebhookEventPartitions, recordDeadLetter, type DatabaseHandle } from '@cap/db';
import { Metrics, tracingEnabled, type Logger } from '@cap/observability';
import { deadLetterOf } from '@cap/operator-actions';
import {
  JOBS,
  QUEUES,
  SCHEDULERS,
  closeQueues,
  createQueues,
  createWorkerConnection,
  type QueueName,
  bullmqTelemetry,
} from '@cap/queue';
import {
  Shutdown,
  loadKeyring,
  openMigratedDatabase,
  registerQueueGauges,
  requireRedis,
  startOpsServer,
  warnAboutRedisDurability,
} from '@cap/app-process';
import { CATALOG } from './catalog.js';
import type { WorkerConfig } from './config.js';
import type { WorkerDeps } from './deps.js';
import { DeliveryGroups } from './webhooks/delivery-groups.js';
import { InstallationCache } from './webhooks/installation-cache.js';
import { jobSpecOf } from './runtime/catalog.js';
import { WorkerRegistry } from './runtime/registry.js';

export interface StartWorkerOptions {
  readonly config: WorkerConfig;
  readonly logger: Logger;
  /** Shared database (single-process mode); otherwise opened and migrated here. */
  readonly database?: DatabaseHandle;
  readonly metrics?: Metrics;
  readonly shutdown?: Shutdown;
  /** The add-on this process runs (the entry point chooses it; see main.ts). */
  readonly addon: RegisteredAddon;
  /** Replaces the clock used for retention and purge dates (tests). */
  readonly now?: () => Date;
}

export interface RunningWorker {
  readonly deps: WorkerDeps;
  readonly opsPort: number;
  readonly shutdown: Shutdown;
  readonly registry: WorkerRegistry;
}

const PARTITIONS_AHEAD_DAYS = 7;

/**
 * Starts the worker: checks Redis, opens and migrates the database, then consumes the queues in
 * WORKER_QUEUES. Every BullMQ Worker comes from one registry, which is also the shutdown hook.
 */
export async function startWorker(opts: StartWorkerOptions): Promise<RunningWorker> {
  const { config, logger } = opts;
  const metrics = opts.metrics ?? new Metrics({ app: 'worker' });
  const shutdown = opts.shutdown ?? new Shutdown(logger, config.SHUTDOWN_TIMEOUT_MS);

  await requireRedis(config.REDIS_URL, config.REDIS_CONNECT_TIMEOUT_MS, config.BULLMQ_PREFIX);
  const database = opts.database ?? (await openMigratedDatabase(config, logger, 'worker', opts.addon));
  const keyring = loadKeyring(config, logger);

  const connections: Redis[] = [];
  const connect = (name: string) => {
    const c = createWorkerConnection({
      url: config.REDIS_URL,
      name,
      connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
    });
    c.on('error', (err) =>
      logger.debug({ err: { message: err.message }, connection: name }, 'Redis connection error (reconnecting)'),
    );
    connections.push(c);
    return c;
  };
  const producer = connect('worker-producer');
  await warnAboutRedisDurability(producer, logger, { production: config.NODE_ENV === 'production' });
  const queues = createQueues(producer, config.BULLMQ_PREFIX, {
    webhookAttempts: config.WEBHOOK_JOB_ATTEMPTS,
    webhookBackoffMs: config.WEBHOOK_JOB_BACKOFF_MS,
    telemetry: bullmqTelemetry(tracingEnabled()),
  });
  const limiter = new RateLimiter(connect('worker-limiter'), {
    prefix: config.BULLMQ_PREFIX,
    rps: config.CLOCKIFY_RATE_LIMIT_RPS,
    metrics,
    logger,
  });

  const stopping = new AbortController();
  const deps: WorkerDeps = {
    config,
    db: database.db,
    queues,
    redis: producer,
    keyring,
    limiter,
    installations: new InstallationCache(),
    ...(config.WEBHOOK_COMMIT_GROUP_MAX > 1
      ? {
          deliveryGroups: new DeliveryGroups(database.db, {
            maxSize: config.WEBHOOK_COMMIT_GROUP_MAX,
            maxParallel: config.WEBHOOK_COMMIT_GROUPS,
            logger,
            metrics,
          }),
        }
      : {}),
    addon: opts.addon,
    logger,
    metrics,
    now: opts.now ?? (() => new Date()),
    stopping: stopping.signal,
  };

  await ensureWebhookEventPartitions(database.db, new Date(Date.now() - 86_400_000), PARTITIONS_AHEAD_DAYS + 1);

  const catalog = new Map(CATALOG.map((spec) => [spec.queue, spec]));
  const registry = new WorkerRegistry({
    prefix: config.BULLMQ_PREFIX,
    connection: () => connect('worker-consumer'),
    telemetry: bullmqTelemetry(tracingEnabled()),
    lockDurationMs: config.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: config.WORKER_MAX_STALLED_COUNT,
    infraRetryBaseMs: config.INFRA_RETRY_BASE_MS,
    infraRetryMaxMs: config.INFRA_RETRY_MAX_MS,
    logger,
    metrics,
    onExhausted: async (queue: QueueName, job: Job, error: Error) => {
      await recordDeadLetter(database.db, deadLetterOf(queue, job, error.message));
      const spec = catalog.get(queue);
      await (spec && jobSpecOf(spec, job.name))?.onExhausted?.(deps, job, error);
    },
  });

  for (const queue of config.WORKER_QUEUES as QueueName[]) {
    const spec = catalog.get(queue)!;
    registry.register({
      queue,
      concurrency: spec.concurrency(config),
      process: (job, token) => {
        const jobSpec = jobSpecOf(spec, job.name);
        // A name no module declares cannot get better by retrying: straight to the dead letters.
        if (!jobSpec) throw new UnrecoverableError(`no processor for job ${job.name} in queue ${queue}`);
        return jobSpec.process(deps, job, token);
      },
    });
  }
  if (config.WORKER_QUEUES.includes(QUEUES.maintenance)) {
    await upsertSchedulers(deps);
  }
  // The backlog of the queues this worker consumes, so workers can be scaled on it (KEDA).
  registerQueueGauges(
    metrics,
    producer,
    Object.values(queues).filter((q) => config.WORKER_QUEUES.includes(q.name)),
  );

  let started = false;
  const ops = await startOpsServer(
    config.WORKER_PORT,
    {
      metrics,
      isAccepting: () => started && shutdown.accepting,
      checks: {
        redis: async () => {
          if (!registry.isConnected()) throw new Error('a worker connection is not ready');
          await producer.ping();
        },
        database: () => database.ping(),
      },
    },
    logger,
  );

  shutdown.register('http', 'worker ops server', () => ops.close());
  // First of all, so that long bootstrap jobs stop after their current page while HTTP closes.
  shutdown.register('http', 'long jobs', () => stopping.abort());
  shutdown.register('workers', 'bullmq workers', () => registry.close());
  shutdown.register('queues', 'bullmq queues', () => closeQueues(queues));
  shutdown.register('connections', 'redis connections', () =>
    Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect()))),
  );
  if (!opts.database) shutdown.register('connections', 'database', () => database.close());

  registry.start();
  started = true;
  logger.info({ port: ops.port, queues: registry.queues, prefix: config.BULLMQ_PREFIX }, 'worker ready');
  return { deps, opsPort: ops.port, shutdown, registry };
}

async function upsertSchedulers(deps: WorkerDeps): Promise<void> {
  const q = deps.queues.maintenance;
  const schedules = [
    { id: SCHEDULERS.retention, cron: deps.config.RETENTION_CRON, name: JOBS.retention },
    { id: SCHEDULERS.reconcile, cron: deps.config.RECONCILE_CRON, name: JOBS.reconcile },
    { id: SCHEDULERS.webhookHealth, cron: deps.config.WEBHOOK_HEALTH_CRON, name: JOBS.webhookHealth },
    { id: SCHEDULERS.deadLetterSweep, cron: deps.config.DEAD_LETTER_SWEEP_CRON, name: JOBS.deadLetterSweep },
  ] as const;
  for (const s of schedules) {
    if (s.cron === 'off') {
      await q.removeJobScheduler(s.id);
      deps.logger.info({ scheduler: s.id }, 'scheduler turned off');
      continue;
    }
    await q.upsertJobScheduler(s.id, { pattern: s.cron, tz: 'UTC' }, { name: s.name, data: { v: 1 } });
  }
}
