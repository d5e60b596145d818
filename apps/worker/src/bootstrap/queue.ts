import { JOBS } from '@cap/queue';
import { defineQueue } from '../runtime/catalog.js';
import { failResourceOfExhaustedJob, processBootstrapResource } from './resource.js';
import { failRunOfExhaustedStart, processBootstrapStart } from './start.js';

/**
 * The bootstrap queue: a run's start and its resource jobs. A job that fails for good ends its
 * part of the run, so the run never stays active for ever.
 */
export const bootstrapQueue = defineQueue({
  queue: 'bootstrap',
  concurrency: (config) => config.WORKER_CONCURRENCY_BOOTSTRAP,
  jobs: {
    [JOBS.bootstrapStart]: {
      process: (deps, job) => processBootstrapStart(deps, job),
      onExhausted: failRunOfExhaustedStart,
    },
    [JOBS.bootstrapResource]: { process: processBootstrapResource, onExhausted: failResourceOfExhaustedJob },
  },
});
