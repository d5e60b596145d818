// `node apps/worker/dist/migrate.js` (`npm run db:migrate`, the k8s migration Job): applies pending
// migrations, the platform's and then the add-on's, and exits. The apps also do this at start
// unless MIGRATE_ON_START=false. It lives in the worker so that the worker image carries it.
import { StartupError, acquireEmbeddedDatabaseLock, openMigratedDatabase } from '@cap/app-process';
import { databaseVars, defineEnv, loadConfigOrExit, runtimeVars } from '@cap/config';
import { processLogger } from '@cap/observability';
// The add-on whose own migrations follow the platform's: swap this line with the one in main.ts.
import { addon } from '@cap/workspace-mirror';

const config = loadConfigOrExit(defineEnv('migrate', { ...runtimeVars, ...databaseVars }));
const logger = processLogger('migrate', config);
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
