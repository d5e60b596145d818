// Ingress and worker in one process, sharing one database handle: the mode `npm start` uses
// when DATABASE_URL is unset (embedded PGlite can only be opened by one process), and what
// `npm run dev` runs under watch.
import { loadConfigOrExit } from '@cap/config';
import { ingressEnv, startIngress } from '@cap/ingress';
import { processLogger, resolveLogFormat, startTracing } from '@cap/observability';
import {
  Shutdown,
  StartupError,
  acquireEmbeddedDatabaseLock,
  displayRedisUrl,
  formatBanner,
  openMigratedDatabase,
} from '@cap/app-process';
import { startWorker, workerEnv } from '@cap/worker';
// The add-on this process runs: swap this line for another add-on package.
import { addon } from '@cap/workspace-mirror';

const ingressConfig = loadConfigOrExit(ingressEnv);
const workerConfig = loadConfigOrExit(workerEnv);
const logger = processLogger('clockify-addon', ingressConfig);
// Three listeners in one process: the ingress's public and ops ports and the worker's ops port.
if (ingressConfig.INGRESS_OPS_PORT !== 0 && ingressConfig.INGRESS_OPS_PORT === workerConfig.WORKER_PORT) {
  logger.fatal(
    `INGRESS_OPS_PORT and WORKER_PORT are both ${workerConfig.WORKER_PORT}: in one process the ingress's and the worker's ops servers need ports of their own`,
  );
  process.exit(1);
}
const shutdown = new Shutdown(logger, Math.max(ingressConfig.SHUTDOWN_TIMEOUT_MS, workerConfig.SHUTDOWN_TIMEOUT_MS));

try {
  // Before the apps start, so their queues, workers and clients see tracing on (OTEL_* variables).
  const tracing = await startTracing({ serviceName: 'cap-all-in-one' });
  if (tracing) {
    logger.info('OpenTelemetry traces on: spans are exported over OTLP (OTEL_* variables)');
    shutdown.register('connections', 'trace export', () => tracing.shutdown());
  }
  if (!ingressConfig.DATABASE_URL) {
    logger.info(
      { dataDir: ingressConfig.DATA_DIR },
      'DATABASE_URL is not set: running ingress and worker in one process on the embedded PGlite database under DATA_DIR (set DATABASE_URL for Postgres and separate processes)',
    );
    const release = acquireEmbeddedDatabaseLock(ingressConfig.DATA_DIR);
    shutdown.register('connections', 'embedded database lock', release);
  }
  const database = await openMigratedDatabase(workerConfig, logger, 'all', addon);
  shutdown.register('connections', 'database', () => database.close());
  const worker = await startWorker({
    config: workerConfig,
    logger: logger.child({ app: 'worker' }),
    database,
    shutdown,
    addon,
  });
  const ingress = await startIngress({
    config: ingressConfig,
    logger: logger.child({ app: 'ingress' }),
    database,
    shutdown,
    addon,
  });
  shutdown.installSignalHandlers();
  if (resolveLogFormat(ingressConfig.LOG_FORMAT, ingressConfig.NODE_ENV) === 'pretty') {
    process.stdout.write(banner(ingress, worker, database));
  }
  logger.info(
    {
      ingress: `http://127.0.0.1:${ingress.port}`,
      ingressMetrics: `http://127.0.0.1:${ingress.opsPort}/metrics`,
      workerMetrics: `http://127.0.0.1:${worker.opsPort}/metrics`,
    },
    `running: ingress on port ${ingress.port} (ops: /health, /ready, /metrics on ${ingress.opsPort}), worker ops on port ${worker.opsPort}`,
  );
} catch (err) {
  logger.fatal({ err }, err instanceof StartupError ? err.message : 'failed to start');
  await shutdown.shutdown().catch(() => undefined);
  process.exit(1);
}

/** What a person at the terminal needs after `npm start`: where things are, what is missing. */
function banner(ingress, worker, database) {
  const local = `http://localhost:${ingress.port}`;
  const ops = (port) => `http://127.0.0.1:${port}/ready  /metrics  /health`;
  const firstRun = process.env.CAP_FIRST_RUN_ADMIN_FILE;
  const admin = firstRun
    ? `${local}/admin/queues   user ${ingressConfig.ADMIN_USERNAME}, password in ${firstRun} (read-only)`
    : ingressConfig.ADMIN_USERNAME
      ? `${local}/admin/queues   user ${ingressConfig.ADMIN_USERNAME}`
      : 'off: set ADMIN_USERNAME and ADMIN_PASSWORD';
  const components = ingress.context.manifest.components ?? [];
  const rows = [
    ['Manifest', `${local}/manifest`],
    ['Health', `${local}/health`],
    ['Ingress ops', ops(ingress.opsPort)],
    ['Worker ops', ops(worker.opsPort)],
    ['Bull Board', admin],
    ...components.map((c) => [
      `UI: ${c.label ?? c.type}`,
      `${local}${c.path}   (Clockify opens it with ?auth_token=<user token>)`,
    ]),
    [
      'Database',
      database.kind === 'pglite' ? `embedded PGlite in ${database.location}` : `Postgres ${database.location}`,
    ],
    ['Redis', `${displayRedisUrl(ingressConfig.REDIS_URL)}   prefix ${ingressConfig.BULLMQ_PREFIX}`],
  ];
  const notes = [];
  const base = new URL(ingressConfig.BASE_URL);
  if (['localhost', '127.0.0.1', '[::1]'].includes(base.hostname) || base.protocol !== 'https:') {
    notes.push(
      `Clockify cannot reach BASE_URL ${ingressConfig.BASE_URL}: to install in a workspace, set BASE_URL to a public https URL (a tunnel) and upload ${local}/manifest`,
    );
  }
  if (database.kind === 'pglite') notes.push('set DATABASE_URL for Postgres and separate ingress and worker processes');
  if (!ingressConfig.TOKEN_ENCRYPTION_KEY) {
    notes.push(
      `token encryption key generated in ${ingressConfig.DATA_DIR}/token-encryption.key: set TOKEN_ENCRYPTION_KEY in production`,
    );
  }
  notes.push('npm run demo runs the simulator against this ingress; npm run cli -- --help for operator commands');
  return formatBanner(
    `${ingress.context.manifest.name} (${ingress.context.manifest.key}), ${ingressConfig.NODE_ENV}`,
    rows,
    notes,
  );
}
