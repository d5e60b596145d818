export * from './tables/index.js';
export * from './database.js';
export * from './migrate.js';
export * from './partitions.js';
export { PREPARED, PREPARED_MARK, MAX_PREPARED_PER_CONNECTION, prepareMarkedQueries } from './prepared.js';
export * from './repositories/index.js';
export { sql, type Kysely, type Migration, type Transaction } from 'kysely';
