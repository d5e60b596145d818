import { JOBS } from '@cap/queue';
import { defineQueue } from '../runtime/catalog.js';
import { processWebhook } from './process.js';

/** The webhook queue: one job per accepted delivery. */
export const webhooksQueue = defineQueue({
  queue: 'webhooks',
  concurrency: (config) => config.WORKER_CONCURRENCY_WEBHOOKS,
  jobs: {
    [JOBS.webhookProcess]: { process: processWebhook },
  },
});
