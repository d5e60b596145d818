import { BOOTSTRAP_JOBS, LIFECYCLE_JOBS, MAINTENANCE_JOBS, QUEUE_CONTRACTS, WEBHOOK_JOBS } from './jobs/index.js';

export { SCHEDULERS } from './jobs/index.js';

type Contracts = typeof QUEUE_CONTRACTS;

/** The queues by key; each is declared by its own module in `jobs/` (see `jobs/contract.ts`). */
export const QUEUES = {
  lifecycle: QUEUE_CONTRACTS.lifecycle.queue,
  webhooks: QUEUE_CONTRACTS.webhooks.queue,
  bootstrap: QUEUE_CONTRACTS.bootstrap.queue,
  maintenance: QUEUE_CONTRACTS.maintenance.queue,
} as const satisfies { [K in keyof Contracts]: Contracts[K]['queue'] };

export type QueueKey = keyof typeof QUEUES;
export type QueueName = (typeof QUEUES)[QueueKey];
export const QUEUE_NAMES: readonly QueueName[] = Object.values(QUEUES);

/** Every job name, by a short key. */
export const JOBS = { ...LIFECYCLE_JOBS, ...WEBHOOK_JOBS, ...BOOTSTRAP_JOBS, ...MAINTENANCE_JOBS } as const;

export type JobName = (typeof JOBS)[keyof typeof JOBS];

/** The job names one queue carries. */
export type JobsOf<Q extends QueueKey> = keyof Contracts[Q]['jobs'] & JobName;

/** Which queue carries which job, read from the contracts. */
export const JOB_QUEUE = Object.fromEntries(
  Object.values(QUEUE_CONTRACTS).flatMap((c) => Object.keys(c.jobs).map((job) => [job, c.queue])),
) as Readonly<Record<JobName, QueueName>>;
