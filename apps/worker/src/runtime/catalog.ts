import type { Job } from 'bullmq';
import { QUEUE_CONTRACTS, type JobName, type JobsOf, type QueueKey, type QueueName } from '@cap/queue';
import type { WorkerConfig } from '../config.js';
import type { WorkerDeps } from '../deps.js';

/** What the worker does with one job name. */
export interface JobSpec {
  readonly process: (deps: WorkerDeps, job: Job, token: string | undefined) => Promise<unknown>;
  /**
   * Runs once the job failed for good, after its dead letter is written: e.g. a bootstrap job
   * ends its part of the run, so the run does not stay active for ever.
   */
  readonly onExhausted?: (deps: WorkerDeps, job: Job, error: Error) => Promise<void>;
}

/**
 * One queue as the worker runs it: its contract (`@cap/queue`'s `jobs/<queue>.ts`: the job names,
 * payload schemas and default options, shared with the ingress and the CLI, which enqueue through
 * it) bound to what the worker does with each job. Declared by the domain folder that owns the
 * jobs (`webhooks/queue.ts`, …); the worker registers every queue of the catalog (`src/catalog.ts`)
 * and dispatches on the job name.
 */
export interface QueueSpec {
  readonly queue: QueueName;
  readonly concurrency: (config: WorkerConfig) => number;
  readonly jobs: { readonly [N in JobName]?: JobSpec };
}

/**
 * Binds a processor (and, where one is needed, an exhaustion handler) to every job of the queue's
 * contract: a job the contract declares and the worker does not handle is a type error.
 */
export function defineQueue<Q extends QueueKey>(spec: {
  readonly queue: Q;
  readonly concurrency: (config: WorkerConfig) => number;
  readonly jobs: { readonly [N in JobsOf<Q>]: JobSpec };
}): QueueSpec {
  const declared = Object.keys(QUEUE_CONTRACTS[spec.queue].jobs).sort();
  const bound = Object.keys(spec.jobs).sort();
  if (declared.join() !== bound.join()) {
    throw new Error(
      `queue ${spec.queue} declares jobs ${declared.join(', ')} but the worker binds ${bound.join(', ')}`,
    );
  }
  return { queue: QUEUE_CONTRACTS[spec.queue].queue, concurrency: spec.concurrency, jobs: spec.jobs };
}

/** The job's spec in its queue, or undefined for a name the queue does not declare. */
export function jobSpecOf(spec: QueueSpec, name: string): JobSpec | undefined {
  return Object.hasOwn(spec.jobs, name) ? spec.jobs[name as JobName] : undefined;
}
