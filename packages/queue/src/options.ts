import type { DefaultJobOptions } from 'bullmq';
import type { QueueName } from './names.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * Default job options per queue: retries with exponential backoff and jitter, a bounded number
 * of completed jobs kept for Bull Board, failed jobs kept much longer for investigation (their
 * payloads also land in `dead_letters`).
 */
export const DEFAULT_JOB_OPTIONS: Readonly<Record<QueueName, DefaultJobOptions>> = {
  lifecycle: {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    removeOnComplete: { age: DAY, count: 10_000 },
    removeOnFail: { age: 30 * DAY, count: 100_000 },
  },
  webhooks: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
    removeOnComplete: { age: HOUR, count: 5_000 },
    removeOnFail: { age: 14 * DAY, count: 100_000 },
  },
  bootstrap: {
    attempts: 12,
    backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
    removeOnComplete: { age: DAY, count: 5_000 },
    removeOnFail: { age: 30 * DAY, count: 50_000 },
  },
  maintenance: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 10_000, jitter: 0.5 },
    removeOnComplete: { age: 7 * DAY, count: 1_000 },
    removeOnFail: { age: 30 * DAY, count: 10_000 },
  },
};
