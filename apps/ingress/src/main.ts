import { runStandalone } from '@cap/app-process';
// The add-on this process runs: swap this line (and the dependency in package.json) for another.
import { addon } from '@cap/workspace-mirror';
import { ingressEnv } from './config.js';
import { startIngress } from './start.js';

/** `node apps/ingress/dist/main.js`: exactly one ingress process. */
await runStandalone({
  app: 'ingress',
  env: ingressEnv,
  start: (config, logger) => startIngress({ config, logger, addon }),
});
