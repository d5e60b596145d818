// Ingress and worker in one process, sharing one database handle: the mode `npm start` uses
// when DATABASE_URL is unset (embedded PGlite can only be opened by one process), and what
// `npm run dev` runs under watch.
import { loadConfigOrExit } from '@cap/config';
import { ingressEnv, startIngress } from '@cap/ingress';
import { createLogger } from '@cap/observability';
import { Shutdown, StartupError, acquireEmbeddedDatabaseLock, openMigratedDatabase } from '@cap/service';
import { startWorker, workerEnv } from '@cap/worker';

const ingressConfig = loadConfigOrExit(ingressEnv);
const workerConfig = loadConfigOrExit(workerEnv);
const logger = createLogger({ name: 'clockify-addon', level: ingressConfig.LOG_LEVEL });
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
  const database = await openMigratedDatabase(workerConfig, logger, 'all');
  shutdown.register('connections', 'database', () => database.close());
  await startWorker({ config: workerConfig, logger: logger.child({ app: 'worker' }), database, shutdown });
  await startIngress({ config: ingressConfig, logger: logger.child({ app: 'ingress' }), database, shutdown });
  shutdown.installSignalHandlers();
} catch (err) {
  logger.fatal({ err }, err instanceof StartupError ? err.message : 'failed to start');
  await shutdown.shutdown().catch(() => undefined);
  process.exit(1);
}
