import { runStandalone } from '@cap/service';
import { workerEnv } from './config.js';
import { startWorker } from './start.js';

/** `node apps/worker/dist/main.js`: exactly one worker process. */
await runStandalone({ app: 'worker', env: workerEnv, start: (config, logger) => startWorker({ config, logger }) });
