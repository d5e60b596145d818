import type { Queue } from 'bullmq';
import type { Queues } from '@cap/queue';
import { OperationError } from './bootstrap.js';

/** The queue named `name`, or an OperationError listing the queues there are. */
export function findQueue(queues: Queues, name: string | undefined): Queue {
  const all = Object.values(queues) as Queue[];
  const queue = all.find((q) => q.name === name);
  if (!queue) {
    throw new OperationError(
      `${name === undefined ? 'a queue is needed' : `no queue named ${name}`}: ${all.map((q) => q.name).join(', ')}`,
      'not_found',
    );
  }
  return queue;
}

/**
 * Deletes every waiting and delayed job of a queue (a broken deploy's flood); active and failed
 * jobs, and the dead letters, stay. Returns how many of each were there just before.
 */
export async function drainQueue(queue: Queue): Promise<{ queue: string; waiting: number; delayed: number }> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed');
  await queue.drain(true);
  return {
    queue: queue.name,
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    delayed: counts.delayed ?? 0,
  };
}
