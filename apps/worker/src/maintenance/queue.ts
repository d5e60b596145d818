import { JOBS, QUEUES, parsePayload } from '@cap/queue';
import { defineQueue } from '../runtime/catalog.js';
import { runDeadLetterSweep } from './dead-letters.js';
import { runPurge, runReconcile, runRetention } from './jobs.js';
import { runWebhookHealth } from './webhook-health.js';

/** The maintenance queue: the scheduled jobs and the purge of an uninstalled installation. */
export const maintenanceQueue = defineQueue({
  queue: QUEUES.maintenance,
  concurrency: (config) => config.WORKER_CONCURRENCY_MAINTENANCE,
  jobs: {
    [JOBS.retention]: {
      process: async (deps, job) => {
        parsePayload(JOBS.retention, job.data);
        return runRetention(deps);
      },
    },
    [JOBS.reconcile]: {
      process: async (deps, job) => {
        parsePayload(JOBS.reconcile, job.data);
        return runReconcile(deps);
      },
    },
    [JOBS.purgeInstallation]: { process: (deps, job) => runPurge(deps, job) },
    [JOBS.webhookHealth]: {
      process: async (deps, job) => {
        parsePayload(JOBS.webhookHealth, job.data);
        return runWebhookHealth(deps);
      },
    },
    [JOBS.deadLetterSweep]: {
      process: async (deps, job) => {
        parsePayload(JOBS.deadLetterSweep, job.data);
        return runDeadLetterSweep(deps);
      },
    },
  },
});
