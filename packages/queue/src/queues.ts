import { Queue, type DefaultJobOptions, type JobsOptions, type Telemetry } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { DEFAULT_JOB_OPTIONS } from './options.js';
import { JOB_QUEUE, QUEUES, type JobName, type QueueKey, type QueueName } from './names.js';
import { LIFECYCLE_JOB, parsePayload, type JobPayload, type LifecyclePayload } from './payloads.js';

export type Queues = Readonly<Record<QueueKey, Queue>>;

export interface RetryPolicy {
  readonly webhookAttempts?: number;
  readonly webhookBackoffMs?: number;
  /** BullMQ's OpenTelemetry hook (see {@link bullmqTelemetry}); unset: no spans, no overhead. */
  readonly telemetry?: Telemetry | undefined;
}

/**
 * BullMQ's OpenTelemetry integration (bullmq-otel) when tracing is on: a producer span for each
 * add, whose context travels in the job's options, and a consumer span for each job that
 * continues that trace in the worker. Undefined when off, so BullMQ does no tracing work.
 */
export function bullmqTelemetry(tracing: boolean): Telemetry | undefined {
  return tracing ? new BullMQOtel({ tracerName: 'bullmq' }) : undefined;
}

/** The default job options of each queue, with the configured webhook retry policy applied. */
export function jobOptionsFor(name: QueueName, policy: RetryPolicy = {}): DefaultJobOptions {
  const defaults = DEFAULT_JOB_OPTIONS[name];
  if (name !== 'webhooks') return defaults;
  return {
    ...defaults,
    ...(policy.webhookAttempts !== undefined ? { attempts: policy.webhookAttempts } : {}),
    ...(policy.webhookBackoffMs !== undefined
      ? { backoff: { type: 'exponential', delay: policy.webhookBackoffMs, jitter: 0.5 } }
      : {}),
  };
}

/** One BullMQ Queue per queue name, sharing a connection, with the per-queue defaults. */
export function createQueues(connection: Redis, prefix: string, policy: RetryPolicy = {}): Queues {
  const make = (name: QueueName) =>
    new Queue(name, {
      connection,
      prefix,
      defaultJobOptions: jobOptionsFor(name, policy),
      ...(policy.telemetry ? { telemetry: policy.telemetry } : {}),
    });
  return {
    lifecycle: make(QUEUES.lifecycle),
    webhooks: make(QUEUES.webhooks),
    bootstrap: make(QUEUES.bootstrap),
    maintenance: make(QUEUES.maintenance),
  };
}

export function queueFor(queues: Queues, job: JobName): Queue {
  const name = JOB_QUEUE[job];
  const key = (Object.keys(QUEUES) as QueueKey[]).find((k) => QUEUES[k] === name)!;
  return queues[key];
}

/**
 * Adds a job after validating its payload against the job's schema, with a random id unless
 * one is given (BullMQ ignores an `add` whose id already exists, so ids are never reused for
 * dedupe).
 */
export async function enqueue<N extends JobName>(
  queues: Queues,
  name: N,
  payload: JobPayload<N>,
  opts: JobsOptions = {},
): Promise<string> {
  const data = parsePayload(name, payload);
  const job = await queueFor(queues, name).add(name, data, { ...opts, jobId: opts.jobId ?? randomUUID() });
  return job.id!;
}

/** Adds a lifecycle event's job, named by the event's type; validated like any other. */
export function enqueueLifecycle(queues: Queues, payload: LifecyclePayload, opts: JobsOptions = {}): Promise<string> {
  // The union of the four payloads is checked against the one schema its type names.
  return enqueue(queues, LIFECYCLE_JOB[payload.type], payload as never, opts);
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.allSettled(Object.values(queues).map((q) => q.close()));
}
