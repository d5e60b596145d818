import type { Migration } from 'kysely';
import * as initial from './20261128T090000_initial.js';

/**
 * Every migration, by sortable timestamp name. Listed statically (not read from the file system)
 * so the same list works from sources, from dist and inside a bundled image.
 */
export const migrations: Record<string, Migration> = {
  '20261128T090000_initial': initial,
};
