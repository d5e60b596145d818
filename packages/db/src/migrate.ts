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

/** One set of migrations: the platform's, or an add-on's with its own table and named `<key>:`. */
interface MigrationSet {
  readonly list: Readonly<Record<string, Migration>>;
  readonly table?: string;
  readonly label: (name: string) => string;
}

/** The sets in the order they apply: the platform's, then the add-on's own when it has any. */
function migrationSets(addon?: AddonMigrations): MigrationSet[] {
  const sets: MigrationSet[] = [{ list: migrations, label: (name) => name }];
  if (addon?.migrations && Object.keys(addon.migrations).length > 0) {
    sets.push({
      list: addon.migrations,
      table: addonMigrationTable(addon.key),
      label: (name) => `${addon.key}:${name}`,
    });
  }
  return sets;
}

/**
 * Applies every pending migration: the platform's, then the add-on's own (`addon`), whose names
 * are reported as `<key>:<name>`. Kysely's Migrator takes a Postgres advisory lock, so several
 * instances starting at once apply each migration exactly once.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations work on any schema
export async function migrateToLatest(db: Kysely<any>, addon?: AddonMigrations): Promise<{ applied: string[] }> {
  const applied: string[] = [];
  for (const set of migrationSets(addon)) {
    applied.push(...(await run(db, set.list, set.table)).map(set.label));
  }
  return { applied };
}

/**
 * The migrations not applied yet, the platform's then the add-on's (`<key>:<name>`), without
 * applying any: what a process started with MIGRATE_ON_START=false checks.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations work on any schema
export async function pendingMigrations(db: Kysely<any>, addon?: AddonMigrations): Promise<string[]> {
  const pending: string[] = [];
  for (const set of migrationSets(addon)) {
    const known = await migrator(db, set.list, set.table).getMigrations();
    pending.push(...known.filter((m) => m.executedAt === undefined).map((m) => set.label(m.name)));
  }
  return pending;
}
