export * from './services.js';
export * from './wait.js';
export * from './redis-server.js';
