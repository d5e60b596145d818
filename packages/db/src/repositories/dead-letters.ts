import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, DeadLetter } from '../tables/index.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewDeadLetter {
  readonly queue: string;
  readonly jobName: string;
  readonly jobId: string;
  readonly workspaceId: string | null;
  /** Job data with every token field (even encrypted) removed. */
  readonly payload: Record<string, unknown>;
  readonly error: string;
  readonly attempts: number;
}

function deadLetterRow(letter: NewDeadLetter) {
  return {
    queue: letter.queue,
    job_name: letter.jobName,
    job_id: letter.jobId,
    workspace_id: letter.workspaceId,
    payload: JSON.stringify(letter.payload),
    error: letter.error.slice(0, 4000),
    attempts: letter.attempts,
  };
}

/** Records an exhausted job once (keyed by queue and job id). */
export async function recordDeadLetter(db: Db, letter: NewDeadLetter): Promise<void> {
  await db
    .insertInto('dead_letters')
    .values(deadLetterRow(letter))
    .onConflict((oc) =>
      oc
        .columns(['queue', 'job_id'])
        .doUpdateSet({ error: letter.error.slice(0, 4000), attempts: letter.attempts, failed_at: sql`now()` }),
    )
    .execute();
}

/**
 * Records an exhausted job unless it is recorded already (the sweeper's write: a job the worker
 * failed while Postgres was away). True when this call wrote it.
 */
export async function recordDeadLetterIfAbsent(db: Db, letter: NewDeadLetter): Promise<boolean> {
  const row = await db
    .insertInto('dead_letters')
    .values(deadLetterRow(letter))
    .onConflict((oc) => oc.columns(['queue', 'job_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Dead letters not replayed yet: how many, and when the oldest failed. */
export async function openDeadLetterStats(db: Db): Promise<{ open: number; oldestFailedAt: Date | null }> {
  const row = await db
    .selectFrom('dead_letters')
    .select((eb) => [eb.fn.countAll<number>().as('open'), eb.fn.min('failed_at').as('oldest')])
    .where('replayed_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { open: Number(row.open), oldestFailedAt: row.oldest === null ? null : new Date(row.oldest as Date) };
}

export async function listDeadLetters(
  db: Db,
  opts: { includeReplayed?: boolean; workspaceId?: string; limit?: number; offset?: number } = {},
): Promise<DeadLetter[]> {
  let q = db.selectFrom('dead_letters').selectAll();
  if (!opts.includeReplayed) q = q.where('replayed_at', 'is', null);
  if (opts.workspaceId) q = q.where('workspace_id', '=', opts.workspaceId);
  return q
    .orderBy('failed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(opts.limit ?? 100, 1000))
    .offset(opts.offset ?? 0)
    .execute();
}

export async function getDeadLetter(db: Db, id: number): Promise<DeadLetter | undefined> {
  return db.selectFrom('dead_letters').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Marks a dead letter replayed; false when it was replayed already (by a concurrent call). */
export async function markDeadLetterReplayed(db: Db, id: number, replayJobId: string): Promise<boolean> {
  const result = await db
    .updateTable('dead_letters')
    .set({ replayed_at: sql`now()`, replay_job_id: replayJobId })
    .where('id', '=', id)
    .where('replayed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Undoes markDeadLetterReplayed when the replay job could not be queued (only that replay's mark). */
export async function undoDeadLetterReplay(db: Db, id: number, replayJobId: string): Promise<void> {
  await db
    .updateTable('dead_letters')
    .set({ replayed_at: null, replay_job_id: null })
    .where('id', '=', id)
    .where('replay_job_id', '=', replayJobId)
    .execute();
}

/** Retention: drops dead letters that failed before `cutoff`. */
export async function deleteDeadLettersBefore(db: Db, cutoff: Date): Promise<number> {
  const result = await db.deleteFrom('dead_letters').where('failed_at', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}
