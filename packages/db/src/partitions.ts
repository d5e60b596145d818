import { sql, type Kysely } from 'kysely';
import type { Database } from './tables/index.js';

/**
 * Day partitions of `webhook_events` (range on window_start, UTC days). They are created ahead
 * of time by the maintenance job and on demand before an insert, and dropped whole by retention.
 */

const DAY_MS = 86_400_000;
const NAME = /^webhook_events_p(\d{4})(\d{2})(\d{2})$/;

export function utcDay(date: Date): Date {
  return new Date(Math.floor(date.getTime() / DAY_MS) * DAY_MS);
}

// The last day asked for: every delivery asks, and nearly all of them for the same day.
let lastDay = NaN;
let lastName = '';

export function partitionName(day: Date): string {
  const dayNumber = Math.floor(day.getTime() / DAY_MS);
  if (dayNumber !== lastDay) {
    lastName = `webhook_events_p${new Date(dayNumber * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '')}`;
    lastDay = dayNumber;
  }
  return lastName;
}

const known = new WeakMap<object, Set<string>>();

/** Creates the partition holding `at` unless this process already knows it exists. */
export async function ensureWebhookEventPartition(db: Kysely<Database>, at: Date): Promise<void> {
  const name = partitionName(at);
  let seen = known.get(db);
  if (!seen) known.set(db, (seen = new Set()));
  if (seen.has(name)) return;
  await createPartition(db, utcDay(at));
  seen.add(name);
}

/** Creates the partitions for `days` days starting at the day of `from`. */
export async function ensureWebhookEventPartitions(db: Kysely<Database>, from: Date, days: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < days; i++) {
    const day = new Date(utcDay(from).getTime() + i * DAY_MS);
    await ensureWebhookEventPartition(db, day);
    names.push(partitionName(day));
  }
  return names;
}

async function createPartition(db: Kysely<Database>, day: Date): Promise<void> {
  const name = partitionName(day);
  const from = day.toISOString();
  const to = new Date(day.getTime() + DAY_MS).toISOString();
  try {
    await sql`CREATE TABLE IF NOT EXISTS ${sql.table(name)} PARTITION OF webhook_events
      FOR VALUES FROM (${sql.lit(from)}) TO (${sql.lit(to)})`.execute(db);
  } catch (err) {
    // Two processes creating the same partition at once: the loser sees a duplicate in the
    // catalog even with IF NOT EXISTS. The partition exists, which is all we wanted.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P07') throw err;
  }
}

export async function listWebhookEventPartitions(db: Kysely<Database>): Promise<{ name: string; day: Date }[]> {
  const result = await sql<{ name: string }>`
    SELECT c.relname AS name
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'webhook_events'::regclass
    ORDER BY c.relname`.execute(db);
  return result.rows.flatMap(({ name }) => {
    const m = NAME.exec(name);
    return m ? [{ name, day: new Date(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`) }] : [];
  });
}

/** Drops partitions whose whole day lies before `cutoff`; returns their names and row counts. */
export async function dropWebhookEventPartitionsBefore(
  db: Kysely<Database>,
  cutoff: Date,
): Promise<{ name: string; rows: number }[]> {
  const dropped: { name: string; rows: number }[] = [];
  for (const { name, day } of await listWebhookEventPartitions(db)) {
    if (day.getTime() + DAY_MS > cutoff.getTime()) continue;
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(name)}`.execute(db);
    await sql`DROP TABLE IF EXISTS ${sql.table(name)}`.execute(db);
    known.get(db)?.delete(name);
    dropped.push({ name, rows: count.rows[0]?.n ?? 0 });
  }
  return dropped;
}
