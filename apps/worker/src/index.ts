export { workerEnv, workerVars, type WorkerConfig } from './config.js';
export { startWorker, type RunningWorker, type StartWorkerOptions } from './start.js';
export type { WorkerDeps } from './deps.js';
export { RESOURCES, RESOURCE_NAMES, resourcesFor } from './bootstrap/resources.js';
