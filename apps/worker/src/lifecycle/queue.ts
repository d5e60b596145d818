import { JOBS } from '@cap/queue';
import { defineQueue, type JobSpec } from '../runtime/catalog.js';
import { processLifecycle } from './apply.js';
import { processLoadSettings } from './load-settings.js';

const apply: JobSpec = { process: processLifecycle };

/** The lifecycle queue: Clockify's four lifecycle events, and reading the settings after an install. */
export const lifecycleQueue = defineQueue({
  queue: 'lifecycle',
  concurrency: (config) => config.WORKER_CONCURRENCY_LIFECYCLE,
  jobs: {
    [JOBS.lifecycleInstalled]: apply,
    [JOBS.lifecycleDeleted]: apply,
    [JOBS.lifecycleSettingsUpdated]: apply,
    [JOBS.lifecycleStatusChanged]: apply,
    [JOBS.lifecycleLoadSettings]: { process: processLoadSettings },
  },
});
