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
  metrics.gauge(
    'queue_jobs',
    'Jobs per queue and state (sampled at scrape time; waiting includes prioritized)',
    ['queue', 'state'],
    async function () {
      await Promise.all(
        queues.map(async (queue) => {
          try {
            const {
              waiting = 0,
              prioritized = 0,
              ...rest
            } = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
            this.set({ queue: queue.name, state: 'waiting' }, waiting + prioritized);
            for (const [state, n] of Object.entries(rest)) this.set({ queue: queue.name, state }, n);
          } catch {
            // Redis unreachable: keep the last values.
          }
        }),
      );
    },
  );
  metrics.gauge(
    'queue_oldest_waiting_seconds',
    'Seconds the job next in line has waited, per queue (0 when none waits; sampled at scrape time)',
    ['queue'],
    async function () {
      await Promise.all(
        queues.map(async (queue) => {
          try {
            const heads = await Promise.all([
              headTimestamp(redis, queue, 'wait'),
              headTimestamp(redis, queue, 'prioritized'),
            ]);
            const oldest = Math.min(...heads.filter((t): t is number => t !== undefined && Number.isFinite(t)));
            this.set({ queue: queue.name }, Number.isFinite(oldest) ? Math.max(0, (now() - oldest) / 1000) : 0);
          } catch {
            // Redis unreachable: keep the last value.
          }
        }),
      );
    },
  );
}
