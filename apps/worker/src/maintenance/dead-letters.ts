import { openDeadLetterStats, recordDeadLetterIfAbsent } from '@cap/db';
import { deadLetterOf } from '@cap/operator-actions';
import { QUEUES, type QueueKey } from '@cap/queue';
import type { WorkerDeps } from '../deps.js';

export interface DeadLetterSweepReport {
  /** Failed jobs whose dead letter this sweep wrote (the worker could not, then). */
  readonly recorded: number;
  /** Failed jobs removed from Redis once their dead letter was safe in Postgres. */
  readonly removed: number;
}

const BATCH = 500;

/**
 * Makes every job that failed for good a durable dead letter. A worker writes the dead letter when
 * the job fails, but that write goes to the Postgres that may be down at that moment, and a worker
 * that dies between the failure and the write loses it. This sweep, every minute, writes what is
 * missing for the jobs in BullMQ's failed sets, then removes them from Redis, so Redis never
 * holds an unbounded failed set (in jobs or in bytes). Failed lifecycle jobs stay in Redis until
 * their age-based removal: a replayed INSTALLED takes its encrypted tokens from there (a dead
 * letter holds no token).
 */
export async function runDeadLetterSweep(deps: WorkerDeps): Promise<DeadLetterSweepReport> {
  let recorded = 0;
  let removed = 0;
  for (const key of Object.keys(QUEUES) as QueueKey[]) {
    const queue = deps.queues[key];
    let start = 0;
    for (;;) {
      const jobs = await queue.getJobs(['failed'], start, start + BATCH - 1, true);
      if (jobs.length === 0) break;
      let kept = 0;
      for (const job of jobs) {
        if (job.id === undefined) continue;
        const wrote = await recordDeadLetterIfAbsent(
          deps.db,
          deadLetterOf(queue.name, job, job.failedReason ?? 'failed (no reason recorded)'),
        );
        if (wrote) recorded++;
        if (queue.name === QUEUES.lifecycle) {
          kept++;
          continue;
        }
        await job.remove().catch(() => undefined);
        removed++;
      }
      // Removed jobs leave the set; kept ones (lifecycle) are skipped over.
      start += kept;
      if (jobs.length < BATCH) break;
    }
  }
  const stats = await openDeadLetterStats(deps.db);
  deps.metrics.gauge('dead_letters_open', 'Dead letters not replayed yet').set(stats.open);
  deps.metrics
    .gauge('dead_letters_oldest_age_seconds', 'Age of the oldest dead letter not replayed yet (0 when none)')
    .set(stats.oldestFailedAt ? Math.max(0, (deps.now().getTime() - stats.oldestFailedAt.getTime()) / 1000) : 0);
  if (recorded > 0) {
    deps.logger.warn({ recorded, removed }, 'dead letters recorded for failed jobs the workers could not record then');
  }
  return { recorded, removed };
}
