import { runStandalone } from '@cap/app-process';
// The add-on this process runs: swap this line (and the dependency in package.json) for another.
import { addon } from '@cap/workspace-mirror';
import { workerEnv } from './config.js';
import { startWorker } from './start.js';

/** `node apps/worker/dist/main.js`: exactly one worker process. */
await runStandalone({
  app: 'worker',
  env: workerEnv,
  start: (config, logger) => startWorker({ config, logger, addon }),
});
