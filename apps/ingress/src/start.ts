import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { pageProblems, type RegisteredAddon } from '@cap/addon';
import { TokenVerifier, eventRoute, type WebhookEventName } from '@cap/clockify';
import type { DatabaseHandle } from '@cap/db';
import { Metrics, tracingEnabled, type Logger } from '@cap/observability';
import {
  DurabilityBarrier,
  closeQueues,
  createProducerConnection,
  createQueues,
  openDurabilityBarrier,
  bullmqTelemetry,
} from '@cap/queue';
import {
  Shutdown,
  StartupError,
  loadKeyring,
  openMigratedDatabase,
  requireRedis,
  startOpsServer,
  warnAboutRedisDurability,
  type OpsServer,
} from '@cap/app-process';
import { createApp } from './app.js';
import type { IngressConfig } from './config.js';
import type { IngressContext } from './context.js';
import { createIngressServer, ingressOps } from './http/server.js';
import { createIngressMetrics } from './metrics.js';
import { DepthSampler } from './depth-sampler.js';
import { GateReleaser } from './gates.js';
import { ManifestError, prepareManifest } from './routes/manifest.js';

export interface StartIngressOptions {
  readonly config: IngressConfig;
  readonly logger: Logger;
  /** Shared database (single-process mode); otherwise opened and migrated here. */
  readonly database?: DatabaseHandle;
  readonly metrics?: Metrics;
  readonly shutdown?: Shutdown;
  /** The add-on this process runs (the entry point chooses it; see main.ts). */
  readonly addon: RegisteredAddon;
}

export interface RunningIngress {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  /** The ops port (INGRESS_OPS_PORT): /health, detailed /ready, /metrics. */
  readonly opsPort: number;
  readonly opsUrl: string;
  readonly context: IngressContext;
  readonly shutdown: Shutdown;
}

/**
 * Starts the ingress: manifest validated, verifier loaded, Redis reachable, database migrated,
 * then the HTTP server. Throws StartupError with an operator-facing message on any problem.
 */
export async function startIngress(opts: StartIngressOptions): Promise<RunningIngress> {
  const { config, logger } = opts;
  const { addon } = opts;
  // ADDON_KEY overrides the definition's key (a staging copy of the same add-on, say).
  const addonKey = config.ADDON_KEY ?? addon.key;
  const metrics = opts.metrics ?? new Metrics({ app: 'ingress' });
  const shutdown = opts.shutdown ?? new Shutdown(logger, config.SHUTDOWN_TIMEOUT_MS);

  let manifest;
  try {
    manifest = prepareManifest(
      addon,
      { baseUrl: config.BASE_URL, key: addonKey, schemaVersion: config.MANIFEST_SCHEMA_VERSION },
      logger,
    );
  } catch (err) {
    if (err instanceof ManifestError) throw new StartupError(`invalid manifest: ${err.message}`);
    throw err;
  }
  const pages = pageProblems(addon);
  if (pages.length > 0) throw new StartupError(`the add-on's pages cannot be served: ${pages.join('; ')}`);
  let verifier: TokenVerifier;
  try {
    verifier = await TokenVerifier.create({
      addonKey,
      ...(config.CLOCKIFY_PUBLIC_KEY ? { publicKeyPem: config.CLOCKIFY_PUBLIC_KEY } : {}),
      ...(config.CLOCKIFY_PUBLIC_KEY_FILE ? { publicKeyFile: config.CLOCKIFY_PUBLIC_KEY_FILE } : {}),
      ...(config.CLOCKIFY_JWKS_URL ? { jwksUrl: config.CLOCKIFY_JWKS_URL } : {}),
      requireSignature: config.REQUIRE_SIGNATURE_VERIFICATION,
      production: config.NODE_ENV === 'production',
      logger,
      metrics,
    });
  } catch (err) {
    if (!config.REQUIRE_SIGNATURE_VERIFICATION && config.NODE_ENV === 'production') {
      throw new StartupError(`REQUIRE_SIGNATURE_VERIFICATION=false is refused: ${(err as Error).message}`);
    }
    throw new StartupError(`cannot load the Clockify public key: ${(err as Error).message}`);
  }

  await requireRedis(config.REDIS_URL, config.REDIS_CONNECT_TIMEOUT_MS, config.BULLMQ_PREFIX);
  const database = opts.database ?? (await openMigratedDatabase(config, logger, 'ingress', opts.addon));
  const keyring = loadKeyring(config, logger);

  const redis = createProducerConnection({
    url: config.REDIS_URL,
    name: 'ingress-producer',
    commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
  });
  redis.on('error', (err) =>
    logger.warn({ err: { message: err.message } }, 'Redis connection error (requests answer 503 until it recovers)'),
  );
  await new Promise<void>((resolve, reject) => {
    if (redis.status === 'ready') return resolve();
    const timer = setTimeout(
      () => reject(new StartupError('Redis did not become ready in time')),
      config.REDIS_CONNECT_TIMEOUT_MS,
    );
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  await warnAboutRedisDurability(redis, logger, { production: config.NODE_ENV === 'production' });
  const queues = createQueues(redis, config.BULLMQ_PREFIX, {
    webhookAttempts: config.WEBHOOK_JOB_ATTEMPTS,
    webhookBackoffMs: config.WEBHOOK_JOB_BACKOFF_MS,
    telemetry: bullmqTelemetry(tracingEnabled()),
  });
  // Without a listener BullMQ prints connection errors to stderr; the producer connection's own
  // handler above already reports them.
  for (const queue of Object.values(queues)) {
    queue.on('error', (err: Error) =>
      logger.debug({ queue: queue.name, err: { message: err.message } }, 'queue connection error'),
    );
  }
  const durable = await durabilityBarrier(config, redis, logger);
  const depth = new DepthSampler(queues.webhooks, 1000, logger);
  const gates = new GateReleaser(redis, logger, config.REDIS_COMMAND_TIMEOUT_MS + 500);

  const routes = new Map<string, WebhookEventName>(addon.events.map((e) => [eventRoute(e), e]));
  let started = false;
  const context: IngressContext = {
    config,
    addon,
    manifest,
    manifestJson: JSON.stringify(manifest, null, 2),
    routes,
    verifier,
    keyring,
    redis,
    queues,
    depth,
    gates,
    durable,
    database,
    logger,
    metrics,
    ingressMetrics: createIngressMetrics(metrics, queues, redis),
    isAccepting: () => started && shutdown.accepting,
  };

  const server = createIngressServer(context, createApp(context));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new StartupError(`cannot listen on port ${config.PORT}: ${err.message}`)));
    server.listen(config.PORT, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  shutdown.register('http', 'ingress http server', () => {
    depth.stop();
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  });
  let ops: OpsServer;
  try {
    ops = await startOpsServer(config.INGRESS_OPS_PORT, ingressOps(context), logger);
  } catch (err) {
    // The public server is listening already: close it, or the process would hang on it.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new StartupError(`cannot listen on INGRESS_OPS_PORT ${config.INGRESS_OPS_PORT}: ${(err as Error).message}`);
  }
  shutdown.register('http', 'ingress ops server', () => ops.close());
  depth.start();
  shutdown.register('queues', 'gate releases', () => gates.stop());
  shutdown.register('queues', 'bullmq queues', () => closeQueues(queues));
  shutdown.register('connections', 'redis', () => redis.quit().catch(() => redis.disconnect()));
  shutdown.register('connections', 'redis durability barrier', () => durable.close());
  if (!opts.database) shutdown.register('connections', 'database', () => database.close());

  if (!config.ADMIN_USERNAME || !config.ADMIN_PASSWORD) {
    logger.info(
      'admin surface off: set ADMIN_USERNAME and ADMIN_PASSWORD to enable /admin/queues (Bull Board) and /admin/api; they answer 404 until then',
    );
  }
  started = true;
  logger.info(
    {
      port,
      opsPort: ops.port,
      metricsUrl: `http://127.0.0.1:${ops.port}/metrics`,
      baseUrl: config.BASE_URL,
      addonKey,
      events: addon.events.length,
      schemaVersion: config.MANIFEST_SCHEMA_VERSION,
    },
    'ingress ready',
  );
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    opsPort: ops.port,
    opsUrl: `http://127.0.0.1:${ops.port}`,
    context,
    shutdown,
  };
}

/** What a 2xx can wait for (see DurabilityBarrier); logged once, warned about when nothing. */
async function durabilityBarrier(config: IngressConfig, redis: Redis, logger: Logger): Promise<DurabilityBarrier> {
  let barrier: DurabilityBarrier;
  try {
    barrier = await openDurabilityBarrier({
      url: config.REDIS_URL,
      probe: redis,
      key: `${config.BULLMQ_PREFIX}:durability-barrier`,
      timeoutMs: config.REDIS_DURABLE_ACK_TIMEOUT_MS,
      connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
    });
  } catch (err) {
    logger.warn({ err }, 'could not read what Redis can confirm; acknowledgements do not wait for durability');
    return new DurabilityBarrier(undefined, { mode: 'none', detail: 'unknown' }, '', 0);
  }
  const { mode, detail } = barrier.durability;
  const scope = config.WEBHOOK_DURABLE_ACK ? 'lifecycle calls and webhooks' : 'lifecycle calls';
  if (mode === 'none') logger.warn({ durability: mode }, `a 2xx cannot wait for Redis durability: ${detail}`);
  else if (mode === 'fsync') logger.info({ durability: mode }, `every acknowledged write is on disk (${detail})`);
  else logger.info({ durability: mode }, `${scope} answer 2xx once Redis confirms the job durable: ${detail}`);
  return barrier;
}
