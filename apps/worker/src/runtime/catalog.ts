import type { Job } from 'bullmq';
import { JOB_QUEUE, type JobName, type QueueName } from '@cap/queue';
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
 * One queue's jobs, declared by the domain folder that owns them (`webhooks/queue.ts`, …): the
 * worker registers every queue of the catalog (`src/catalog.ts`) and dispatches on the job name.
 * The contract half of each job (name, payload schema, default options) is `@cap/queue`'s,
 * shared with the ingress and the CLI, which enqueue through it.
 */
export interface QueueSpec {
  readonly queue: QueueName;
  readonly concurrency: (config: WorkerConfig) => number;
  readonly jobs: { readonly [N in JobName]?: JobSpec };
}

/** Checks at load time that every job declared belongs to the queue (`JOB_QUEUE`). */
export function defineQueue(spec: QueueSpec): QueueSpec {
  for (const name of Object.keys(spec.jobs) as JobName[]) {
    if (JOB_QUEUE[name] !== spec.queue) {
      throw new Error(`job ${name} belongs to queue ${JOB_QUEUE[name]}, not ${spec.queue}`);
    }
  }
  return spec;
}

/** The job's spec in its queue, or undefined for a name the queue does not declare. */
export function jobSpecOf(spec: QueueSpec, name: string): JobSpec | undefined {
  return Object.hasOwn(spec.jobs, name) ? spec.jobs[name as JobName] : undefined;
}
