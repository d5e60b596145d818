import { JOBS, parsePayload, type JobName } from '@cap/queue';
import type { WorkerDeps } from '../deps.js';
import { defineQueue, type JobSpec } from '../runtime/catalog.js';
import { runDeadLetterSweep } from './dead-letters.js';
import { runPurge, runReconcile, runRetention } from './jobs.js';
import { runWebhookHealth } from './webhook-health.js';

/** A scheduled job: its payload carries nothing but the version, checked before the run. */
function scheduled(name: JobName, run: (deps: WorkerDeps) => Promise<unknown>): JobSpec {
  return {
    process: async (deps, job) => {
      parsePayload(name, job.data);
      return run(deps);
    },
  };
}

/** The maintenance queue: the scheduled jobs and the purge of an uninstalled installation. */
export const maintenanceQueue = defineQueue({
  queue: 'maintenance',
  concurrency: (config) => config.WORKER_CONCURRENCY_MAINTENANCE,
  jobs: {
    [JOBS.retention]: scheduled(JOBS.retention, runRetention),
    [JOBS.reconcile]: scheduled(JOBS.reconcile, runReconcile),
    [JOBS.purgeInstallation]: { process: (deps, job) => runPurge(deps, job) },
    [JOBS.webhookHealth]: scheduled(JOBS.webhookHealth, runWebhookHealth),
    [JOBS.deadLetterSweep]: scheduled(JOBS.deadLetterSweep, runDeadLetterSweep),
  },
});
