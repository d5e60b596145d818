import { runStandalone } from '@cap/service';
import { ingressEnv } from './config.js';
import { startIngress } from './start.js';

/** `node apps/ingress/dist/main.js`: exactly one ingress process. */
await runStandalone({ app: 'ingress', env: ingressEnv, start: (config, logger) => startIngress({ config, logger }) });
