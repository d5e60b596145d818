import { loadConfigOrExit } from '@cap/config';
import { createLogger } from '@cap/observability';
import { StartupError } from '@cap/service';
import { ingressEnv } from './config.js';
import { startIngress } from './start.js';

/** `node apps/ingress/dist/main.js`: exactly one ingress process. */
const config = loadConfigOrExit(ingressEnv);
const logger = createLogger({ name: 'ingress', level: config.LOG_LEVEL });

if (!config.DATABASE_URL) {
  logger.fatal(
    'DATABASE_URL is required to run the ingress as its own process: the embedded PGlite database can only be opened by one process. Use `npm start` for the single-process mode, or set DATABASE_URL.',
  );
  process.exit(1);
}

try {
  const ingress = await startIngress({ config, logger });
  ingress.shutdown.installSignalHandlers();
} catch (err) {
  logger.fatal({ err }, err instanceof StartupError ? err.message : 'ingress failed to start');
  process.exit(1);
}
