export * from './shutdown.js';
export * from './ops.js';
export * from './ops-server.js';
export * from './startup.js';
export * from './embedded-lock.js';
export * from './standalone.js';
export * from './queue-metrics.js';
export * from './banner.js';
