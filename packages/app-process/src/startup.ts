import { openDatabase, migrateToLatest, pendingMigrations, type AddonMigrations, type DatabaseHandle } from '@cap/db';
import type { Logger } from '@cap/observability';
import { checkRedisDurability, isClusterUrl, waitForRedis } from '@cap/queue';
import { Keyring, resolveEncryptionKey } from '@cap/secrets';
import type { Redis } from 'ioredis';

/**
 * The start-up steps both apps share. Each either succeeds or throws an error whose message is
 * meant for the operator (what is wrong and how to fix it); the entry points log it and exit 1.
 */

export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * Waits for Redis. On a cluster every key the platform writes starts with `prefix`, so it must be
 * a hash tag (`{cap}`): BullMQ's and the platform's scripts then find their keys in one slot.
 */
export async function requireRedis(url: string, timeoutMs: number, prefix?: string): Promise<void> {
  if (prefix !== undefined && isClusterUrl(url) && !/^\{[^{}]+\}/.test(prefix)) {
    throw new StartupError(
      `REDIS_URL names a Redis Cluster, so BULLMQ_PREFIX must start with a hash tag such as {${prefix.replace(/[{}]/g, '')}} (it is "${prefix}"): every key then maps to one slot, as BullMQ's scripts need.`,
    );
  }
  try {
    await waitForRedis(url, timeoutMs);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
}

/**
 * Warns when Redis may lose what the platform acknowledged: an eviction policy other than
 * `noeviction` (queued jobs and dedupe gates could be evicted) or no AOF (a restart loses the last
 * writes). In production an evicting Redis is refused outright: a webhook answered 200 must not
 * vanish because Redis ran short of memory.
 */
export async function warnAboutRedisDurability(
  redis: Redis,
  logger: Logger,
  opts: { production?: boolean } = {},
): Promise<void> {
  let warnings: Awaited<ReturnType<typeof checkRedisDurability>>;
  try {
    warnings = await checkRedisDurability(redis);
  } catch (err) {
    logger.warn({ err }, 'could not read Redis INFO to check eviction policy and AOF');
    return;
  }
  for (const w of warnings) {
    if (opts.production && w.setting === 'maxmemory-policy') {
      throw new StartupError(
        `Redis maxmemory-policy is ${w.value}, which evicts keys: queued jobs could vanish. Run Redis with maxmemory-policy noeviction (refused when NODE_ENV=production).`,
      );
    }
    logger.warn({ setting: w.setting, value: w.value }, `Redis ${w.setting} is ${w.value}: ${w.advice}`);
  }
}

export interface DatabaseConfig {
  readonly DATABASE_URL?: string | undefined;
  readonly DATA_DIR: string;
  readonly DATABASE_POOL_MAX: number;
  readonly DATABASE_CONNECT_TIMEOUT_MS: number;
  readonly DATABASE_PREPARED_STATEMENTS?: boolean;
  readonly DATABASE_POOL_MODE?: 'session' | 'transaction';
  /** False: check that no migration is pending instead of applying them (default true). */
  readonly MIGRATE_ON_START?: boolean;
}

/**
 * Opens the database and applies pending migrations (under the migrator's lock): the platform's,
 * then the add-on's own when `addon` declares any.
 */
export async function openMigratedDatabase(
  config: DatabaseConfig,
  logger: Logger,
  app: string,
  addon?: AddonMigrations,
): Promise<DatabaseHandle> {
  let handle: DatabaseHandle;
  try {
    handle = await openDatabase({
      url: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      poolMax: config.DATABASE_POOL_MAX,
      connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
      preparedStatements: config.DATABASE_PREPARED_STATEMENTS ?? true,
      poolMode: config.DATABASE_POOL_MODE ?? 'session',
      applicationName: `clockify-addon-${app}`,
      logger,
    });
    await handle.ping();
  } catch (err) {
    throw new StartupError(
      `cannot open the database (${(err as Error).message}). Check DATABASE_URL, or unset it to use the embedded PGlite database under DATA_DIR.`,
    );
  }
  if (config.MIGRATE_ON_START === false) {
    let pending: string[];
    try {
      pending = await pendingMigrations(handle.db, addon);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw new StartupError(`cannot read the database's migrations: ${(err as Error).message}`);
    }
    if (pending.length > 0) {
      await handle.close().catch(() => undefined);
      const shown = pending.slice(0, 5).join(', ') + (pending.length > 5 ? `, … (${pending.length} in all)` : '');
      throw new StartupError(
        `the database schema is behind this version: migrations pending (${shown}). MIGRATE_ON_START is false, so this process does not apply them: run the migration Job (infra/k8s/migrate-job.yaml) or \`npm run db:migrate\` first.`,
      );
    }
    logger.info(
      { database: handle.kind, location: handle.location },
      'database schema up to date (MIGRATE_ON_START=false)',
    );
    return handle;
  }
  try {
    const { applied } = await migrateToLatest(handle.db, addon);
    logger.info(
      { applied, database: handle.kind, location: handle.location },
      applied.length > 0 ? 'database migrated' : 'database schema up to date',
    );
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw new StartupError(`database migration failed: ${(err as Error).message}`);
  }
  return handle;
}

export interface KeyConfig {
  readonly TOKEN_ENCRYPTION_KEY?: string | undefined;
  readonly TOKEN_ENCRYPTION_PREVIOUS_KEYS: readonly string[];
  readonly DATA_DIR: string;
}

/** The token keyring; outside production a missing key is generated once into DATA_DIR. */
export function loadKeyring(config: KeyConfig, logger: Logger): Keyring {
  const resolved = resolveEncryptionKey({ configured: config.TOKEN_ENCRYPTION_KEY, dataDir: config.DATA_DIR });
  if (resolved.source !== 'environment') {
    logger.warn(
      { path: resolved.path, source: resolved.source },
      resolved.source === 'generated'
        ? 'TOKEN_ENCRYPTION_KEY is not set: generated a development key in DATA_DIR. Set TOKEN_ENCRYPTION_KEY in production.'
        : 'TOKEN_ENCRYPTION_KEY is not set: using the development key from DATA_DIR. Set TOKEN_ENCRYPTION_KEY in production.',
    );
  }
  return Keyring.fromBase64(resolved.key, config.TOKEN_ENCRYPTION_PREVIOUS_KEYS);
}
