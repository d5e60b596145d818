export * from './services.js';
export * from './wait.js';
export * from './redis-server.js';
export * from './tcp-proxy.js';
export * from './processes.js';
export * from './hostile-tokens.js';
export * from './pgbouncer.js';
export * from './sentinel.js';
