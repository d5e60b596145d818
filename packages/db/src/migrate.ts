import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import { migrations } from './migrations/index.js';

/**
 * An add-on's own schema: its migrations (Kysely `Migration`s, applied in the order of their
 * names) and the add-on key, which names the table that records which of them ran
 * (`addon_migrations_<key>`), apart from the platform's own.
 */
export interface AddonMigrations {
  readonly key: string;
  readonly migrations?: Readonly<Record<string, Migration>>;
}

/** The table an add-on's applied migrations are recorded in: `addon_migrations_<key>`, an identifier. */
export function addonMigrationTable(key: string): string {
  const name = `addon_migrations_${key.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  // Postgres truncates identifiers at 63 bytes; a silently truncated name could collide.
  if (name.length > 58) throw new Error(`add-on key ${key} is too long to name its migration table`);
  return name;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations work on any schema
function migrator(db: Kysely<any>, list: Readonly<Record<string, Migration>>, table?: string): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...list }) },
    ...(table ? { migrationTableName: table, migrationLockTableName: `${table}_lock` } : {}),
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations work on any schema
async function run(db: Kysely<any>, list: Readonly<Record<string, Migration>>, table?: string): Promise<string[]> {
  const result: MigrationResultSet = await migrator(db, list, table).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    const cause = result.error instanceof Error ? result.error : new Error(String(result.error));
    throw new Error(`migration ${failed ?? '(unknown)'} failed: ${cause.message}`, { cause });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Applies every pending migration: the platform's, then the add-on's own (`addon`), whose names
 * are reported as `<key>:<name>`. Kysely's Migrator takes a Postgres advisory lock, so several
 * instances starting at once apply each migration exactly once.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations work on any schema
export async function migrateToLatest(db: Kysely<any>, addon?: AddonMigrations): Promise<{ applied: string[] }> {
  const applied = await run(db, migrations);
  if (addon?.migrations && Object.keys(addon.migrations).length > 0) {
    const own = await run(db, addon.migrations, addonMigrationTable(addon.key));
    applied.push(...own.map((name) => `${addon.key}:${name}`));
  }
  return { applied };
}

/**
 * The migrations not applied yet, the platform's then the add-on's (`<key>:<name>`), without
 * applying any: what a process started with MIGRATE_ON_START=false checks.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations work on any schema
export async function pendingMigrations(db: Kysely<any>, addon?: AddonMigrations): Promise<string[]> {
  const pending = (await migrator(db, migrations).getMigrations())
    .filter((m) => m.executedAt === undefined)
    .map((m) => m.name);
  if (addon?.migrations && Object.keys(addon.migrations).length > 0) {
    const own = await migrator(db, addon.migrations, addonMigrationTable(addon.key)).getMigrations();
    pending.push(...own.filter((m) => m.executedAt === undefined).map((m) => `${addon.key}:${m.name}`));
  }
  return pending;
}
