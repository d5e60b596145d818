// Ingress and worker in one process, sharing one database handle: the mode `npm start` uses
// when DATABASE_URL is unset (embedded PGlite can only be opened by one process), and what
// `npm run dev` runs under watch.
import { loadConfigOrExit } from '@cap/config';
import { ingressEnv, startIngress } from '@cap/ingress';
import { createLogger } from '@cap/observability';
import { Shutdown, StartupError, acquireEmbeddedDatabaseLock, openMigratedDatabase } from '@cap/app-process';
import { startWorker, workerEnv } from '@cap/worker';
// The add-on this process runs: swap this line for another add-on package.
import { addon } from '@cap/workspace-mirror';

const ingressConfig = loadConfigOrExit(ingressEnv);
const workerConfig = loadConfigOrExit(workerEnv);
const logger = createLogger({ name: 'clockify-addon', level: ingressConfig.LOG_LEVEL });
// Three listeners in one process: the ingress's public and ops ports and the worker's ops port.
if (ingressConfig.INGRESS_OPS_PORT !== 0 && ingressConfig.INGRESS_OPS_PORT === workerConfig.WORKER_PORT) {
  logger.fatal(
    `INGRESS_OPS_PORT and WORKER_PORT are both ${workerConfig.WORKER_PORT}: in one process the ingress's and the worker's ops servers need ports of their own`,
  );
  process.exit(1);
}
const shutdown = new Shutdown(logger, Math.max(ingressConfig.SHUTDOWN_TIMEOUT_MS, workerConfig.SHUTDOWN_TIMEOUT_MS));

try {
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
