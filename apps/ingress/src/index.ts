export { ingressEnv, ingressVars, type IngressConfig } from './config.js';
export { startIngress, type RunningIngress, type StartIngressOptions } from './start.js';
export { ADMIN_CSRF_HEADER } from './routes/admin.js';
export { prepareManifest } from './routes/manifest.js';
