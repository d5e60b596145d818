// `npm run db:migrate`: applies pending migrations (the platform's, then the add-on's) and exits
// (the apps also do this at start).
import { databaseVars, defineEnv, loadConfigOrExit, runtimeVars } from '@cap/config';
import { createLogger } from '@cap/observability';
import { StartupError, acquireEmbeddedDatabaseLock, openMigratedDatabase } from '@cap/app-process';
// The add-on whose own migrations follow the platform's: swap this line for another add-on package.
import { addon } from '@cap/workspace-mirror';

const config = loadConfigOrExit(defineEnv('migrate', { ...runtimeVars, ...databaseVars }));
const logger = createLogger({ name: 'migrate', level: config.LOG_LEVEL });
let release = () => {};
try {
  if (!config.DATABASE_URL) release = acquireEmbeddedDatabaseLock(config.DATA_DIR);
  // This is the migration step itself, whatever MIGRATE_ON_START says to the apps.
  const db = await openMigratedDatabase({ ...config, MIGRATE_ON_START: true }, logger, 'migrate', addon);
  await db.close();
} catch (err) {
  logger.fatal({ err }, err instanceof StartupError ? err.message : 'migration failed');
  process.exitCode = 1;
} finally {
  release();
}
