import type { DefaultJobOptions } from 'bullmq';
import { QUEUE_CONTRACTS } from './jobs/index.js';
import type { QueueName } from './names.js';

/**
 * Default job options per queue, as each queue's contract declares them: retries with exponential
 * backoff and jitter, a bounded number of completed jobs kept for Bull Board, failed jobs kept much
 * longer for investigation (their payloads also land in `dead_letters`).
 */
export const DEFAULT_JOB_OPTIONS = Object.fromEntries(
  Object.values(QUEUE_CONTRACTS).map((c) => [c.queue, c.defaults]),
) as Readonly<Record<QueueName, DefaultJobOptions>>;
