import { loadConfigOrExit } from '@cap/config';
import { createLogger } from '@cap/observability';
import { StartupError } from '@cap/service';
import { workerEnv } from './config.js';
import { startWorker } from './start.js';

/** `node apps/worker/dist/main.js`: exactly one worker process. */
const config = loadConfigOrExit(workerEnv);
const logger = createLogger({ name: 'worker', level: config.LOG_LEVEL });

if (!config.DATABASE_URL) {
  logger.fatal(
    'DATABASE_URL is required to run the worker as its own process: the embedded PGlite database can only be opened by one process. Use `npm start` for the single-process mode, or set DATABASE_URL.',
  );
  process.exit(1);
}

try {
  const worker = await startWorker({ config, logger });
  worker.shutdown.installSignalHandlers();
} catch (err) {
  logger.fatal({ err }, err instanceof StartupError ? err.message : 'worker failed to start');
  process.exit(1);
}
