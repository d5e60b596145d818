import { DelayedError, Worker, type Job, type Telemetry } from 'bullmq';
import type { Redis } from 'ioredis';
import { secondsSince, type Logger, type Metrics } from '@cap/observability';
import type { QueueName } from '@cap/queue';
import { infrastructureBackoffMs, isInfrastructureError } from './infrastructure-errors.js';

export type Processor = (job: Job, token: string | undefined) => Promise<unknown>;

export interface ProcessorSpec {
  readonly queue: QueueName;
  readonly concurrency: number;
  /** Processes every job name of the queue (dispatch on `job.name` inside). */
  readonly process: Processor;
}

export interface RegistryOptions {
  readonly prefix: string;
  /** A new worker-style connection (maxRetriesPerRequest: null) per BullMQ Worker. */
  readonly connection: () => Redis;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  /** BullMQ's OpenTelemetry hook: each job's consumer span continues the producer's trace. */
  readonly telemetry?: Telemetry | undefined;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Called once a job failed for good (attempts exhausted, unrecoverable, stalled too often). */
  readonly onExhausted: (queue: QueueName, job: Job, error: Error) => Promise<void>;
  /**
   * First wait and cap of a job put back after an infrastructure error (Postgres or Redis away,
   * a deadlock): it waits, doubling up to the cap, for as long as the outage lasts, without
   * spending an attempt. Only errors of the job itself spend attempts.
   */
  readonly infraRetryBaseMs: number;
  readonly infraRetryMaxMs: number;
}

/**
 * Creates every BullMQ Worker of the process: concurrency per queue, lock and stall settings
 * from config, duration/outcome metrics around each processor, the failed/error/stalled
 * listeners, and one bounded close for shutdown.
 */
export class WorkerRegistry {
  private readonly workers: { queue: QueueName; worker: Worker; connection: Redis }[] = [];
  private readonly duration;
  private readonly jobs;
  private readonly stalled;
  private readonly infraDelays;
  /** Infrastructure waits per job id in this process (the backoff's exponent). */
  private readonly infraWaits = new Map<string, number>();

  constructor(private readonly opts: RegistryOptions) {
    // `job_name`, not `job`: Prometheus keeps `job` for the scrape job and would rename ours.
    this.duration = opts.metrics.histogram('worker_job_duration_seconds', 'Time spent processing a job', [
      'queue',
      'job_name',
      'outcome',
    ]);
    this.jobs = opts.metrics.counter('worker_jobs_total', 'Jobs processed by outcome', [
      'queue',
      'job_name',
      'outcome',
    ]);
    this.infraDelays = opts.metrics.counter(
      'worker_jobs_infrastructure_waits_total',
      'Jobs put back to wait after an infrastructure error (Postgres or Redis away, deadlock), no attempt spent',
      ['queue'],
    );
    this.stalled = opts.metrics.counter(
      'worker_stalled_jobs_total',
      'Jobs whose lock expired (worker died or blocked)',
      ['queue'],
    );
  }

  register(spec: ProcessorSpec): void {
    const { logger } = this.opts;
    const connection = this.opts.connection();
    const processor = async (job: Job, token?: string) => {
      const start = process.hrtime.bigint();
      let outcome = 'completed';
      try {
        return await spec.process(job, token);
      } catch (err) {
        // A job re-scheduled with moveToDelayed is neither a success nor a failure.
        outcome = err instanceof DelayedError ? 'delayed' : 'failed';
        if (outcome === 'failed' && isInfrastructureError(err) && (await this.waitOut(spec.queue, job, token, err))) {
          outcome = 'infrastructure';
          throw new DelayedError();
        }
        throw err;
      } finally {
        // The backoff's exponent lives only while the job keeps meeting infrastructure errors.
        if (outcome !== 'infrastructure' && job.id !== undefined) this.infraWaits.delete(job.id);
        const labels = { queue: spec.queue, job_name: job.name, outcome };
        this.duration.observe(labels, secondsSince(start));
        this.jobs.inc(labels);
      }
    };
    const worker = new Worker(spec.queue, processor, {
      connection,
      prefix: this.opts.prefix,
      concurrency: spec.concurrency,
      lockDuration: this.opts.lockDurationMs,
      stalledInterval: this.opts.stalledIntervalMs,
      maxStalledCount: this.opts.maxStalledCount,
      ...(this.opts.telemetry ? { telemetry: this.opts.telemetry } : {}),
      autorun: false,
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      const exhausted =
        job.attemptsMade >= attempts || err.name === 'UnrecoverableError' || /stalled more than/i.test(err.message);
      const log = { queue: spec.queue, job: job.name, jobId: job.id, attemptsMade: job.attemptsMade, attempts, err };
      if (!exhausted) {
        logger.warn(log, 'job failed; it will be retried');
        return;
      }
      logger.error(log, 'job failed for good; recording a dead letter');
      this.opts.onExhausted(spec.queue, job, err).catch((e: unknown) => {
        logger.error(
          { err: e, queue: spec.queue, jobId: job.id },
          'could not record the dead letter (the job stays in the failed set)',
        );
      });
    });
    worker.on('error', (err) => {
      logger.error({ err, queue: spec.queue }, 'worker error');
    });
    worker.on('stalled', (jobId) => {
      this.stalled.inc({ queue: spec.queue });
      logger.warn(
        { queue: spec.queue, jobId },
        'job stalled (its worker stopped renewing the lock); it will be retried',
      );
    });
    this.workers.push({ queue: spec.queue, worker, connection });
  }

  /**
   * Puts a job that met an infrastructure error back to wait, without spending an attempt.
   * False when that is not possible either (Redis is away too): the error then takes its usual
   * course, and BullMQ's own retry or stall handling brings the job back.
   */
  private async waitOut(queue: QueueName, job: Job, token: string | undefined, err: unknown): Promise<boolean> {
    if (token === undefined || job.id === undefined) return false;
    const waits = this.infraWaits.get(job.id) ?? 0;
    const delayMs = infrastructureBackoffMs(waits, this.opts.infraRetryBaseMs, this.opts.infraRetryMaxMs);
    try {
      await job.moveToDelayed(Date.now() + delayMs, token);
    } catch {
      return false;
    }
    this.infraWaits.set(job.id, waits + 1);
    if (this.infraWaits.size > 100_000) this.infraWaits.delete(this.infraWaits.keys().next().value!);
    this.infraDelays.inc({ queue });
    this.opts.logger.warn(
      { queue, job: job.name, jobId: job.id, delayMs, err: { message: (err as Error).message } },
      'a dependency is unavailable; the job waits without spending an attempt',
    );
    return true;
  }

  get queues(): QueueName[] {
    return this.workers.map((w) => w.queue);
  }

  start(): void {
    for (const { worker, queue } of this.workers) {
      worker.run().catch((err: unknown) => this.opts.logger.error({ err, queue }, 'worker stopped unexpectedly'));
    }
  }

  /** True when every worker's connection is ready (for /ready). */
  isConnected(): boolean {
    return this.workers.every((w) => w.connection.status === 'ready');
  }

  /**
   * Stops at once as a crash would: active jobs are abandoned without being acknowledged, and
   * their commands in flight are dropped with the connections; BullMQ hands them to another
   * worker once their locks expire. For crash tests; a normal stop is {@link close}.
   */
  async abort(): Promise<void> {
    for (const { connection } of this.workers) connection.disconnect(false);
    await Promise.all(this.workers.map(({ worker }) => worker.close(true).catch(() => undefined)));
  }

  /**
   * Stops taking jobs and waits for active ones (bounded by the process shutdown timer); then
   * closes the workers' connections.
   */
  async close(): Promise<void> {
    await Promise.all(this.workers.map(({ worker }) => worker.close()));
    await Promise.all(this.workers.map(({ connection }) => connection.quit().catch(() => connection.disconnect())));
  }
}
