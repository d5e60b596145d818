import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CompiledQuery, Kysely, PostgresDialect, type Driver, type PostgresDialectConfig } from 'kysely';
import pg from 'pg';
import type { Database } from './tables/index.js';
import { prepareMarkedQueries } from './prepared.js';

export interface DbLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface DatabaseOptions {
  /** Postgres URL; unset → embedded PGlite under `dataDir`. */
  readonly url?: string | undefined;
  readonly dataDir: string;
  readonly poolMax?: number;
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
  readonly applicationName?: string;
  /** Marked hot-path queries as named prepared statements (see prepared.ts); default true. */
  readonly preparedStatements?: boolean;
  /**
   * `session` (default): a connection is ours for its life, so the statement timeout is a
   * startup parameter. `transaction`: behind a pooler in transaction mode (PgBouncer), which
   * refuses startup parameters it does not track and hands a server connection to another client
   * after each transaction: the timeout is set at the start of each transaction (`SET LOCAL`),
   * and prepared statements are off.
   */
  readonly poolMode?: 'session' | 'transaction';
  readonly logger?: DbLogger;
}

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly kind: 'postgres' | 'pglite';
  /** Where the data lives, without credentials (for the start-up log line). */
  readonly location: string;
  /** Cheap liveness probe for /ready. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// int8 (bigint, count(*)) as a JS number: every value we keep there (sequences, counts) is far
// below 2^53.
const INT8_OID = 20;
const parseInt8 = (value: string): number => Number(value);

export async function openDatabase(opts: DatabaseOptions): Promise<DatabaseHandle> {
  return opts.url ? openPostgres(opts, opts.url) : openPglite(opts);
}

/**
 * Postgres through a pooler in transaction mode: every transaction starts with
 * `SET LOCAL statement_timeout`, which ends with it, so it never leaks to the pooler's next client.
 */
class PerTransactionTimeoutDialect extends PostgresDialect {
  constructor(
    config: PostgresDialectConfig,
    private readonly statementTimeoutMs: number,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const begin = driver.beginTransaction.bind(driver);
    const timeout = CompiledQuery.raw(`SET LOCAL statement_timeout = ${Math.trunc(this.statementTimeoutMs)}`);
    driver.beginTransaction = async (connection, settings) => {
      await begin(connection, settings);
      await connection.executeQuery(timeout);
    };
    return driver;
  }
}

function openPostgres(opts: DatabaseOptions, url: string): DatabaseHandle {
  const statementTimeoutMs = opts.statementTimeoutMs ?? 30_000;
  const transactionPooled = opts.poolMode === 'transaction';
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolMax ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    ...(transactionPooled ? {} : { statement_timeout: statementTimeoutMs }),
    application_name: opts.applicationName ?? 'clockify-addon',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // A connection that dies while idle in the pool (server restart, network cut) is reported here;
  // without a listener the error would crash the process. The pool replaces it on next use.
  pool.on('error', (err) => {
    opts.logger?.warn(
      { err: { message: err.message, code: (err as { code?: string }).code } },
      'idle Postgres connection failed; it will be replaced',
    );
  });
  pool.on('connect', (client) => {
    if (opts.preparedStatements !== false && !transactionPooled) {
      prepareMarkedQueries(client as unknown as Parameters<typeof prepareMarkedQueries>[0]);
    }
    client.on('error', () => {
      // Reported through the pool's 'error' event or the failing query; never unhandled.
    });
  });
  const db = new Kysely<Database>({
    dialect: transactionPooled
      ? new PerTransactionTimeoutDialect({ pool }, statementTimeoutMs)
      : new PostgresDialect({ pool }),
  });
  const u = new URL(url);
  return {
    db,
    kind: 'postgres',
    location: `postgres://${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`,
    async ping() {
      const client = await pool.connect();
      try {
        await client.query('SELECT 1');
      } finally {
        client.release();
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openPglite(opts: DatabaseOptions): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite').catch((err: unknown) => {
    // An optional peer dependency: the production images leave it out, as they run on Postgres.
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(
        'DATABASE_URL is not set and the embedded database (@electric-sql/pglite) is not installed here: set DATABASE_URL to a Postgres database, or install @electric-sql/pglite for local runs',
        { cause: err },
      );
    }
    throw err;
  });
  const { PGliteDialect } = await import('./pglite-dialect.js');
  const dir = join(opts.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const client = await PGlite.create({ dataDir: dir, parsers: { [INT8_OID]: parseInt8 } });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  return {
    db,
    kind: 'pglite',
    location: dir,
    async ping() {
      await client.query('SELECT 1');
    },
    async close() {
      await db.destroy();
    },
  };
}
