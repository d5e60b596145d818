export * from './tables/index.js';
export * from './database.js';
export * from './migrate.js';
export * from './partitions.js';
export * from './repositories/index.js';
export { sql, type Kysely, type Transaction } from 'kysely';
