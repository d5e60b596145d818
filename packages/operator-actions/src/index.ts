export * from './api-calls.js';
export * from './dead-letters.js';
export * from './forwarding.js';
export * from './bootstrap.js';
export * from './installations.js';
export * from './queues.js';
