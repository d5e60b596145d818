import type { Queue } from 'bullmq';
import type { Logger } from '@cap/observability';

/**
 * Samples the backlog of the webhook queue in the background, so load shedding costs the hot path
 * nothing: waiting jobs and delayed ones (retries and jobs waiting for their installation are
 * work still to do, not work done). When Redis does not answer, the last value is kept (the add
 * fails anyway).
 */
export class DepthSampler {
  private depth = 0;
  private timer: NodeJS.Timeout | undefined;
  private inflight = false;

  constructor(
    private readonly queue: Queue,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  get current(): number {
    return this.depth;
  }

  start(): void {
    const tick = () => {
      if (this.inflight) return;
      this.inflight = true;
      this.queue
        .getJobCounts('waiting', 'delayed', 'prioritized')
        .then((counts) => {
          this.depth = Object.values(counts).reduce((sum, n) => sum + n, 0);
        })
        .catch((err: unknown) => this.logger.debug({ err }, 'could not sample the webhook queue depth'))
        .finally(() => {
          this.inflight = false;
        });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
