import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Metrics } from '@cap/observability';

/** When the job next in line of one waiting set was added (ms since epoch), or undefined if none. */
async function headTimestamp(client: Redis, queue: Queue, set: 'wait' | 'prioritized'): Promise<number | undefined> {
  // BullMQ pushes waiting jobs on the left and takes them from the right; the prioritized set
  // serves its lowest score first. Only the id and the timestamp are read, never the payload.
  const ids =
    set === 'wait'
      ? await client.lrange(queue.toKey('wait'), -1, -1)
      : await client.zrange(queue.toKey('prioritized'), 0, 0);
  const id = ids[0];
  if (id === undefined) return undefined;
  const timestamp = await client.hget(queue.toKey(id), 'timestamp');
  return timestamp === null ? undefined : Number(timestamp);
}

/** A queue's jobs by state (`waiting` includes the prioritized set) and the wait of its next job. */
export interface QueueBacklog {
  readonly queue: string;
  readonly counts: Readonly<Record<'waiting' | 'active' | 'delayed' | 'failed', number>>;
  /** Seconds the job next in line has waited; 0 when none waits. */
  readonly oldestWaitingSeconds: number;
  readonly paused: boolean;
}

/** Reads one queue's backlog from Redis: counts by state and the wait of the job next in line. */
export async function queueBacklog(redis: Redis, queue: Queue, now: () => number = Date.now): Promise<QueueBacklog> {
  const [counts, heads, paused] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
    Promise.all([headTimestamp(redis, queue, 'wait'), headTimestamp(redis, queue, 'prioritized')]),
    queue.isPaused(),
  ]);
  const oldest = Math.min(...heads.filter((t): t is number => t !== undefined && Number.isFinite(t)));
  return {
    queue: queue.name,
    counts: {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
    },
    oldestWaitingSeconds: Number.isFinite(oldest) ? Math.max(0, (now() - oldest) / 1000) : 0,
    paused,
  };
}

/**
 * The backlog gauges every process exports, read from Redis when Prometheus scrapes:
 *
 * - `queue_jobs{queue,state}`: jobs per queue and state; `waiting` includes the prioritized set,
 *   where webhook jobs wait for their workspace's fair turn.
 * - `queue_oldest_waiting_seconds{queue}`: how long the job next in line has waited (the older of
 *   the heads of the waiting list and of the prioritized set), 0 when nothing waits: the number
 *   to page on and to scale workers by, since a backlog's size alone does not say how late it is.
 *
 * The ingress and the workers all export them (the workers need no ingress to scale), so rules
 * aggregate them with `max by (queue)`. `redis` is the process's producer connection (the keys are
 * read with it, through `queue.toKey`). When Redis does not answer, the last values stay; /ready
 * reports the outage.
 */
export function registerQueueGauges(
  metrics: Metrics,
  redis: Redis,
  queues: readonly Queue[],
  now: () => number = Date.now,
): void {
  // One read of Redis serves both gauges of a scrape.
  let reading: Promise<(QueueBacklog | undefined)[]> | undefined;
  const read = () =>
    (reading ??= Promise.all(queues.map((queue) => queueBacklog(redis, queue, now).catch(() => undefined))).finally(
      () => {
        reading = undefined;
      },
    ));
  metrics.gauge(
    'queue_jobs',
    'Jobs per queue and state (sampled at scrape time; waiting includes prioritized)',
    ['queue', 'state'],
    async function () {
      // Redis unreachable: a queue's last values stay.
      for (const backlog of await read()) {
        if (!backlog) continue;
        for (const [state, n] of Object.entries(backlog.counts)) this.set({ queue: backlog.queue, state }, n);
      }
    },
  );
  metrics.gauge(
    'queue_oldest_waiting_seconds',
    'Seconds the job next in line has waited, per queue (0 when none waits; sampled at scrape time)',
    ['queue'],
    async function () {
      for (const backlog of await read()) {
        if (backlog) this.set({ queue: backlog.queue }, backlog.oldestWaitingSeconds);
      }
    },
  );
}
